/* The run manifest (experiments/manifest.c, libraries.c, host.c): known SHA-256 values of a config
 * and of datasets written here (expected digests from sha256sum and FIPS 180-2, not from the
 * library under test), the document's shape and its one rule (a null always has a "<key>_why"),
 * the facts that can be checked against the machine, SEALBENCH_EMULATED, the end of a run, and a
 * missing dataset. Where qemu-user for this architecture is installed, the binary also runs itself
 * under it to see the emulation detected without any help from the environment. `test_manifest
 * --print` prints the manifest of this machine. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ciphers/cipher.h"
#include "experiments/offer.h"
#include "experiments/manifest.h"
#include "tests/check.h"

/* sha256sum of the three files the test writes. */
#define SHA256_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA256_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA256_MILLION_A "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

static char dir[] = "/tmp/sb_manifest_XXXXXX";
static char path_config[64], path_abc[64], path_empty[64], path_million[64], path_missing[64];

static int write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(data, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

static const char *str_at(json_t *m, const char *path)
{
    json_t *v = json_object_get(m, path);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A path of keys, NULL-terminated: get(m, "host", "cpu", "model", NULL). */
static json_t *get(json_t *v, ...)
{
    va_list ap;
    va_start(ap, v);
    for (const char *k; v && (k = va_arg(ap, const char *)) != NULL;)
        v = json_object_get(v, k);
    va_end(ap);
    return v;
}

/* The document's rule, everywhere: a null value has a non-empty "<key>_why" string beside it. */
static void check_nulls_explained(json_t *v, const char *where)
{
    char sub[512];
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            snprintf(sub, sizeof sub, "%s[%zu]", where, i);
            check_nulls_explained(json_array_get(v, i), sub);
        }
        return;
    }
    if (!json_is_object(v))
        return;
    const char *key;
    json_t *val;
    json_object_foreach(v, key, val) {
        snprintf(sub, sizeof sub, "%s.%s", where, key);
        if (json_is_null(val)) {
            char why_key[128];
            snprintf(why_key, sizeof why_key, "%s_why", key);
            const char *why = str_at(v, why_key);
            CHECK(why && *why, "%s is null without a %s", sub, why_key);
        } else {
            check_nulls_explained(val, sub);
        }
    }
}

static json_t *collect(const char *const *datasets, size_t n)
{
    sb_manifest_inputs in = {
        .run_id = "test-run",
        .command_line = "sealbench run test.ini",
        .config_path = path_config,
        .config_text = "abc",
        .datasets = datasets,
        .n_datasets = n,
        .seed = UINT64_MAX, /* does not fit a JSON integer in jansson: must survive anyway */
        .broker_uri = "tcp://127.0.0.1:1883",
        .broker_private = 1,
        .mosquitto_version = "2.0.11",
    };
    return sb_manifest_collect(&in);
}

static void check_shape(json_t *m)
{
    static const char *const top[] = {"schema", "run",      "build", "libraries", "offer",
                                      "host",   "config",   "datasets", "seed", "broker"};
    for (size_t i = 0; i < sizeof top / sizeof *top; i++)
        CHECK(json_object_get(m, top[i]) != NULL, "top-level key %s missing", top[i]);
    CHECK(json_integer_value(json_object_get(m, "schema")) == 1, "schema is not 1");
    check_nulls_explained(m, "manifest");

    /* The document survives a round trip through text. */
    char *text = json_dumps(m, JSON_INDENT(2));
    CHECK(text != NULL, "json_dumps failed");
    json_error_t err;
    json_t *back = text ? json_loads(text, 0, &err) : NULL;
    CHECK(back && json_equal(back, m), "manifest does not read back equal");
    json_decref(back);
    free(text);
}

/* The first line a shell command prints, or "" (for the independent dpkg answers below). */
static void first_line(const char *cmd, char *out, size_t cap)
{
    out[0] = '\0';
    FILE *p = popen(cmd, "r");
    if (!p)
        return;
    if (!fgets(out, (int)cap, p))
        out[0] = '\0';
    out[strcspn(out, "\n")] = '\0';
    pclose(p);
}

