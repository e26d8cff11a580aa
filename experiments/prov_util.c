/* The manifest's shared helpers (experiments/prov.h): the document's one rule, small file
 * readers, and a runner for external tools that costs a null and a reason, never the run. */
#include "experiments/prov.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <time.h>

#include "common/util.h"

extern char **environ;

/* ---- Small helpers ----------------------------------------------------------------------------- */

/* The document's one rule in one place: a value, or null with "<key>_why" beside it. */
void sb_prov_put(json_t *obj, const char *key, json_t *val, const char *why)
{
    if (val) {
        json_object_set_new(obj, key, val);
        return;
    }
    char why_key[128];
    snprintf(why_key, sizeof why_key, "%s_why", key);
    json_object_set_new(obj, key, json_null());
    json_object_set_new(obj, why_key, json_string(why && *why ? why : "unknown"));
}

/* A string fact. jansson refuses invalid UTF-8 (a config in Latin-1, a corrupt sysfs file):
 * that is recorded as such rather than dropped. */
void sb_prov_put_str(json_t *obj, const char *key, const char *s, const char *why)
{
    if (!s) {
        sb_prov_put(obj, key, NULL, why);
        return;
    }
    json_t *v = json_string(s);
    sb_prov_put(obj, key, v, "not valid UTF-8 text");
}

void sb_prov_put_bool(json_t *obj, const char *key, int known, int value, const char *why)
{
    sb_prov_put(obj, key, known ? json_boolean(value) : NULL, why);
}

void sb_prov_fmt(char *buf, size_t cap, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, cap, f, ap);
    va_end(ap);
}

/* Strip surrounding white space, and the trailing NULs that device-tree strings carry. */
/* A small file, whole and NUL-terminated. procfs and sysfs report a size of 0, so the file is
 * read until EOF rather than sized with fstat. Device-tree strings end in NUL, which becomes
 * the end of the C string, as wanted. NULL with errno set on failure. */
char *sb_prov_slurp(const char *path, size_t max)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        errno = ENOMEM;
        return NULL;
    }
    for (;;) {
        if (len + 1 == cap) {
            if (cap >= max)
                break;
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                close(fd);
                errno = ENOMEM;
                return NULL;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            free(buf);
            close(fd);
            errno = e;
            return NULL;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    return buf;
}

/* The trimmed first line of a small file, or NULL with why filled in. */
char *sb_prov_read_line(const char *path, char *why, size_t why_len)
{
    char *text = sb_prov_slurp(path, 1 << 16);
    if (!text) {
        sb_prov_fmt(why, why_len, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    char *nl = strchr(text, '\n');
    if (nl)
        *nl = '\0';
    char *t = sb_trim(text);
    memmove(text, t, strlen(t) + 1);
    return text;
}

json_t *sb_prov_int_or_null(const char *text)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text)
        return NULL;
    return json_integer(v);
}

/* ---- External tools --------------------------------------------------------------------------- */


/* Run argv[0] (found in PATH) with stdin and stderr on /dev/null, its stdout (trimmed, at most
 * cap - 1 bytes) into out. SB_TOOL_RAN sets *exit_code. A tool that runs past timeout_s is
 * killed: a provenance record is not worth a hung run. posix_spawn rather than fork because
 * the caller may already have threads (Paho's) and the child must do nothing but exec. */
sb_tool_result sb_prov_tool_run(const char *const argv[], const char *extra_env, double timeout_s,
                            char *out, size_t cap, int *exit_code, char *why, size_t why_len)
{
    sb_tool_result result = SB_TOOL_FAILED;
    int fds[2] = {-1, -1};
    char **envp = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int fa_ready = 0, attr_ready = 0;
    pid_t pid = -1;
    size_t len = 0;

    out[0] = '\0';
    if (pipe2(fds, O_CLOEXEC) != 0) {
        sb_prov_fmt(why, why_len, "pipe: %s", strerror(errno));
        goto exit;
    }
    size_t n_env = 0;
    while (environ && environ[n_env])
        n_env++;
    envp = calloc(n_env + 2, sizeof *envp);
    if (!envp) {
        sb_prov_fmt(why, why_len, "out of memory");
        goto exit;
    }
    for (size_t i = 0; i < n_env; i++)
        envp[i] = environ[i];
    if (extra_env)
        envp[n_env] = (char *)extra_env;

    if (posix_spawn_file_actions_init(&fa) != 0) {
        sb_prov_fmt(why, why_len, "posix_spawn_file_actions_init failed");
        goto exit;
    }
    fa_ready = 1;
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    /* A process group of its own, so that a timeout kills what the tool started too (a
     * wrapper script's children would otherwise live on). */
    if (posix_spawnattr_init(&attr) != 0) {
        sb_prov_fmt(why, why_len, "posix_spawnattr_init failed");
        goto exit;
    }
    attr_ready = 1;
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    int rc = posix_spawnp(&pid, argv[0], &fa, &attr, (char *const *)argv, envp);
    close(fds[1]);
    fds[1] = -1;
    if (rc != 0) {
        pid = -1;
        result = rc == ENOENT ? SB_TOOL_MISSING : SB_TOOL_FAILED;
        sb_prov_fmt(why, why_len, "%s %s", argv[0], rc == ENOENT ? "not found" : strerror(rc));
        goto exit;
    }

    uint64_t deadline = sb_now_ns() + (uint64_t)(timeout_s * 1e9);
    int timed_out = 0;
    for (;;) {
        uint64_t now = sb_now_ns();
        if (now >= deadline) {
            timed_out = 1;
            break;
        }
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        int ms = (int)((deadline - now) / 1000000u) + 1;
        int pr = poll(&p, 1, ms);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            continue; /* the deadline check above ends the loop */
        char chunk[512];
        ssize_t n = read(fds[0], chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        /* Keep reading past cap so that a chatty tool never blocks on a full pipe. */
        size_t keep = cap - 1 - len < (size_t)n ? cap - 1 - len : (size_t)n;
        memcpy(out + len, chunk, keep);
        len += keep;
    }
    out[len] = '\0';
    if (timed_out)
        kill(-pid, SIGKILL);
    int status = 0;
    pid_t w;
    do
        w = waitpid(pid, &status, 0);
    while (w < 0 && errno == EINTR);
    if (w < 0) {
        sb_prov_fmt(why, why_len, "%s: waitpid: %s", argv[0], strerror(errno));
        goto exit;
    }
    if (timed_out) {
        sb_prov_fmt(why, why_len, "%s did not finish in %.0f s", argv[0], timeout_s);
        goto exit;
    }
    if (!WIFEXITED(status)) {
        sb_prov_fmt(why, why_len, "%s died of signal %d", argv[0], WTERMSIG(status));
        goto exit;
    }
    *exit_code = WEXITSTATUS(status);
    char *t = sb_trim(out);
    memmove(out, t, strlen(t) + 1);
    result = SB_TOOL_RAN;
    /* posix_spawn reports a failed exec as ENOENT above, except under qemu-user, whose
     * emulated clone cannot hand the error back: the child exits 127, as a shell does for a
     * command it cannot find. */
    if (*exit_code == 127 && !out[0]) {
        result = SB_TOOL_MISSING;
        sb_prov_fmt(why, why_len, "%s not found (exit 127, nothing printed)", argv[0]);
    }

exit:
    if (fa_ready)
        posix_spawn_file_actions_destroy(&fa);
    if (attr_ready)
        posix_spawnattr_destroy(&attr);
    if (fds[0] >= 0)
        close(fds[0]);
    if (fds[1] >= 0)
        close(fds[1]);
    free(envp);
    return result;
}
