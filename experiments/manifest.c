/* A run's provenance (experiments/manifest.h): gathers, at the start of a run, everything a
 * reviewer needs to decide whether two runs can be compared, and records the end.
 *
 * Leans on jansson for the document, on the first registered cipher backend for SHA-256, on
 * procfs and sysfs for the machine, and on a few external tools when they exist (git,
 * dpkg-query, systemd-detect-virt, vcgencmd), run with posix_spawn, stderr silenced and a time
 * limit, so that a missing or hanging tool costs a null and a reason, never the run.
 *
 * The one rule of the document: every field is present. A fact that cannot be known is null,
 * and a sibling "<field>_why" says why. Nothing is filled in by assumption. */
#include "experiments/manifest.h"

#include <ctype.h>
#include <link.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#if defined(__aarch64__) || defined(__arm__)
#include <sys/auxv.h>
#endif
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cbor/configuration.h>
#include <csv.h>

#include "build_info.h"
#include "ciphers/cipher.h"
#include "common/util.h"
#include "experiments/counters.h"
#include "transport/broker.h"
#include "transport/mqtt.h"

extern char **environ;

#define MANIFEST_SCHEMA 1
#define TOOL_TIMEOUT_S 5.0
/* git describe --dirty stats the whole tree; a large checkout on an SD card is slow. */
#define GIT_TIMEOUT_S 20.0

/* ---- What this binary was built for (compile time) ----------------------------------------- */

#define SB_STR_(x) #x
#define SB_STR(x) SB_STR_(x)

#if defined(__x86_64__)
#define BUILD_ARCH "x86_64"
#elif defined(__aarch64__)
#define BUILD_ARCH "aarch64"
#elif defined(__arm__) && defined(__ARM_ARCH)
#define BUILD_ARCH "armv" SB_STR(__ARM_ARCH)
#elif defined(__i386__)
#define BUILD_ARCH "i386"
#else
#define BUILD_ARCH NULL
#endif

#if defined(__SANITIZE_ADDRESS__)
#define BUILD_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BUILD_SANITIZED 1
#endif
#endif
#ifndef BUILD_SANITIZED
#define BUILD_SANITIZED 0
#endif

#if defined(__OPTIMIZE__)
#define BUILD_OPTIMIZED 1
#else
#define BUILD_OPTIMIZED 0
#endif

/* ---- Small helpers ----------------------------------------------------------------------------- */

/* The document's one rule in one place: a value, or null with "<key>_why" beside it. */
static void put(json_t *obj, const char *key, json_t *val, const char *why)
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
static void put_str(json_t *obj, const char *key, const char *s, const char *why)
{
    if (!s) {
        put(obj, key, NULL, why);
        return;
    }
    json_t *v = json_string(s);
    put(obj, key, v, "not valid UTF-8 text");
}

static void put_bool(json_t *obj, const char *key, int known, int value, const char *why)
{
    put(obj, key, known ? json_boolean(value) : NULL, why);
}

static void fmt(char *buf, size_t cap, const char *f, ...) __attribute__((format(printf, 3, 4)));
static void fmt(char *buf, size_t cap, const char *f, ...)
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
static char *slurp(const char *path, size_t max)
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
static char *read_line(const char *path, char *why, size_t why_len)
{
    char *text = slurp(path, 1 << 16);
    if (!text) {
        fmt(why, why_len, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    char *nl = strchr(text, '\n');
    if (nl)
        *nl = '\0';
    char *t = sb_trim(text);
    memmove(text, t, strlen(t) + 1);
    return text;
}

static json_t *int_or_null(const char *text)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text)
        return NULL;
    return json_integer(v);
}

/* ---- External tools --------------------------------------------------------------------------- */

typedef enum tool_result { TOOL_RAN, TOOL_MISSING, TOOL_FAILED } tool_result;

/* Run argv[0] (found in PATH) with stdin and stderr on /dev/null, its stdout (trimmed, at most
 * cap - 1 bytes) into out. TOOL_RAN sets *exit_code. A tool that runs past timeout_s is
 * killed: a provenance record is not worth a hung run. posix_spawn rather than fork because
 * the caller may already have threads (Paho's) and the child must do nothing but exec. */
static tool_result tool_run(const char *const argv[], const char *extra_env, double timeout_s,
                            char *out, size_t cap, int *exit_code, char *why, size_t why_len)
{
    tool_result result = TOOL_FAILED;
    int fds[2] = {-1, -1};
    char **envp = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int fa_ready = 0, attr_ready = 0;
    pid_t pid = -1;
    size_t len = 0;

    out[0] = '\0';
    if (pipe2(fds, O_CLOEXEC) != 0) {
        fmt(why, why_len, "pipe: %s", strerror(errno));
        goto exit;
    }
    size_t n_env = 0;
    while (environ && environ[n_env])
        n_env++;
    envp = calloc(n_env + 2, sizeof *envp);
    if (!envp) {
        fmt(why, why_len, "out of memory");
        goto exit;
    }
    for (size_t i = 0; i < n_env; i++)
        envp[i] = environ[i];
    if (extra_env)
        envp[n_env] = (char *)extra_env;

    if (posix_spawn_file_actions_init(&fa) != 0) {
        fmt(why, why_len, "posix_spawn_file_actions_init failed");
        goto exit;
    }
    fa_ready = 1;
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    /* A process group of its own, so that a timeout kills what the tool started too (a
     * wrapper script's children would otherwise live on). */
    if (posix_spawnattr_init(&attr) != 0) {
        fmt(why, why_len, "posix_spawnattr_init failed");
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
        result = rc == ENOENT ? TOOL_MISSING : TOOL_FAILED;
        fmt(why, why_len, "%s %s", argv[0], rc == ENOENT ? "not found" : strerror(rc));
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
        fmt(why, why_len, "%s: waitpid: %s", argv[0], strerror(errno));
        goto exit;
    }
    if (timed_out) {
        fmt(why, why_len, "%s did not finish in %.0f s", argv[0], timeout_s);
        goto exit;
    }
    if (!WIFEXITED(status)) {
        fmt(why, why_len, "%s died of signal %d", argv[0], WTERMSIG(status));
        goto exit;
    }
    *exit_code = WEXITSTATUS(status);
    char *t = sb_trim(out);
    memmove(out, t, strlen(t) + 1);
    result = TOOL_RAN;
    /* posix_spawn reports a failed exec as ENOENT above, except under qemu-user, whose
     * emulated clone cannot hand the error back: the child exits 127, as a shell does for a
     * command it cannot find. */
    if (*exit_code == 127 && !out[0]) {
        result = TOOL_MISSING;
        fmt(why, why_len, "%s not found (exit 127, nothing printed)", argv[0]);
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

/* ---- the Debian package behind a loaded file ------------------------------------------------ */

/* What a library reports of itself is not always what is installed: Paho 1.3.12 (Debian's
 * 1.3.12-1) still says 1.3.11. So each library entry also names the Debian package that holds
 * the very file this process loaded, and that package's version: dpkg-query -S on the file,
 * then -W on the package it names. Under qemu-user with a private root (QEMU_LD_PREFIX, made by
 * scripts/install-deps.sh where dpkg cannot hold the target's libraries), the root's own file
 * list (.files) and package list (.packages) answer instead, since the host's dpkg knows none
 * of its files. */

typedef struct loaded_lookup {
    const char *prefix; /* "libpaho-mqtt3as.so" */
    char path[PATH_MAX];
} loaded_lookup;

static int find_loaded_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    loaded_lookup *l = data;
    const char *name = info->dlpi_name;
    if (!name || !*name)
        return 0;
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    if (strncmp(base, l->prefix, strlen(l->prefix)) != 0)
        return 0;
    fmt(l->path, sizeof l->path, "%s", name);
    return 1;
}

/* The path, as this process loaded it, of the shared object whose file name starts with
 * prefix; 0 when none is loaded (a static link, or a library this build does not use). */
static int loaded_file(const char *prefix, char *path, size_t path_len)
{
    loaded_lookup l = {.prefix = prefix, .path = ""};
    if (!dl_iterate_phdr(find_loaded_cb, &l))
        return 0;
    fmt(path, path_len, "%s", l.path);
    return 1;
}

/* The private root qemu-user runs this process in, or NULL (native, or qemu with the host's /).
 * Only qemu reads QEMU_LD_PREFIX; the caller also requires the loaded file to exist there. */
static const char *qemu_private_root(void)
{
    const char *root = getenv("QEMU_LD_PREFIX");
    if (!root || !*root || strcmp(root, "/") == 0)
        return NULL;
    return root;
}

/* "pkg:arch version" of the private root's .packages for pkg:arch; 1 when found. */
static int sysroot_package(const char *root, const char *file, char *pkg, size_t pkg_len,
                           char *version, size_t version_len, char *why, size_t why_len)
{
    char list[PATH_MAX], line[PATH_MAX + 128];
    fmt(list, sizeof list, "%s/.files", root);
    FILE *f = fopen(list, "r");
    if (!f) {
        fmt(why, why_len,
            "%s has no file list (.files): made by an older scripts/install-deps.sh; remove the "
            "root and run it again",
            root);
        return 0;
    }
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        *tab = '\0';
        char *path = sb_trim(tab + 1);
        if (strcmp(path, file) == 0) {
            fmt(pkg, pkg_len, "%s", line);
            found = 1;
        }
    }
    fclose(f);
    if (!found) {
        fmt(why, why_len, "%s is in no package of the private root %s", file, root);
        return 0;
    }
    fmt(list, sizeof list, "%s/.packages", root);
    f = fopen(list, "r");
    found = 0;
    size_t n = strlen(pkg);
    while (f && !found && fgets(line, sizeof line, f)) {
        if (strncmp(line, pkg, n) == 0 && line[n] == ' ') {
            fmt(version, version_len, "%s", sb_trim(line + n + 1));
            found = 1;
        }
    }
    if (f)
        fclose(f);
    if (!found)
        fmt(why, why_len, "%s is not in %s", pkg, list);
    return found;
}