/* Every library the binary links names the Debian package behind the file it loaded, and that
 * is what dpkg says, asked independently: the package lists the file (dpkg-query -L) and has
 * that version (dpkg-query -W). Under qemu-user with a private root (debian_package.root), dpkg
 * knows nothing of the target's packages: the name must then carry the target's architecture
 * (tests/check_run.py reads the root's own lists). */
static void check_packages(json_t *m)
{
    /* linked: this test program loads it (it links with --as-needed, so the dataset, config and
     * microbenchmark libraries are not; tests/check_run.py checks all of them in the manifest
     * of the sealbench binary itself). */
    static const struct {
        const char *path[3];
        const char *package_prefix;
        int linked;
    } libs[] = {
        {{"backends", "openssl", NULL}, "libssl", 1},
        {{"backends", "sodium", NULL}, "libsodium", 1},
        {{"backends", "mbedtls", NULL}, "libmbedcrypto", 1},
        {{"paho", NULL, NULL}, "libpaho-mqtt", 1},
        {{"mosquitto", NULL, NULL}, "mosquitto", 1},
        {{"papi", NULL, NULL}, "libpapi", 1},
        {{"jansson", NULL, NULL}, "libjansson", 1},
        {{"libcbor", NULL, NULL}, "libcbor", 0},
        {{"libcsv", NULL, NULL}, "libcsv", 0},
        {{"google_benchmark", NULL, NULL}, "libbenchmark", 0},
        {{"libinih", NULL, NULL}, "libinih", 0},
    };
    if (system("command -v dpkg-query >/dev/null 2>&1") != 0) {
        SKIP("the Debian package checks: dpkg-query not found (not a Debian system)");
        return;
    }
    for (size_t i = 0; i < sizeof libs / sizeof *libs; i++) {
        json_t *e = get(m, "libraries", libs[i].path[0], libs[i].path[1], NULL);
        const char *label = libs[i].path[1] ? libs[i].path[1] : libs[i].path[0];
        json_t *d = json_object_get(e, "debian_package");
        const char *name = str_at(d, "name"), *version = str_at(d, "version"),
                   *file = str_at(d, "file");
        const char *why = str_at(e, "debian_package_why");
        if (!libs[i].linked && !json_is_object(d)) {
            CHECK(why && strstr(why, "is loaded in this process"),
                  "libraries.%s: no debian_package, and not because it is not loaded: %s", label,
                  why ? why : "no reason");
            continue;
        }
        CHECK(name && version && file, "libraries.%s: no debian_package (%s)", label,
              why ? why : "no reason");
        if (!name || !version || !file)
            continue;
        CHECK(strncmp(name, libs[i].package_prefix, strlen(libs[i].package_prefix)) == 0,
              "libraries.%s: package %s is not a %s* package", label, name,
              libs[i].package_prefix);
        const char *root = str_at(d, "root");
        if (root) {
            CHECK(strchr(name, ':') != NULL, "libraries.%s: %s from the private root %s has no "
                  "architecture", label, name, root);
            continue;
        }
        char cmd[1024], got[512];
        snprintf(cmd, sizeof cmd, "dpkg-query -W -f='${Version}' '%s' 2>/dev/null", name);
        first_line(cmd, got, sizeof got);
        CHECK(strcmp(got, version) == 0, "libraries.%s: %s version %s, dpkg-query says '%s'",
              label, name, version, got);
        snprintf(cmd, sizeof cmd, "dpkg-query -L '%s' 2>/dev/null | grep -cxF '%s'", name, file);
        first_line(cmd, got, sizeof got);
        CHECK(atoi(got) == 1, "libraries.%s: dpkg-query -L %s does not list %s", label, name,
              file);
    }
}

