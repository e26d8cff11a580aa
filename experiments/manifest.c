/* A run's provenance (experiments/manifest.h): gathers, at the start of a run, everything a
 * reviewer needs to decide whether two runs can be compared, and records the end. This file
 * assembles the document (run, build, config, datasets); libraries.c and host.c collect their
 * parts, prov_util.c holds what they share (experiments/prov.h).
 *
 * Leans on jansson for the document, on the first registered cipher backend for SHA-256, on
 * procfs and sysfs for the machine, and on a few external tools when they exist (git,
 * dpkg-query, systemd-detect-virt, vcgencmd), run through common/proc.h with stderr silenced
 * and a time limit, so that a missing or hanging tool costs a null and a reason, never the
 * run.
 *
 * The one rule of the document: every field is present. A fact that cannot be known is null,
 * and a sibling "<field>_why" says why. Nothing is filled in by assumption. */
#include "experiments/manifest.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "build_info.h"
#include "ciphers/cipher.h"
#include "experiments/offer.h"
#include "common/util.h"
#include "experiments/prov.h"

#define MANIFEST_SCHEMA 1

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
    sb_prov_put_str(run, "run_id", in->run_id, "not given by the caller");
    sb_prov_put_str(run, "command_line", in->command_line, "not given by the caller");
    sb_prov_put_str(run, "started_utc", now[0] ? now : NULL, "the system clock could not be read");
    /* wall_s comes from this, not from the two UTC stamps, so that a clock step during the run
     * (NTP, a Raspberry Pi without an RTC setting its time after boot) does not falsify it. */
    json_object_set_new(run, "monotonic_start_ns", json_integer((json_int_t)sb_now_ns()));
    const char *pending = "the run has not finished (sb_manifest_finish not called): still "
                          "running, or it died";
    sb_prov_put(run, "finished_utc", NULL, pending);
    sb_prov_put(run, "wall_s", NULL, pending);
    json_object_set_new(run, "status", json_string("running"));
    sb_prov_put(run, "cells_done", NULL, pending);
    sb_prov_put(run, "cells_failed", NULL, pending);
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
        sb_prov_fmt(why_key, sizeof why_key, "%s_why", done[i]);
        json_object_del(run, why_key);
    }
    sb_prov_put_str(run, "finished_utc", now[0] ? now : NULL, "the system clock could not be read");
    json_t *start = json_object_get(run, "monotonic_start_ns");
    if (json_is_integer(start)) {
        uint64_t t0 = (uint64_t)json_integer_value(start);
        json_object_set_new(run, "wall_s", json_real((double)(sb_now_ns() - t0) / 1e9));
    } else {
        sb_prov_put(run, "wall_s", NULL, "monotonic_start_ns missing from the manifest");
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
    sb_prov_put_str(b, "run_cwd", cwd_p, "getcwd failed");
    const char *argv[] = {"git", "describe", "--always", "--dirty", "--tags", NULL};
    int code = 0;
    json_t *run_describe = NULL;
    sb_tool_result r = sb_prov_tool_run(argv, "GIT_OPTIONAL_LOCKS=0", SB_GIT_TIMEOUT_S, out, sizeof out, &code,
                             why, sizeof why);
    if (r == SB_TOOL_MISSING)
        sb_prov_fmt(why, sizeof why, "git not found");
    else if (r == SB_TOOL_RAN && (code != 0 || !out[0]))
        sb_prov_fmt(why, sizeof why,
            "git describe failed (exit %d): the working directory is not a git checkout, or one "
            "git refuses to read (safe.directory)", code);
    else if (r == SB_TOOL_RAN)
        run_describe = json_string(out);
    sb_prov_put(b, "git_describe_run", run_describe, why);
    if (run_describe) {
        int agree = strcmp(SB_GIT_DESCRIBE, out) == 0;
        json_object_set_new(b, "git_agree", json_boolean(agree));
        /* "-dirty" on both sides names the same commit, not the same sources. */
        if (agree && strstr(out, "-dirty"))
            json_object_set_new(b, "git_agree_note",
                                json_string("both dirty: the same commit with uncommitted "
                                            "changes, which may differ"));
    } else {
        sb_prov_put(b, "git_agree", NULL, "no run-time git describe to compare with");
    }

    json_object_set_new(b, "compiler", json_string(SB_BUILD_CC));
    json_object_set_new(b, "cflags", json_string(SB_BUILD_CFLAGS));
    sb_prov_put_str(b, "arch", BUILD_ARCH, "not one of x86_64, aarch64, arm, i386");
    json_object_set_new(b, "type", json_string(BUILD_SANITIZED ? "sanitize" : "native"));
    json_object_set_new(b, "optimized", json_boolean(BUILD_OPTIMIZED));
    json_t *backends = json_array();
    for (const sb_backend *const *be = sb_backends; *be; be++)
        json_array_append_new(backends, json_string((*be)->name));
    json_object_set_new(b, "backends", backends);
    return b;
}