/* dpkg-query -S FILE: "pkg[:arch][, pkg2]: FILE" (a diversion line starts "diversion by"). */
static int dpkg_owner(const char *file, char *pkg, size_t pkg_len, char *why, size_t why_len)
{
    char out[1024];
    const char *argv[] = {"dpkg-query", "-S", file, NULL};
    int code = 0;
    tool_result r = tool_run(argv, NULL, TOOL_TIMEOUT_S, out, sizeof out, &code, why, why_len);
    if (r == TOOL_MISSING) {
        fmt(why, why_len, "dpkg-query not found (not a Debian system)");
        return 0;
    }
    if (r != TOOL_RAN)
        return 0;
    for (char *line = out; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        char *sep = strstr(line, ": /");
        if (code == 0 && sep && strncmp(line, "diversion by", 12) != 0) {
            *sep = '\0';
            char *comma = strchr(line, ',');
            if (comma)
                *comma = '\0';
            fmt(pkg, pkg_len, "%s", sb_trim(line));
            return 1;
        }
        line = nl ? nl + 1 : NULL;
    }
    fmt(why, why_len, "no installed package holds %s (dpkg-query -S exit %d)", file, code);
    return 0;
}

/* Debian 12 merged /lib into /usr/lib, but dpkg records each file under the path its package
 * ships, so the loader's /lib/... may be known only as /usr/lib/... (or the reverse). */
static int dpkg_owner_any(const char *file, char *pkg, size_t pkg_len, char *found_as,
                          size_t found_len, char *why, size_t why_len)
{
    char cands[4][PATH_MAX];
    size_t n = 0;
    fmt(cands[n++], sizeof cands[0], "%s", file);
    char real[PATH_MAX];
    if (realpath(file, real) && strcmp(real, file) != 0)
        fmt(cands[n++], sizeof cands[0], "%s", real);
    size_t base = n;
    for (size_t i = 0; i < base && n < 4; i++) {
        if (strncmp(cands[i], "/usr/", 5) == 0)
            fmt(cands[n++], sizeof cands[0], "%s", cands[i] + 4);
        else if (cands[i][0] == '/' && n < 4)
            fmt(cands[n++], sizeof cands[0], "/usr%s", cands[i]);
    }
    char first_why[256] = "";
    for (size_t i = 0; i < n; i++) {
        if (dpkg_owner(cands[i], pkg, pkg_len, why, why_len)) {
            fmt(found_as, found_len, "%s", cands[i]);
            return 1;
        }
        if (!first_why[0])
            fmt(first_why, sizeof first_why, "%s", why);
    }
    fmt(why, why_len, "%s", first_why);
    return 0;
}

/* The Debian package behind a file this process uses, as a "debian_package" object
 * ({name, version, file, source}), or NULL with why. */
static json_t *debian_package_of(const char *file, char *why, size_t why_len)
{
    char pkg[256] = "", version[128] = "", found_as[PATH_MAX] = "";
    json_t *d = NULL;
    const char *root = qemu_private_root();
    char in_root[PATH_MAX + 8];
    fmt(in_root, sizeof in_root, "%s%s", root ? root : "", file);
    if (root && access(in_root, F_OK) == 0) {
        if (!sysroot_package(root, file, pkg, sizeof pkg, version, sizeof version, why, why_len))
            return NULL;
        d = json_object();
        json_object_set_new(d, "name", json_string(pkg));
        json_object_set_new(d, "version", json_string(version));
        json_object_set_new(d, "file", json_string(file));
        json_object_set_new(d, "root", json_string(root));
        json_object_set_new(d, "source",
                            json_string("run time: the private root's .files and .packages "
                                        "(QEMU_LD_PREFIX), for the file this process loaded"));
        return d;
    }
    if (!dpkg_owner_any(file, pkg, sizeof pkg, found_as, sizeof found_as, why, why_len))
        return NULL;
    char out[256];
    const char *argv[] = {"dpkg-query", "-W", "-f=${db:Status-Abbrev}|${Version}", pkg, NULL};
    int code = 0;
    if (tool_run(argv, NULL, TOOL_TIMEOUT_S, out, sizeof out, &code, why, why_len) != TOOL_RAN)
        return NULL;
    char *bar = strchr(out, '|');
    if (code != 0 || !bar || strncmp(out, "ii", 2) != 0 || !bar[1]) {
        fmt(why, why_len, "package %s (holding %s) is not installed (dpkg-query -W exit %d)",
            pkg, found_as, code);
        return NULL;
    }
    d = json_object();
    json_object_set_new(d, "name", json_string(pkg));
    json_object_set_new(d, "version", json_string(bar + 1));
    json_object_set_new(d, "file", json_string(found_as));
    json_object_set_new(d, "source",
                        json_string("run time: dpkg-query -S on the file this process loaded, "
                                    "then dpkg-query -W on its package"));
    return d;
}

/* Adds "debian_package" (or "debian_package_why") to a library entry: the package holding the
 * loaded shared object whose file name starts with soname_prefix. */