static void check_facts(json_t *m)
{
    const char *describe = json_string_value(get(m, "build", "git_describe", NULL));
    CHECK(describe && *describe, "build.git_describe empty");
    json_t *run_describe = get(m, "build", "git_describe_run", NULL);
    CHECK(json_is_string(run_describe) ||
              (json_is_null(run_describe) && get(m, "build", "git_describe_run_why", NULL)),
          "build.git_describe_run neither a string nor explained");
    CHECK(json_is_string(get(m, "build", "compiler", NULL)), "build.compiler missing");

    /* The backends built, and `sealbench list --csv` as written by its one serialiser. */
    json_t *built = get(m, "build", "backends", NULL);
    size_t n_built = 0;
    while (sb_backends[n_built])
        n_built++;
    CHECK(json_is_array(built) && json_array_size(built) == n_built,
          "build.backends is not the %zu backends built", n_built);
    for (size_t i = 0; i < n_built && json_is_array(built); i++)
        CHECK(strcmp(json_string_value(json_array_get(built, i)), sb_backends[i]->name) == 0,
              "build.backends[%zu] is not %s", i, sb_backends[i]->name);
    char *list = NULL;
    size_t list_len = 0;
    FILE *mem = open_memstream(&list, &list_len);
    CHECK(mem && sb_offer_write_csv(mem) == 0, "sb_offer_write_csv to memory");
    if (mem)
        fclose(mem);
    const char *csv = json_string_value(get(m, "offer", "csv", NULL));
    CHECK(csv && list && strcmp(csv, list) == 0, "offer.csv is not sealbench list --csv");
    CHECK(csv && strncmp(csv, "kind,backend,name,status,reason,", 32) == 0, "offer.csv header");
    free(list);

    for (const sb_backend *const *be = sb_backends; *be; be++) {
        const char *v = json_string_value(get(m, "libraries", "backends", (*be)->name, "version",
                                              NULL));
        CHECK(v && *v, "libraries.backends.%s.version empty", (*be)->name);
        CHECK(v && strcmp(v, (*be)->version()) == 0, "%s version differs from the backend's",
              (*be)->name);
    }
    CHECK(json_is_string(get(m, "libraries", "jansson", "version", NULL)), "jansson version");
    const char *mq = json_string_value(get(m, "libraries", "mosquitto", "version", NULL));
    CHECK(mq && strcmp(mq, "2.0.11") == 0, "mosquitto version from the input: %s", mq ? mq : "-");
    check_packages(m);

    const char *model = json_string_value(get(m, "host", "cpu", "model", NULL));
    CHECK(model && *model, "host.cpu.model empty");
    CHECK(json_is_object(get(m, "host", "cpu", "crypto_flags", NULL)), "no crypto flags");
    CHECK(json_integer_value(get(m, "host", "cpu", "logical_online", NULL)) >= 1,
          "host.cpu.logical_online < 1");

    /* perf_event_paranoid: the file's own value, or null with a reason where unreadable. */
    FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
    int want;
    json_t *para = get(m, "host", "perf_event_paranoid", NULL);
    if (f && fscanf(f, "%d", &want) == 1)
        CHECK(json_is_integer(para) && json_integer_value(para) == want,
              "perf_event_paranoid %lld, file says %d", (long long)json_integer_value(para), want);
    else
        CHECK(json_is_null(para), "perf_event_paranoid unreadable here, yet recorded");
    if (f)
        fclose(f);

    const char *seed = json_string_value(json_object_get(m, "seed"));
    CHECK(seed && strcmp(seed, "18446744073709551615") == 0, "seed %s", seed ? seed : "-");
    CHECK(json_is_true(get(m, "broker", "private", NULL)), "broker.private");
    CHECK(json_is_string(get(m, "broker", "uri", NULL)), "broker.uri");

    const char *cfg = json_string_value(get(m, "config", "sha256", NULL));
    CHECK(cfg && strcmp(cfg, SHA256_ABC) == 0, "config sha256 %s", cfg ? cfg : "-");
    CHECK(json_is_string(get(m, "config", "text", NULL)) &&
              strcmp(json_string_value(get(m, "config", "text", NULL)), "abc") == 0,
          "config text not recorded whole");
}

