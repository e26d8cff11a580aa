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

#include "common/proc.h"
#include "common/util.h"

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
 * cap - 1 bytes) into out, through common/proc.h. SB_TOOL_RAN sets *exit_code. A tool that
 * runs past timeout_s is killed with its process group: a provenance record is not worth a
 * hung run. */
sb_tool_result sb_prov_tool_run(const char *const argv[], const char *extra_env, double timeout_s,
                                char *out, size_t cap, int *exit_code, char *why, size_t why_len)
{
    out[0] = '\0';
    /* A process group of its own, so that a timeout kills what the tool started too (a
     * wrapper script's children would otherwise live on). */
    sb_proc_spec spec = {.argv = (char *const *)argv, .extra_env = extra_env, .in = SB_IO_NULL,
                         .out = SB_IO_PIPE, .err = SB_IO_NULL, .new_group = 1};
    sb_proc p;
    char err[256];
    sb_err rc = sb_proc_spawn(&p, &spec, err, sizeof err);
    if (rc != SB_OK) {
        sb_prov_fmt(why, why_len, "%s", err);
        return p.pid < 0 && strstr(err, "not found") ? SB_TOOL_MISSING : SB_TOOL_FAILED;
    }
    sb_proc_wait_opts w = {.deadline_ns = sb_now_ns() + (uint64_t)(timeout_s * 1e9),
                           .term_sig = SIGKILL, .out = out, .cap = cap};
    sb_proc_end end = sb_proc_wait(&p, &w);
    if (end == SB_PROC_TIMED_OUT) {
        sb_prov_fmt(why, why_len, "%s did not finish in %.0f s", argv[0], timeout_s);
        return SB_TOOL_FAILED;
    }
    if (p.status == -1) {
        sb_prov_fmt(why, why_len, "%s: lost track of it (wait4 failed)", argv[0]);
        return SB_TOOL_FAILED;
    }
    if (!WIFEXITED(p.status)) {
        sb_prov_fmt(why, why_len, "%s died of signal %d", argv[0], WTERMSIG(p.status));
        return SB_TOOL_FAILED;
    }
    *exit_code = WEXITSTATUS(p.status);
    char *t = sb_trim(out);
    memmove(out, t, strlen(t) + 1);
    /* posix_spawn reports a failed exec as ENOENT above, except under qemu-user, whose
     * emulated clone cannot hand the error back: the child exits 127, as a shell does for a
     * command it cannot find. */
    if (*exit_code == 127 && !out[0]) {
        sb_prov_fmt(why, why_len, "%s not found (exit 127, nothing printed)", argv[0]);
        return SB_TOOL_MISSING;
    }
    return SB_TOOL_RAN;
}