static void put_loaded_package(json_t *e, const char *soname_prefix)
{
    char file[PATH_MAX], why[512] = "";
    json_t *d = NULL;
    if (!loaded_file(soname_prefix, file, sizeof file))
        fmt(why, sizeof why, "no %s* is loaded in this process", soname_prefix);
    else
        d = debian_package_of(file, why, sizeof why);
    put(e, "debian_package", d, why);
}

/* The same for an executable (the broker), found as the runner would start it. */
static void put_program_package(json_t *e, const char *program)
{
    char file[PATH_MAX] = "", why[512] = "";
    json_t *d = NULL;
    if (strchr(program, '/')) {
        fmt(file, sizeof file, "%s", program);
    } else {
        const char *path = getenv("PATH");
        char *copy = strdup(path ? path : "/usr/bin:/bin");
        char *save = NULL;
        for (char *dir = copy ? strtok_r(copy, ":", &save) : NULL; dir && !file[0];
             dir = strtok_r(NULL, ":", &save)) {
            char cand[PATH_MAX + 300];
            fmt(cand, sizeof cand, "%s/%s", dir, program);
            if (access(cand, X_OK) == 0)
                fmt(file, sizeof file, "%s", cand);
        }
        free(copy);
    }
    if (!file[0])
        fmt(why, sizeof why, "%s not found on PATH", program);
    else
        d = debian_package_of(file, why, sizeof why);
    put(e, "debian_package", d, why);
}

/* ---- run ------------------------------------------------------------------------------------ */