static void check_datasets(json_t *m)
{
    static const struct {
        const char *what, *sha;
        long long size;
    } want[] = {
        {"'abc'", SHA256_ABC, 3},
        {"empty file", SHA256_EMPTY, 0},
        {"a million 'a' (several pages mapped)", SHA256_MILLION_A, 1000000},
    };
    json_t *ds = json_object_get(m, "datasets");
    CHECK(json_array_size(ds) == 4, "%zu dataset entries, want 4", json_array_size(ds));
    for (size_t i = 0; i < 3 && i < json_array_size(ds); i++) {
        json_t *d = json_array_get(ds, i);
        const char *sha = str_at(d, "sha256");
        CHECK(sha && strcmp(sha, want[i].sha) == 0, "%s: sha256 %s", want[i].what,
              sha ? sha : "-");
        CHECK(json_integer_value(json_object_get(d, "size_bytes")) == want[i].size,
              "%s: size_bytes", want[i].what);
    }
    json_t *missing = json_array_get(ds, 3);
    CHECK(missing && json_is_null(json_object_get(missing, "sha256")) &&
              str_at(missing, "sha256_why") && json_is_null(json_object_get(missing, "size_bytes")),
          "missing dataset: not null with a why");
    CHECK(missing && str_at(missing, "path") && strcmp(str_at(missing, "path"), path_missing) == 0,
          "missing dataset: path not recorded");
}

static void check_finish(json_t *m)
{
    json_t *run = json_object_get(m, "run");
    CHECK(strcmp(str_at(run, "status"), "running") == 0, "status before finish");
    CHECK(json_is_null(json_object_get(run, "finished_utc")) && str_at(run, "finished_utc_why"),
          "finished_utc before finish");
    sb_manifest_finish(m, "complete", 5, 1);
    CHECK(str_at(run, "status") && strcmp(str_at(run, "status"), "complete") == 0,
          "status after finish");
    const char *end = str_at(run, "finished_utc");
    CHECK(end && strlen(end) == 20 && end[10] == 'T' && end[19] == 'Z', "finished_utc '%s'",
          end ? end : "-");
    CHECK(!json_object_get(run, "finished_utc_why"), "finished_utc_why left after finish");
    json_t *wall = json_object_get(run, "wall_s");
    CHECK(json_is_real(wall) && json_real_value(wall) >= 0, "wall_s");
    CHECK(json_integer_value(json_object_get(run, "cells_done")) == 5, "cells_done");
    CHECK(json_integer_value(json_object_get(run, "cells_failed")) == 1, "cells_failed");
    check_nulls_explained(m, "finished manifest");
}

static void check_utc(void)
{
    char t[32];
    sb_utc_iso(t, sizeof t);
    int y, mo, d, h, mi, s;
    CHECK(strlen(t) == 20 && sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2dZ", &y, &mo, &d, &h, &mi, &s) == 6 &&
              y >= 2024 && mo >= 1 && mo <= 12,
          "sb_utc_iso '%s'", t);
    char small[8] = "xxxxxxx";
    sb_utc_iso(small, sizeof small);
    CHECK(small[0] == '\0', "sb_utc_iso into too small a buffer should give an empty string");
}

/* SEALBENCH_EMULATED decides, and the record says so; without it the detection decides. */
static void check_emulation_env(void)
{
    const char *orig = getenv("SEALBENCH_EMULATED");
    char *saved = orig ? strdup(orig) : NULL;
    static const struct {
        const char *env;
        int want;
    } cases[] = {{"1", 1}, {"0", 0}};
    for (size_t i = 0; i < 2; i++) {
        setenv("SEALBENCH_EMULATED", cases[i].env, 1);
        json_t *m = collect(NULL, 0);
        json_t *e = get(m, "host", "emulation", NULL);
        CHECK(json_is_boolean(json_object_get(e, "emulated")) &&
                  json_is_true(json_object_get(e, "emulated")) == cases[i].want,
              "SEALBENCH_EMULATED=%s not honoured", cases[i].env);
        const char *by = str_at(e, "decided_by");
        CHECK(by && strstr(by, "SEALBENCH_EMULATED"), "SEALBENCH_EMULATED=%s: decided_by %s",
              cases[i].env, by ? by : "-");
        json_decref(m);
    }
    unsetenv("SEALBENCH_EMULATED");
    json_t *m = collect(NULL, 0);
    json_t *e = get(m, "host", "emulation", NULL);
    const char *by = str_at(e, "decided_by");
    CHECK(!by || !strstr(by, "SEALBENCH_EMULATED"), "decided by an unset variable");
    const char *exe = str_at(e, "exe"), *real = str_at(e, "exe_real");
    if (exe && real && strcmp(exe, real) == 0)
        CHECK(json_is_false(json_object_get(e, "emulated")),
              "exe is the binary itself, yet emulated is not false");
    json_decref(m);
    if (saved)
        setenv("SEALBENCH_EMULATED", saved, 1);
    free(saved);
}