/* ---- config and datasets -------------------------------------------------------------------- */

static const sb_backend *hash_backend(char *why, size_t why_len)
{
    const sb_backend *be = sb_backends[0];
    if (!be || !be->sha256) {
        sb_prov_fmt(why, why_len, "no backend offers sha256");
        return NULL;
    }
    if (be->setup && be->setup() != SB_OK) {
        sb_prov_fmt(why, why_len, "backend %s failed to initialise", be->name);
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
        sb_prov_fmt(why, why_len, "%s sha256: %s", be->name, sb_err_str(rc));
        return NULL;
    }
    sb_hex_encode(digest, sizeof digest, hex);
    return json_string(hex);
}

static json_t *config_collect(const sb_manifest_inputs *in)
{
    json_t *c = json_object();
    char why[256] = "";
    sb_prov_put_str(c, "path", in->config_path, "not given by the caller");
    json_t *h = NULL;
    if (in->config_text)
        h = sha256_hex(in->config_text, strlen(in->config_text), why, sizeof why);
    else
        sb_prov_fmt(why, sizeof why, "no config text given by the caller");
    sb_prov_put(c, "sha256", h, why);
    sb_prov_put_str(c, "text", in->config_text, "no config text given by the caller");
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

    sb_prov_put_str(d, "path", path, "NULL path given by the caller");
    if (!path) {
        sb_prov_fmt(why, sizeof why, "no path");
        goto exit;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        sb_prov_fmt(why, sizeof why, "cannot open %s: %s", path, strerror(errno));
        goto exit;
    }
    if (!S_ISREG(st.st_mode)) {
        sb_prov_fmt(why, sizeof why, "%s is not a regular file", path);
        goto exit;
    }
    size = json_integer((json_int_t)st.st_size);
    if ((uint64_t)st.st_size > SIZE_MAX) {
        sb_prov_fmt(why, sizeof why, "%s is larger than this process can map", path);
        goto exit;
    }
    if (st.st_size == 0) {
        hash = sha256_hex(NULL, 0, why, sizeof why);
        goto exit;
    }
    map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        sb_prov_fmt(why, sizeof why, "cannot map %s: %s", path, strerror(errno));
        goto exit;
    }
    madvise(map, (size_t)st.st_size, MADV_SEQUENTIAL);
    hash = sha256_hex(map, (size_t)st.st_size, why, sizeof why);

exit:
    sb_prov_put(d, "size_bytes", size, why);
    sb_prov_put(d, "sha256", hash, why);
    if (map != MAP_FAILED)
        munmap(map, (size_t)st.st_size);
    if (fd >= 0)
        close(fd);
    return d;
}

/* ---- What the binary offers ------------------------------------------------------------------ */

/* `sealbench list --csv` as this process sees it (experiments/offer.h): the backends, built or
 * not, each pair's status, and the suites' sizes, which the analysis reads from here. */
static json_t *offer_collect(void)
{
    json_t *o = json_object();
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    int ok = f && sb_offer_write_csv(f) == 0;
    if (f)
        fclose(f);
    json_object_set_new(o, "source", json_string("sealbench list --csv"));
    sb_prov_put_str(o, "csv", ok ? text : NULL, "the CSV could not be written to memory");
    free(text);
    return o;
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
    json_object_set_new(m, "libraries", sb_prov_libraries(in));
    json_object_set_new(m, "offer", offer_collect());
    json_object_set_new(m, "host", sb_prov_host());
    json_object_set_new(m, "config", config_collect(in));

    json_t *ds = json_array();
    for (size_t i = 0; i < in->n_datasets && in->datasets; i++)
        json_array_append_new(ds, dataset_entry(in->datasets[i]));
    json_object_set_new(m, "datasets", ds);

    /* A string: a uint64 seed does not fit jansson's signed integer, nor a JavaScript number,
     * and a seed that reads back different reproduces nothing. */
    char seed[24];
    sb_prov_fmt(seed, sizeof seed, "%llu", (unsigned long long)in->seed);
    json_object_set_new(m, "seed", json_string(seed));

    json_t *broker = json_object();
    sb_prov_put_str(broker, "uri", in->broker_uri, "not given by the caller");
    json_object_set_new(broker, "private", json_boolean(in->broker_private));
    sb_prov_put_str(broker, "mosquitto_version", in->mosquitto_version,
            in->broker_private ? "the caller did not give the private broker's version"
                               : "external broker");
    json_object_set_new(m, "broker", broker);
    return m;
}