void sb_utc_iso(char *out, size_t cap)
{
    if (!out || cap == 0)
        return;
    out[0] = '\0';
    time_t now = time(NULL);
    struct tm tm;
    if (!gmtime_r(&now, &tm) || strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        out[0] = '\0';
}

static json_t *run_collect(const sb_manifest_inputs *in)
{
    json_t *run = json_object();
    char now[32];
    sb_utc_iso(now, sizeof now);
    put_str(run, "run_id", in->run_id, "not given by the caller");
    put_str(run, "command_line", in->command_line, "not given by the caller");
    put_str(run, "started_utc", now[0] ? now : NULL, "the system clock could not be read");
    /* wall_s comes from this, not from the two UTC stamps, so that a clock step during the run
     * (NTP, a Raspberry Pi without an RTC setting its time after boot) does not falsify it. */
    json_object_set_new(run, "monotonic_start_ns", json_integer((json_int_t)sb_now_ns()));
    const char *pending = "the run has not finished (sb_manifest_finish not called): still "
                          "running, or it died";
    put(run, "finished_utc", NULL, pending);
    put(run, "wall_s", NULL, pending);
    json_object_set_new(run, "status", json_string("running"));
    put(run, "cells_done", NULL, pending);
    put(run, "cells_failed", NULL, pending);
    return run;
}

void sb_manifest_finish(json_t *m, const char *status, size_t cells_done, size_t cells_failed)
{
    json_t *run = m ? json_object_get(m, "run") : NULL;
    if (!json_is_object(run))
        return;
    char now[32];
    sb_utc_iso(now, sizeof now);
    static const char *const done[] = {"finished_utc", "wall_s", "cells_done", "cells_failed"};
    for (size_t i = 0; i < sizeof done / sizeof *done; i++) {
        char why_key[64];
        fmt(why_key, sizeof why_key, "%s_why", done[i]);
        json_object_del(run, why_key);
    }
    put_str(run, "finished_utc", now[0] ? now : NULL, "the system clock could not be read");
    json_t *start = json_object_get(run, "monotonic_start_ns");
    if (json_is_integer(start)) {
        uint64_t t0 = (uint64_t)json_integer_value(start);
        json_object_set_new(run, "wall_s", json_real((double)(sb_now_ns() - t0) / 1e9));
    } else {
        put(run, "wall_s", NULL, "monotonic_start_ns missing from the manifest");
    }
    json_object_set_new(run, "status", json_string(status ? status : "failed"));
    json_object_set_new(run, "cells_done", json_integer((json_int_t)cells_done));
    json_object_set_new(run, "cells_failed", json_integer((json_int_t)cells_failed));
}

/* ---- build ---------------------------------------------------------------------------------- */

static json_t *build_collect(void)
{
    json_t *b = json_object();
    char why[256], out[256], cwd[PATH_MAX];
    json_object_set_new(b, "git_describe", json_string(SB_GIT_DESCRIBE));

    /* Run time: the checkout the run is started from, which may have moved on since the
     * build. GIT_OPTIONAL_LOCKS=0 keeps git from rewriting the index of a tree that others
     * may be working in. */
    const char *cwd_p = getcwd(cwd, sizeof cwd);
    put_str(b, "run_cwd", cwd_p, "getcwd failed");
    const char *argv[] = {"git", "describe", "--always", "--dirty", "--tags", NULL};
    int code = 0;
    json_t *run_describe = NULL;
    tool_result r = tool_run(argv, "GIT_OPTIONAL_LOCKS=0", GIT_TIMEOUT_S, out, sizeof out, &code,
                             why, sizeof why);
    if (r == TOOL_MISSING)
        fmt(why, sizeof why, "git not found");
    else if (r == TOOL_RAN && (code != 0 || !out[0]))
        fmt(why, sizeof why,
            "git describe failed (exit %d): the working directory is not a git checkout, or one "
            "git refuses to read (safe.directory)", code);
    else if (r == TOOL_RAN)
        run_describe = json_string(out);
    put(b, "git_describe_run", run_describe, why);
    if (run_describe) {
        int agree = strcmp(SB_GIT_DESCRIBE, out) == 0;
        json_object_set_new(b, "git_agree", json_boolean(agree));
        /* "-dirty" on both sides names the same commit, not the same sources. */
        if (agree && strstr(out, "-dirty"))
            json_object_set_new(b, "git_agree_note",
                                json_string("both dirty: the same commit with uncommitted "
                                            "changes, which may differ"));
    } else {
        put(b, "git_agree", NULL, "no run-time git describe to compare with");
    }

    json_object_set_new(b, "compiler", json_string(SB_BUILD_CC));
    json_object_set_new(b, "cflags", json_string(SB_BUILD_CFLAGS));
    put_str(b, "arch", BUILD_ARCH, "not one of x86_64, aarch64, arm, i386");
    json_object_set_new(b, "type", json_string(BUILD_SANITIZED ? "sanitize" : "native"));
    json_object_set_new(b, "optimized", json_boolean(BUILD_OPTIMIZED));
    return b;
}

/* ---- libraries ---------------------------------------------------------------------------- */

static json_t *lib_entry(const char *library, const char *version, const char *source,
                         const char *why)
{
    json_t *e = json_object();
    json_object_set_new(e, "library", json_string(library));
    put_str(e, "version", version, why);
    json_object_set_new(e, "source", json_string(source));
    return e;
}

/* A backend's shared object, by the backend's registry name: the file the loader mapped. */
static const char *backend_soname(const char *backend)
{
    if (strcmp(backend, "openssl") == 0)
        return "libcrypto.so";
    if (strcmp(backend, "sodium") == 0)
        return "libsodium.so";
    if (strcmp(backend, "mbedtls") == 0)
        return "libmbedcrypto.so";
    return NULL;
}

/* Every entry: the library, the version it reports (or its headers, or nothing, as "source"
 * says), and the Debian package holding the file this process loaded (debian_package). */
static json_t *lib_entry_loaded(const char *library, const char *version, const char *source,
                                const char *why, const char *soname_prefix)
{
    json_t *e = lib_entry(library, version, source, why);
    if (soname_prefix)
        put_loaded_package(e, soname_prefix);
    else
        put(e, "debian_package", NULL, "no shared object is known for it");
    return e;
}

static json_t *libraries_collect(const sb_manifest_inputs *in)
{
    json_t *libs = json_object();
    json_t *backends = json_object();
    for (const sb_backend *const *be = sb_backends; *be; be++) {
        const char *v = (*be)->version ? (*be)->version() : NULL;
        json_object_set_new(backends, (*be)->name,
                            lib_entry_loaded((*be)->library, v && *v ? v : NULL,
                                             "run time: the loaded library's own version call",
                                             "the backend has no version()",
                                             backend_soname((*be)->name)));
    }
    json_object_set_new(libs, "backends", backends);

    const char *paho = sb_mqtt_version();
    json_object_set_new(libs, "paho",
                        lib_entry_loaded("Paho MQTT C",
                                         paho && strcmp(paho, "unknown") ? paho : NULL,
                                         "run time: MQTTAsync_getVersionInfo (upstream's 1.3.12 "
                                         "release still reports 1.3.11: see debian_package)",
                                         "the loaded Paho library reported no version",
                                         "libpaho-mqtt3as.so"));

    const char *mq_why = in->broker_private ? "the caller did not give the private broker's version"
                                            : "external broker";
    json_t *mq = lib_entry("Mosquitto", in->mosquitto_version, "given by the runner", mq_why);
    if (in->broker_private)
        put_program_package(mq, sb_broker_binary());
    else
        put(mq, "debian_package", NULL, "external broker: its machine's packages are not known here");
    json_object_set_new(libs, "mosquitto", mq);

    const char *papi = sb_counters_version();
    json_object_set_new(libs, "papi",
                        lib_entry_loaded("PAPI",
                                         papi && *papi && strcmp(papi, "unavailable") ? papi : NULL,
                                         "run time: sb_counters_version (PAPI as loaded)",
                                         "PAPI could not be initialised (sb_counters_version: "
                                         "unavailable)",
                                         "libpapi.so"));

    /* jansson can say both: the runtime call exists since 2.13. */
    json_t *jansson = lib_entry_loaded("jansson", jansson_version_str(),
                                       "run time: jansson_version_str", NULL, "libjansson.so");
    json_object_set_new(jansson, "compile_time", json_string(JANSSON_VERSION));
    json_object_set_new(libs, "jansson", jansson);

    json_object_set_new(libs, "libcbor",
                        lib_entry_loaded("libcbor",
                                         SB_STR(CBOR_MAJOR_VERSION) "." SB_STR(
                                             CBOR_MINOR_VERSION) "." SB_STR(CBOR_PATCH_VERSION),
                                         "compile time: CBOR_MAJOR/MINOR/PATCH_VERSION", NULL,
                                         "libcbor.so"));
    json_object_set_new(libs, "libcsv",
                        lib_entry_loaded("libcsv", SB_STR(CSV_MAJOR) "." SB_STR(CSV_MINOR),
                                         "compile time: CSV_MAJOR.CSV_MINOR (no patch level in "
                                         "csv.h: see debian_package)",
                                         NULL, "libcsv.so"));
    /* Google Benchmark 1.7.1 and libinih have no version in their headers or API: the Debian
     * package of the loaded file is the only fact there is. */
    json_object_set_new(libs, "google_benchmark",
                        lib_entry_loaded("Google Benchmark", NULL, "none",
                                         "Google Benchmark has no version call or macro: see "
                                         "debian_package",
                                         "libbenchmark.so"));
    json_object_set_new(libs, "libinih",
                        lib_entry_loaded("libinih", NULL, "none",
                                         "libinih has no version call or macro: see "
                                         "debian_package",
                                         "libinih.so"));
    return libs;
}

/* ---- host: CPU ----------------------------------------------------------------------------- */

/* The value of the first "key : value" line of /proc/cpuinfo with this key, or NULL. */
static char *cpuinfo_field(const char *text, const char *key)
{
    size_t klen = strlen(key);
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (len > klen && strncmp(line, key, klen) == 0) {
            const char *p = line + klen;
            while (p < line + len && (*p == ' ' || *p == '\t'))
                p++;
            if (p < line + len && *p == ':') {
                p++;
                char *v = strndup(p, (size_t)(line + len - p));
                if (!v)
                    return NULL;
                char *t = sb_trim(v);
                memmove(v, t, strlen(t) + 1);
                return v;
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    return NULL;
}

static int has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
        if ((p == list || p[-1] == ' ' || p[-1] == '\t') &&
            (p[n] == '\0' || p[n] == ' ' || p[n] == '\t'))
            return 1;
    return 0;
}

/* The ARM cores a Raspberry Pi or a typical ARM server board carries; anything else is
 * recorded by its raw implementer and part numbers. */
static const char *arm_core_name(unsigned long implementer, unsigned long part)
{
    if (implementer != 0x41)
        return NULL;
    switch (part) {
    case 0xd03: return "ARM Cortex-A53";
    case 0xd08: return "ARM Cortex-A72";
    case 0xd0b: return "ARM Cortex-A76";
    default: return NULL;
    }
}

static void cpu_model(json_t *cpu, const char *info)
{
    char buf[160];
    char *impl = cpuinfo_field(info, "CPU implementer");
    char *part = cpuinfo_field(info, "CPU part");
    char *model = cpuinfo_field(info, "model name");
    if (impl && part) {
        /* ARM: the implementer/part pair is exact; 32-bit kernels' "model name" ("ARMv7
         * Processor rev 3 (v7l)") names only the architecture. */
        unsigned long i = strtoul(impl, NULL, 0), p = strtoul(part, NULL, 0);
        const char *name = arm_core_name(i, p);
        if (name)
            fmt(buf, sizeof buf, "%s", name);
        else
            fmt(buf, sizeof buf, "ARM CPU implementer %s part %s", impl, part);
        json_object_set_new(cpu, "model", json_string(buf));
        json_object_set_new(cpu, "model_source",
                            json_string("/proc/cpuinfo 'CPU implementer' and 'CPU part'"));
    } else if (model) {
        put_str(cpu, "model", model, NULL);
        json_object_set_new(cpu, "model_source", json_string("/proc/cpuinfo 'model name'"));
    } else {
        put(cpu, "model", NULL, "/proc/cpuinfo has neither 'model name' nor 'CPU implementer'");
        put(cpu, "model_source", NULL, "no model line to name");
    }
    put_str(cpu, "arm_implementer", impl, "no 'CPU implementer' line (not ARM)");
    put_str(cpu, "arm_part", part, "no 'CPU part' line (not ARM)");
    free(impl);
    free(part);
    free(model);

    char *hw = cpuinfo_field(info, "Hardware");
    char *board = cpuinfo_field(info, "Model");
    put_str(cpu, "hardware", hw, "no 'Hardware' line in /proc/cpuinfo");
    put_str(cpu, "board_model", board, "no 'Model' line in /proc/cpuinfo");
    free(hw);
    free(board);
}

/* Only the flags that decide which code path a cipher library takes, so that a reviewer sees at
 * a glance why AES-GCM is fast here and slow there. */
static void cpu_flags(json_t *cpu, const char *info)
{
    static const char *const x86[] = {"aes",  "pclmulqdq", "avx",    "avx2", "avx512f",
                                      "vaes", "vpclmulqdq", "sha_ni", "ssse3"};
    static const char *const arm[] = {"aes", "pmull", "sha2"};
    json_t *flags = json_object();
    char *line = cpuinfo_field(info, "flags");
    if (line) {
        for (size_t i = 0; i < sizeof x86 / sizeof *x86; i++)
            json_object_set_new(flags, x86[i], json_boolean(has_word(line, x86[i])));
        json_object_set_new(cpu, "flags_source",
                            json_string("/proc/cpuinfo 'flags' (first processor)"));
    } else if ((line = cpuinfo_field(info, "Features")) != NULL) {
        for (size_t i = 0; i < sizeof arm / sizeof *arm; i++)
            json_object_set_new(flags, arm[i], json_boolean(has_word(line, arm[i])));
        /* 32-bit kernels call Advanced SIMD "neon", 64-bit ones "asimd": the same unit. */
        json_object_set_new(flags, "neon_asimd",
                            json_boolean(has_word(line, "neon") || has_word(line, "asimd")));
        json_object_set_new(cpu, "flags_source",
                            json_string("/proc/cpuinfo 'Features' (first processor)"));
    } else {
        json_decref(flags);
        flags = NULL;
        put(cpu, "flags_source", NULL, "no flags line to name");
    }
    put(cpu, "crypto_flags", flags, "/proc/cpuinfo has neither a 'flags' nor a 'Features' line");
    free(line);
}

/* What the kernel tells this process it may use (getauxval), which is what OpenSSL's and
 * libsodium's ARM code paths test. Under qemu-user it is the CPU qemu emulates, and the only
 * source that says so: qemu passes the host's /proc/cpuinfo through. Bits from the kernel's
 * uapi asm/hwcap.h of each architecture. */
static void cpu_hwcap(json_t *cpu)
{
#if defined(__aarch64__) || defined(__arm__)
    unsigned long hw = getauxval(AT_HWCAP);
#if defined(__aarch64__)
    unsigned long c = hw; /* crypto bits in AT_HWCAP */
    int aes = 3, pmull = 4, sha2 = 6, simd = (int)(hw >> 1 & 1); /* HWCAP_ASIMD */
#else
    unsigned long c = getauxval(AT_HWCAP2); /* HWCAP2_AES, _PMULL, _SHA2 */
    int aes = 0, pmull = 1, sha2 = 3, simd = (int)(hw >> 12 & 1); /* HWCAP_NEON */
#endif
    json_t *f = json_object();
    json_object_set_new(f, "aes", json_boolean(c >> aes & 1));
    json_object_set_new(f, "pmull", json_boolean(c >> pmull & 1));
    json_object_set_new(f, "sha2", json_boolean(c >> sha2 & 1));
    json_object_set_new(f, "neon_asimd", json_boolean(simd));
    json_object_set_new(cpu, "hwcap", f);
    json_object_set_new(cpu, "hwcap_source",
                        json_string("getauxval(AT_HWCAP, AT_HWCAP2): what the kernel lets this "
                                    "process use"));
#else
    put(cpu, "hwcap", NULL, "not an ARM build: crypto_flags are the CPU's own");
    put(cpu, "hwcap_source", NULL, "not an ARM build");
#endif
}

static int cmp_cpu_paths(const void *a, const void *b)
{
    /* cpu10 after cpu9: compare the numbers, not the strings. */
    const char *pa = *(const char *const *)a, *pb = *(const char *const *)b;
    long na = strtol(strrchr(pa, 'u') + 1, NULL, 10), nb = strtol(strrchr(pb, 'u') + 1, NULL, 10);
    return (na > nb) - (na < nb);
}

static void put_khz(json_t *o, const char *key, const char *dir, const char *file)
{
    char path[PATH_MAX], why[PATH_MAX + 64];
    fmt(path, sizeof path, "%s/cpufreq/%s", dir, file);
    char *v = read_line(path, why, sizeof why);
    json_t *j = v ? int_or_null(v) : NULL;
    if (v && !j)
        fmt(why, sizeof why, "%s is not a number", path);
    put(o, key, j, why);
    free(v);
}

/* The governor decides whether a core races to its top frequency or creeps up to it: two runs
 * under "powersave" and "performance" measure different machines. */
static void cpufreq_collect(json_t *host)
{
    glob_t g;
    json_t *per_cpu = json_array(), *governors = json_array();
    int any = 0;
    if (glob("/sys/devices/system/cpu/cpu[0-9]*", GLOB_NOSORT, NULL, &g) == 0) {
        qsort(g.gl_pathv, g.gl_pathc, sizeof *g.gl_pathv, cmp_cpu_paths);
        for (size_t i = 0; i < g.gl_pathc; i++) {
            const char *dir = g.gl_pathv[i];
            char path[PATH_MAX], why[PATH_MAX + 64];
            fmt(path, sizeof path, "%s/cpufreq", dir);
            struct stat st;
            if (stat(path, &st) != 0)
                continue;
            any = 1;
            json_t *c = json_object();
            json_object_set_new(c, "cpu", json_integer(strtol(strrchr(dir, 'u') + 1, NULL, 10)));
            fmt(path, sizeof path, "%s/cpufreq/scaling_governor", dir);
            char *gov = read_line(path, why, sizeof why);
            put_str(c, "governor", gov, why);
            if (gov) {
                size_t k;
                for (k = 0; k < json_array_size(governors); k++)
                    if (strcmp(json_string_value(json_array_get(governors, k)), gov) == 0)
                        break;
                if (k == json_array_size(governors))
                    json_array_append_new(governors, json_string(gov));
            }
            free(gov);
            put_khz(c, "cur_khz", dir, "scaling_cur_freq");
            put_khz(c, "max_khz", dir, "cpuinfo_max_freq");
            put_khz(c, "scaling_max_khz", dir, "scaling_max_freq");
            json_array_append_new(per_cpu, c);
        }
        globfree(&g);
    }
    if (!any) {
        json_decref(per_cpu);
        json_decref(governors);
        put(host, "cpufreq", NULL, "no cpufreq (VM?)");
        return;
    }
    json_t *cf = json_object();
    json_object_set_new(cf, "governors", governors);
    json_object_set_new(cf, "per_cpu", per_cpu);
    json_object_set_new(host, "cpufreq", cf);
}

/* ---- host: virtualization and emulation ------------------------------------------------------ */

/* systemd-detect-virt prints "none" and exits 1 when it finds nothing: that is an answer. */
static void detect_virt(json_t *v, const char *key, const char *flag, int *vm_positive,
                        json_t *evidence)
{
    char out[128], why[256] = "";
    const char *argv[] = {"systemd-detect-virt", flag, NULL};
    int code = 0;
    tool_result r = tool_run(argv, NULL, TOOL_TIMEOUT_S, out, sizeof out, &code, why, sizeof why);
    if (r == TOOL_RAN && out[0] && (code == 0 || (code == 1 && strcmp(out, "none") == 0))) {
        json_object_set_new(v, key, json_string(out));
        if (vm_positive && strcmp(out, "none") != 0) {
            *vm_positive = 1;
            char e[160];
            fmt(e, sizeof e, "systemd-detect-virt --vm: %s", out);
            json_array_append_new(evidence, json_string(e));
        }
        if (vm_positive && strcmp(out, "none") == 0)
            *vm_positive = *vm_positive < 0 ? 0 : *vm_positive;
        return;
    }
    if (r == TOOL_MISSING)
        fmt(why, sizeof why, "systemd-detect-virt not found");
    else if (r == TOOL_RAN)
        fmt(why, sizeof why, "systemd-detect-virt %s failed (exit %d)", flag, code);
    put(v, key, NULL, why);
}

static void virtualization_collect(json_t *host, const char *cpuinfo)
{
    json_t *v = json_object(), *evidence = json_array();
    char why[PATH_MAX + 64];
    /* -1: no signal could be read; 0: every readable signal says bare metal; 1: a VM. */
    int vm = -1;

    char *flags = cpuinfo ? cpuinfo_field(cpuinfo, "flags") : NULL;
    if (flags) {
        int hv = has_word(flags, "hypervisor");
        json_object_set_new(v, "cpuinfo_hypervisor_flag", json_boolean(hv));
        if (hv) {
            vm = 1;
            json_array_append_new(evidence, json_string("cpuinfo 'hypervisor' flag"));
        } else if (vm < 0) {
            vm = 0;
        }
    } else {
        put(v, "cpuinfo_hypervisor_flag", NULL, "no 'flags' line in /proc/cpuinfo (not x86)");
    }
    free(flags);

    char *s = read_line("/sys/class/dmi/id/sys_vendor", why, sizeof why);
    put_str(v, "dmi_sys_vendor", s, why);
    free(s);
    s = read_line("/sys/class/dmi/id/product_name", why, sizeof why);
    put_str(v, "dmi_product_name", s, why);
    free(s);

    /* Firmware of ARM VMs (KVM, Xen) announces itself in the device tree. */
    struct stat st;
    if (stat("/proc/device-tree", &st) != 0) {
        put(v, "device_tree_hypervisor", NULL, "no /proc/device-tree (not a device-tree system)");
    } else {
        int hv = stat("/proc/device-tree/hypervisor", &st) == 0;
        json_object_set_new(v, "device_tree_hypervisor", json_boolean(hv));
        if (hv) {
            vm = 1;
            json_array_append_new(evidence, json_string("/proc/device-tree/hypervisor"));
        } else if (vm < 0) {
            vm = 0;
        }
    }

    detect_virt(v, "systemd_detect_virt_vm", "--vm", &vm, evidence);
    detect_virt(v, "systemd_detect_virt_container", "--container", NULL, NULL);

    put_bool(v, "vm", vm >= 0, vm == 1, "no signal could be read");
    json_object_set_new(v, "vm_evidence", evidence);
    json_object_set_new(host, "virtualization", v);
}

/* Do the build arch and the kernel's arch belong to one family that runs this binary natively?
 * A 32-bit ARM user land on a 64-bit kernel (Raspberry Pi OS) is native; so is i386 on x86_64.
 * -1 when the build arch is unknown. */
static int arch_native_on(const char *build, const char *kernel)
{
    if (!build)
        return -1;
    if (strcmp(build, "x86_64") == 0)
        return strcmp(kernel, "x86_64") == 0;
    if (strcmp(build, "i386") == 0)
        return strcmp(kernel, "x86_64") == 0 ||
               (kernel[0] == 'i' && strcmp(kernel + 2, "86") == 0);
    if (strcmp(build, "aarch64") == 0)
        return strcmp(kernel, "aarch64") == 0 || strcmp(kernel, "arm64") == 0;
    if (strncmp(build, "armv", 4) == 0)
        return strncmp(kernel, "arm", 3) == 0 || strcmp(kernel, "aarch64") == 0;
    return -1;
}

/* Are we run by qemu-user (or another user-mode translator) instead of the CPU?
 *
 * qemu-user hides itself: uname() reports the guest machine, and it answers open() and
 * readlink() of /proc/self/{exe,maps,auxv,cmdline,stat} with the guest's view. It recognises
 * those paths by their text only, so the same files reached relative to a directory descriptor
 * of /proc/self (readlinkat(fd, "exe")) come from the kernel: there, exe is the interpreter
 * (/usr/bin/qemu-aarch64, with binfmt_misc as well). A real exe that differs from the
 * apparent one is the sign. Second sign, for cross-architecture emulation:
 * /proc/sys/kernel/arch (Linux 6.1+) is not rewritten, so an arm64 build on an x86_64 kernel
 * is emulated. Third, and first in precedence: SEALBENCH_EMULATED=0/1 from a harness that knows. */
/* The kernel's /proc/self/cmdline, read through dir: NUL-separated, ending in a NUL. */
static char *real_cmdline(int dir, size_t *len)
{
    int fd = openat(dir, "cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (!buf)
            break;
        if (n == cap) {
            char *bigger = cap < (1u << 20) ? realloc(buf, 2 * cap + 1) : NULL;
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (buf) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}

static int same_file(const char *a, const struct stat *b)
{
    struct stat st;
    return stat(a, &st) == 0 && st.st_dev == b->st_dev && st.st_ino == b->st_ino;
}

void sb_self_probe(sb_self *s)
{
    memset(s, 0, sizeof *s);
    s->interpreted = -1;
    ssize_t na = readlink("/proc/self/exe", s->exe, sizeof s->exe - 1);
    s->exe_errno = na < 0 ? errno : 0;
    s->exe[na > 0 ? na : 0] = '\0';
    int dir = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ssize_t nr = dir >= 0 ? readlinkat(dir, "exe", s->exe_real, sizeof s->exe_real - 1) : -1;
    s->real_errno = nr < 0 ? errno : 0;
    s->exe_real[nr > 0 ? nr : 0] = '\0';
    if (na > 0 && nr > 0)
        s->interpreted = strcmp(s->exe, s->exe_real) != 0;
    if (s->interpreted == 1) {
        /* The emulator's options are what comes before the binary's path on its command line
         * ("qemu-aarch64 -L / build/aarch64/sealbench run ..."): the first argument that is
         * the same file as exe. Not found (qemu's -0, a binfmt_misc 'O' flag): the emulator
         * alone, which still runs the binary with the options of its environment (QEMU_*). */
        s->prefix[0] = s->exe_real;
        s->n_prefix = 1;
        size_t len = 0;
        struct stat st;
        s->cmdline = stat(s->exe, &st) == 0 ? real_cmdline(dir, &len) : NULL;
        const char *args[SB_SELF_MAX_PREFIX];
        size_t n = 0;
        for (size_t off = 0; s->cmdline && off < len && n < SB_SELF_MAX_PREFIX;) {
            args[n++] = s->cmdline + off;
            off += strlen(s->cmdline + off) + 1;
        }
        for (size_t i = 1; i < n; i++)
            if (same_file(args[i], &st)) {
                for (size_t k = 1; k < i; k++)
                    s->prefix[s->n_prefix++] = args[k];
                break;
            }
    }
    if (dir >= 0)
        close(dir);
}

void sb_self_free(sb_self *s)
{
    if (!s)
        return;
    free(s->cmdline);
    s->cmdline = NULL;
    s->n_prefix = 0;
}

char **sb_self_argv(const sb_self *s, char *const args[], const char **path)
{
    if (!s->exe[0])
        return NULL;
    size_t n = 0;
    while (args[n])
        n++;
    int through = s->interpreted == 1 && s->n_prefix > 0;
    size_t total = (through ? s->n_prefix + 1 : 0) + (n ? n : 1) + 1;
    char **v = calloc(total, sizeof *v);
    if (!v)
        return NULL;
    size_t k = 0;
    if (through) {
        for (size_t i = 0; i < s->n_prefix; i++)
            v[k++] = (char *)s->prefix[i];
        v[k++] = (char *)s->exe; /* the emulator makes it the program's argv[0] */
    } else {
        v[k++] = n ? args[0] : (char *)s->exe;
    }
    for (size_t i = 1; i < n; i++)
        v[k++] = args[i];
    v[k] = NULL;
    *path = through ? s->exe_real : s->exe;
    return v;
}

static int emulation_collect(json_t *host, const char *uname_machine)
{
    json_t *e = json_object();
    char why[256];

    const char *env = getenv("SEALBENCH_EMULATED");
    put_str(e, "env_sealbench_emulated", env, "SEALBENCH_EMULATED not set");

    sb_self self;
    sb_self_probe(&self);
    int interp = self.interpreted;
    char why_apparent[128], why_real[128];
    fmt(why_apparent, sizeof why_apparent, "cannot read /proc/self/exe: %s",
        strerror(self.exe_errno));
    fmt(why_real, sizeof why_real, "cannot read exe through a descriptor of /proc/self: %s",
        strerror(self.real_errno));
    put_str(e, "exe", self.exe[0] ? self.exe : NULL, why_apparent);
    put_str(e, "exe_real", self.exe_real[0] ? self.exe_real : NULL, why_real);
    if (interp == 1) {
        const char *base = strrchr(self.exe_real, '/');
        json_object_set_new(e, "interpreter", json_string(base ? base + 1 : self.exe_real));
        /* How the runner starts its children: through this, then the binary. */
        json_t *cmd = json_array();
        for (size_t i = 0; i < self.n_prefix; i++)
            json_array_append_new(cmd, json_string(self.prefix[i]));
        json_object_set_new(e, "interpreter_command", cmd);
    } else {
        const char *w = interp == 0 ? "none: the kernel's exe is the binary itself"
                                    : "one of the two readings of /proc/self/exe failed";
        put(e, "interpreter", NULL, w);
        put(e, "interpreter_command", NULL, w);
    }
    sb_self_free(&self);

    char *karch = read_line("/proc/sys/kernel/arch", why, sizeof why);
    put_str(e, "kernel_arch", karch, why);
    put_str(e, "build_arch", BUILD_ARCH, "not one of x86_64, aarch64, arm, i386");
    put_str(e, "uname_machine", uname_machine, "uname failed");
    int native = karch ? arch_native_on(BUILD_ARCH, karch) : -1;

    int emulated = -1;
    const char *source = NULL;
    int env_valid = env && (strcmp(env, "1") == 0 || strcmp(env, "0") == 0);
    if (env_valid) {
        emulated = env[0] == '1';
        source = "environment: SEALBENCH_EMULATED";
    } else if (interp == 1) {
        emulated = 1;
        source = "/proc/self/exe read through a directory descriptor names an interpreter";
    } else if (native == 0) {
        emulated = 1;
        source = "build arch differs from the kernel's /proc/sys/kernel/arch";
    } else if (interp == 0 || native == 1) {
        emulated = 0;
        source = interp == 0 ? "/proc/self/exe read through a directory descriptor is the binary"
                               " itself"
                             : "build arch runs natively on /proc/sys/kernel/arch";
    }
    put_bool(e, "emulated", emulated >= 0, emulated == 1,
             "no sign could be read (/proc/self/exe and /proc/sys/kernel/arch unreadable)");
    put_str(e, "decided_by", source, "nothing to decide from");
    if (env && !env_valid)
        json_object_set_new(e, "env_note", json_string("SEALBENCH_EMULATED is neither 0 nor 1: "
                                                       "ignored"));
    if (emulated == 1)
        json_object_set_new(e, "note", json_string("timings are of a translator: host.cpu (model, "
                                                   "crypto_flags), cpufreq and board describe "
                                                   "the host, not the emulated CPU; "
                                                   "host.cpu.hwcap is the CPU the emulator "
                                                   "offers"));
    free(karch);
    json_object_set_new(host, "emulation", e);
    return emulated;
}

/* ---- host: Raspberry Pi --------------------------------------------------------------------- */

/* vcgencmd get_throttled: bits 0-3 are the state now, bits 16-19 whether it happened since boot
 * (Raspberry Pi documentation). A throttled Pi measures a slower CPU than its model says. */
static void throttled_collect(json_t *pi)
{
    char out[128], why[256] = "";
    const char *argv[] = {"vcgencmd", "get_throttled", NULL};
    int code = 0;
    tool_result r = tool_run(argv, NULL, TOOL_TIMEOUT_S, out, sizeof out, &code, why, sizeof why);
    const char *eq = strchr(out, '=');
    if (r != TOOL_RAN || code != 0 || !eq) {
        if (r == TOOL_MISSING)
            fmt(why, sizeof why, "vcgencmd not found (not a Raspberry Pi, or no libraspberrypi-bin)");
        else if (r == TOOL_RAN)
            fmt(why, sizeof why, "vcgencmd get_throttled failed (exit %d): '%s'", code, out);
        put(pi, "throttled", NULL, why);
        return;
    }
    unsigned long bits = strtoul(eq + 1, NULL, 16);
    json_t *t = json_object();
    json_object_set_new(t, "raw", json_string(out));
    static const char *const names[] = {"under_voltage", "freq_capped", "throttled",
                                        "soft_temp_limit"};
    for (int i = 0; i < 4; i++) {
        char key[64];
        fmt(key, sizeof key, "%s_now", names[i]);
        json_object_set_new(t, key, json_boolean(bits >> i & 1));
        fmt(key, sizeof key, "%s_since_boot", names[i]);
        json_object_set_new(t, key, json_boolean(bits >> (16 + i) & 1));
    }
    json_object_set_new(pi, "throttled", t);
}

/* ---- host ------------------------------------------------------------------------------------ */

static char *os_pretty_name(char *why, size_t why_len)
{
    char *text = slurp("/etc/os-release", 1 << 16);
    if (!text)
        text = slurp("/usr/lib/os-release", 1 << 16);
    if (!text) {
        fmt(why, why_len, "cannot read /etc/os-release or /usr/lib/os-release");
        return NULL;
    }
    char *result = NULL;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "PRETTY_NAME=", 12) != 0)
            continue;
        char *v = line + 12;
        size_t n = strlen(v);
        if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
            v[n - 1] = '\0';
            v++;
        }
        result = strdup(v);
        break;
    }
    free(text);
    if (!result)
        fmt(why, why_len, "os-release has no PRETTY_NAME");
    return result;
}