/* The real method, end to end: run this binary under qemu-user of its own architecture, with
 * SEALBENCH_EMULATED unset. Skipped where that qemu is not installed, and under ASan, whose
 * shadow memory layout qemu-user cannot host. */
static void check_emulation_qemu(const char *self)
{
#if defined(__SANITIZE_ADDRESS__)
    SKIP("the qemu-user emulation check: qemu-user cannot host AddressSanitizer's shadow memory");
    (void)self;
#else
    json_t *m = collect(NULL, 0);
    const char *arch = json_string_value(get(m, "build", "arch", NULL));
    char qemu[64] = "", cmd[1024];
    if (arch)
        snprintf(qemu, sizeof qemu, "qemu-%s",
                 strncmp(arch, "armv", 4) == 0 ? "arm" : strcmp(arch, "i386") == 0 ? "i386" : arch);
    json_decref(m);
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", qemu);
    if (!qemu[0] || system(cmd) != 0) {
        SKIP("the qemu-user emulation check: %s not installed (scripts/install-deps.sh --cross)",
             qemu[0] ? qemu : "no qemu for this architecture");
        return;
    }
    snprintf(cmd, sizeof cmd, "env -u SEALBENCH_EMULATED %s '%s' --emulation-probe 2>/dev/null",
             qemu, self);
    FILE *p = popen(cmd, "r");
    char out[4096] = "";
    size_t n = p ? fread(out, 1, sizeof out - 1, p) : 0;
    out[n] = '\0';
    if (p)
        pclose(p);
    json_error_t err;
    json_t *e = json_loads(out, 0, &err);
    CHECK(e != NULL, "%s probe printed no JSON: '%s'", qemu, out);
    CHECK(json_is_true(json_object_get(e, "emulated")), "under %s: emulated not true: %s", qemu,
          out);
    const char *interp = str_at(e, "interpreter");
    CHECK(interp && strstr(interp, "qemu"), "under %s: interpreter %s", qemu, interp ? interp : "-");
    json_decref(e);
#endif
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--emulation-probe") == 0) {
        json_t *m = collect(NULL, 0);
        char *s = json_dumps(get(m, "host", "emulation", NULL), JSON_COMPACT);
        puts(s ? s : "");
        free(s);
        json_decref(m);
        return 0;
    }

    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path_config, sizeof path_config, "%s/test.ini", dir);
    snprintf(path_abc, sizeof path_abc, "%s/abc.csv", dir);
    snprintf(path_empty, sizeof path_empty, "%s/empty.csv", dir);
    snprintf(path_million, sizeof path_million, "%s/million.csv", dir);
    snprintf(path_missing, sizeof path_missing, "%s/missing.csv", dir);
    char *million = malloc(1000000);
    CHECK(million != NULL, "malloc");
    if (million)
        memset(million, 'a', 1000000);
    CHECK(write_file(path_config, "abc", 3) == 0 && write_file(path_abc, "abc", 3) == 0 &&
              write_file(path_empty, "", 0) == 0 &&
              (million && write_file(path_million, million, 1000000) == 0),
          "cannot write the test files in %s", dir);
    free(million);

    const char *datasets[] = {path_abc, path_empty, path_million, path_missing};
    json_t *m = collect(datasets, 4);
    CHECK(m != NULL, "sb_manifest_collect returned NULL");
    CHECK(sb_manifest_collect(NULL) == NULL, "NULL inputs accepted");
    if (m) {
        check_shape(m);
        check_facts(m);
        check_datasets(m);
        check_finish(m);
        if (argc > 1 && strcmp(argv[1], "--print") == 0) {
            char *s = json_dumps(m, JSON_INDENT(2));
            puts(s ? s : "");
            free(s);
        }
        json_decref(m);
    }
    check_utc();
    check_emulation_env();
    check_emulation_qemu(argv[0]);

    unlink(path_config);
    unlink(path_abc);
    unlink(path_empty);
    unlink(path_million);
    rmdir(dir);
    return check_done("manifest");
}