static json_t *host_collect(void)
{
    json_t *host = json_object();
    char why[PATH_MAX + 64];

    struct utsname u;
    int have_uname = uname(&u) == 0;
    put_str(host, "hostname", have_uname ? u.nodename : NULL, "uname failed");
    if (have_uname) {
        json_t *k = json_object();
        json_object_set_new(k, "sysname", json_string(u.sysname));
        json_object_set_new(k, "release", json_string(u.release));
        json_object_set_new(k, "version", json_string(u.version));
        json_object_set_new(k, "machine", json_string(u.machine));
        json_object_set_new(host, "kernel", k);
    } else {
        put(host, "kernel", NULL, "uname failed");
    }
    char *os = os_pretty_name(why, sizeof why);
    put_str(host, "os", os, why);
    free(os);

    json_t *cpu = json_object();
    char *info = slurp("/proc/cpuinfo", 1 << 24);
    if (info) {
        cpu_model(cpu, info);
        cpu_flags(cpu, info);
    } else {
        fmt(why, sizeof why, "cannot read /proc/cpuinfo: %s", strerror(errno));
        put(cpu, "model", NULL, why);
        put(cpu, "crypto_flags", NULL, why);
    }
    cpu_hwcap(cpu);
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    put(cpu, "logical_online", online > 0 ? json_integer(online) : NULL,
        "sysconf(_SC_NPROCESSORS_ONLN) failed");
    char *list = read_line("/sys/devices/system/cpu/online", why, sizeof why);
    put_str(cpu, "online_list", list, why);
    free(list);
    json_object_set_new(host, "cpu", cpu);

    json_t *mem = NULL;
    char *meminfo = slurp("/proc/meminfo", 1 << 16);
    if (meminfo) {
        char *total = cpuinfo_field(meminfo, "MemTotal"); /* same "key: value" layout */
        mem = total ? int_or_null(total) : NULL;
        fmt(why, sizeof why, "no MemTotal in /proc/meminfo");
        free(total);
        free(meminfo);
    } else {
        fmt(why, sizeof why, "cannot read /proc/meminfo: %s", strerror(errno));
    }
    put(host, "mem_total_kib", mem, why);

    cpufreq_collect(host);

    /* Above 2, PAPI (perf_event) cannot count for an unprivileged user: the cycle columns of
     * such a run are empty, not zero. */
    char *para = read_line("/proc/sys/kernel/perf_event_paranoid", why, sizeof why);
    json_t *pj = para ? int_or_null(para) : NULL;
    if (para && !pj)
        fmt(why, sizeof why, "perf_event_paranoid is not a number: '%s'", para);
    put(host, "perf_event_paranoid", pj, why);
    free(para);

    char *cs = read_line("/sys/devices/system/clocksource/clocksource0/current_clocksource", why,
                         sizeof why);
    put_str(host, "clocksource", cs, why);
    free(cs);

    virtualization_collect(host, info);
    free(info);
    if (emulation_collect(host, have_uname ? u.machine : NULL) == 1) {
        /* Under qemu-user, /proc/cpuinfo is the host's (qemu 7.2 passes it through): no ARM
         * core, no Raspberry Pi, and no ARM crypto extension is claimed from it. */
        json_object_set_new(cpu, "emulated_note",
                            json_string("emulated: model and crypto_flags are from the host's "
                                        "/proc/cpuinfo (the machine running the emulator); "
                                        "hwcap is what the emulated CPU offers, no physical "
                                        "CPU's"));
        if (json_is_object(json_object_get(cpu, "hwcap")))
            json_object_set_new(cpu, "hwcap_source",
                                json_string("getauxval(AT_HWCAP, AT_HWCAP2) under an emulator: "
                                            "the CPU features it emulates"));
    }

    json_t *pi = json_object();
    char *model = read_line("/proc/device-tree/model", why, sizeof why);
    put_str(pi, "device_tree_model", model, why);
    free(model);
    throttled_collect(pi);
    json_object_set_new(host, "board", pi);
    return host;
}

/* ---- config and datasets -------------------------------------------------------------------- */

static const sb_backend *hash_backend(char *why, size_t why_len)
{
    const sb_backend *be = sb_backends[0];
    if (!be || !be->sha256) {
        fmt(why, why_len, "no backend offers sha256");
        return NULL;
    }
    if (be->setup && be->setup() != SB_OK) {
        fmt(why, why_len, "backend %s failed to initialise", be->name);
        return NULL;
    }
    return be;
}

static json_t *sha256_hex(const void *p, size_t n, char *why, size_t why_len)
{
    const sb_backend *be = hash_backend(why, why_len);
    if (!be)
        return NULL;
    uint8_t digest[SB_HASH_BYTES];
    char hex[2 * SB_HASH_BYTES + 1];
    static const uint8_t empty[1];
    sb_err rc = be->sha256(n ? p : empty, n, digest);
    if (rc != SB_OK) {
        fmt(why, why_len, "%s sha256: %s", be->name, sb_err_str(rc));
        return NULL;
    }
    sb_hex_encode(digest, sizeof digest, hex);
    return json_string(hex);
}

static json_t *config_collect(const sb_manifest_inputs *in)
{
    json_t *c = json_object();
    char why[256] = "";
    put_str(c, "path", in->config_path, "not given by the caller");
    json_t *h = NULL;
    if (in->config_text)
        h = sha256_hex(in->config_text, strlen(in->config_text), why, sizeof why);
    else
        fmt(why, sizeof why, "no config text given by the caller");
    put(c, "sha256", h, why);
    put_str(c, "text", in->config_text, "no config text given by the caller");
    return c;
}

/* The one-shot sha256 of the backend interface over a read-only mapping: a 100 MB dataset is
 * hashed without a copy and without a size limit short of the address space. */
static json_t *dataset_entry(const char *path)
{
    json_t *d = json_object();
    char why[PATH_MAX + 128] = "";
    json_t *size = NULL, *hash = NULL;
    int fd = -1;
    void *map = MAP_FAILED;
    struct stat st;

    put_str(d, "path", path, "NULL path given by the caller");
    if (!path) {
        fmt(why, sizeof why, "no path");
        goto exit;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        fmt(why, sizeof why, "cannot open %s: %s", path, strerror(errno));
        goto exit;
    }
    if (!S_ISREG(st.st_mode)) {
        fmt(why, sizeof why, "%s is not a regular file", path);
        goto exit;
    }
    size = json_integer((json_int_t)st.st_size);
    if ((uint64_t)st.st_size > SIZE_MAX) {
        fmt(why, sizeof why, "%s is larger than this process can map", path);
        goto exit;
    }
    if (st.st_size == 0) {
        hash = sha256_hex(NULL, 0, why, sizeof why);
        goto exit;
    }
    map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        fmt(why, sizeof why, "cannot map %s: %s", path, strerror(errno));
        goto exit;
    }
    madvise(map, (size_t)st.st_size, MADV_SEQUENTIAL);
    hash = sha256_hex(map, (size_t)st.st_size, why, sizeof why);

exit:
    put(d, "size_bytes", size, why);
    put(d, "sha256", hash, why);
    if (map != MAP_FAILED)
        munmap(map, (size_t)st.st_size);
    if (fd >= 0)
        close(fd);
    return d;
}

/* ---- The document ----------------------------------------------------------------------------- */

json_t *sb_manifest_collect(const sb_manifest_inputs *in)
{
    if (!in)
        return NULL;
    json_t *m = json_object();
    if (!m)
        return NULL;
    json_object_set_new(m, "schema", json_integer(MANIFEST_SCHEMA));
    json_object_set_new(m, "run", run_collect(in));
    json_object_set_new(m, "build", build_collect());
    json_object_set_new(m, "libraries", libraries_collect(in));
    json_object_set_new(m, "host", host_collect());
    json_object_set_new(m, "config", config_collect(in));

    json_t *ds = json_array();
    for (size_t i = 0; i < in->n_datasets && in->datasets; i++)
        json_array_append_new(ds, dataset_entry(in->datasets[i]));
    json_object_set_new(m, "datasets", ds);

    /* A string: a uint64 seed does not fit jansson's signed integer, nor a JavaScript number,
     * and a seed that reads back different reproduces nothing. */
    char seed[24];
    fmt(seed, sizeof seed, "%llu", (unsigned long long)in->seed);
    json_object_set_new(m, "seed", json_string(seed));

    json_t *broker = json_object();
    put_str(broker, "uri", in->broker_uri, "not given by the caller");
    json_object_set_new(broker, "private", json_boolean(in->broker_private));
    put_str(broker, "mosquitto_version", in->mosquitto_version,
            in->broker_private ? "the caller did not give the private broker's version"
                               : "external broker");
    json_object_set_new(m, "broker", broker);
    return m;
}
