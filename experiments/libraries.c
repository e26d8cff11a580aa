/* The libraries a run loaded, for its manifest (experiments/prov.h): what each reports of its
 * own version, and the Debian package that holds the very file this process mapped. */
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
#include <link.h>

#include <cbor/configuration.h>
#include <csv.h>

#include "ciphers/cipher.h"
#include "common/util.h"
#include "common/counters.h"
#include "transport/broker.h"
#include "transport/mqtt.h"

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
    sb_prov_fmt(l->path, sizeof l->path, "%s", name);
    return 1;
}

/* The path, as this process loaded it, of the shared object whose file name starts with
 * prefix; 0 when none is loaded (a static link, or a library this build does not use). */
static int loaded_file(const char *prefix, char *path, size_t path_len)
{
    loaded_lookup l = {.prefix = prefix, .path = ""};
    if (!dl_iterate_phdr(find_loaded_cb, &l))
        return 0;
    sb_prov_fmt(path, path_len, "%s", l.path);
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
    sb_prov_fmt(list, sizeof list, "%s/.files", root);
    FILE *f = fopen(list, "r");
    if (!f) {
        sb_prov_fmt(why, why_len,
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
            sb_prov_fmt(pkg, pkg_len, "%s", line);
            found = 1;
        }
    }
    fclose(f);
    if (!found) {
        sb_prov_fmt(why, why_len, "%s is in no package of the private root %s", file, root);
        return 0;
    }
    sb_prov_fmt(list, sizeof list, "%s/.packages", root);
    f = fopen(list, "r");
    found = 0;
    size_t n = strlen(pkg);
    while (f && !found && fgets(line, sizeof line, f)) {
        if (strncmp(line, pkg, n) == 0 && line[n] == ' ') {
            sb_prov_fmt(version, version_len, "%s", sb_trim(line + n + 1));
            found = 1;
        }
    }
    if (f)
        fclose(f);
    if (!found)
        sb_prov_fmt(why, why_len, "%s is not in %s", pkg, list);
    return found;
}

/* dpkg-query -S FILE: "pkg[:arch][, pkg2]: FILE" (a diversion line starts "diversion by"). */
static int dpkg_owner(const char *file, char *pkg, size_t pkg_len, char *why, size_t why_len)
{
    char out[1024];
    const char *argv[] = {"dpkg-query", "-S", file, NULL};
    int code = 0;
    sb_tool_result r = sb_prov_tool_run(argv, NULL, SB_TOOL_TIMEOUT_S, out, sizeof out, &code, why, why_len);
    if (r == SB_TOOL_MISSING) {
        sb_prov_fmt(why, why_len, "dpkg-query not found (not a Debian system)");
        return 0;
    }
    if (r != SB_TOOL_RAN)
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
            sb_prov_fmt(pkg, pkg_len, "%s", sb_trim(line));
            return 1;
        }
        line = nl ? nl + 1 : NULL;
    }
    sb_prov_fmt(why, why_len, "no installed package holds %s (dpkg-query -S exit %d)", file, code);
    return 0;
}

/* Debian 12 merged /lib into /usr/lib, but dpkg records each file under the path its package
 * ships, so the loader's /lib/... may be known only as /usr/lib/... (or the reverse). */
static int dpkg_owner_any(const char *file, char *pkg, size_t pkg_len, char *found_as,
                          size_t found_len, char *why, size_t why_len)
{
    char cands[4][PATH_MAX];
    size_t n = 0;
    sb_prov_fmt(cands[n++], sizeof cands[0], "%s", file);
    char real[PATH_MAX];
    if (realpath(file, real) && strcmp(real, file) != 0)
        sb_prov_fmt(cands[n++], sizeof cands[0], "%s", real);
    size_t base = n;
    for (size_t i = 0; i < base && n < 4; i++) {
        if (strncmp(cands[i], "/usr/", 5) == 0)
            sb_prov_fmt(cands[n++], sizeof cands[0], "%s", cands[i] + 4);
        else if (cands[i][0] == '/' && n < 4)
            sb_prov_fmt(cands[n++], sizeof cands[0], "/usr%s", cands[i]);
    }
    char first_why[256] = "";
    for (size_t i = 0; i < n; i++) {
        if (dpkg_owner(cands[i], pkg, pkg_len, why, why_len)) {
            sb_prov_fmt(found_as, found_len, "%s", cands[i]);
            return 1;
        }
        if (!first_why[0])
            sb_prov_fmt(first_why, sizeof first_why, "%s", why);
    }
    sb_prov_fmt(why, why_len, "%s", first_why);
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
    sb_prov_fmt(in_root, sizeof in_root, "%s%s", root ? root : "", file);
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
    if (sb_prov_tool_run(argv, NULL, SB_TOOL_TIMEOUT_S, out, sizeof out, &code, why, why_len) != SB_TOOL_RAN)
        return NULL;
    char *bar = strchr(out, '|');
    if (code != 0 || !bar || strncmp(out, "ii", 2) != 0 || !bar[1]) {
        sb_prov_fmt(why, why_len, "package %s (holding %s) is not installed (dpkg-query -W exit %d)",
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
        sb_prov_fmt(why, sizeof why, "no %s* is loaded in this process", soname_prefix);
    else
        d = debian_package_of(file, why, sizeof why);
    sb_prov_put(e, "debian_package", d, why);
}

/* The same for an executable (the broker), found as the runner would start it. */
static void put_program_package(json_t *e, const char *program)
{
    char file[PATH_MAX] = "", why[512] = "";
    json_t *d = NULL;
    if (strchr(program, '/')) {
        sb_prov_fmt(file, sizeof file, "%s", program);
    } else {
        const char *path = getenv("PATH");
        char *copy = strdup(path ? path : "/usr/bin:/bin");
        char *save = NULL;
        for (char *dir = copy ? strtok_r(copy, ":", &save) : NULL; dir && !file[0];
             dir = strtok_r(NULL, ":", &save)) {
            char cand[PATH_MAX + 300];
            sb_prov_fmt(cand, sizeof cand, "%s/%s", dir, program);
            if (access(cand, X_OK) == 0)
                sb_prov_fmt(file, sizeof file, "%s", cand);
        }
        free(copy);
    }
    if (!file[0])
        sb_prov_fmt(why, sizeof why, "%s not found on PATH", program);
    else
        d = debian_package_of(file, why, sizeof why);
    sb_prov_put(e, "debian_package", d, why);
}

/* ---- libraries ---------------------------------------------------------------------------- */

static json_t *lib_entry(const char *library, const char *version, const char *source,
                         const char *why)
{
    json_t *e = json_object();
    json_object_set_new(e, "library", json_string(library));
    sb_prov_put_str(e, "version", version, why);
    json_object_set_new(e, "source", json_string(source));
    return e;
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
        sb_prov_put(e, "debian_package", NULL, "no shared object is known for it");
    return e;
}

json_t *sb_prov_libraries(const sb_manifest_inputs *in)
{
    json_t *libs = json_object();
    json_t *backends = json_object();
    /* Every backend ciphers/backends.txt knows: one left out of this build says so. */
    for (const sb_backend_entry *e = sb_backend_entries; e->name; e++) {
        const sb_backend *be = e->built;
        const char *v = be && be->version ? be->version() : NULL;
        json_t *entry;
        if (be) {
            entry = lib_entry_loaded(e->library, v && *v ? v : NULL,
                                     "run time: the loaded library's own version call",
                                     "the backend has no version()", e->soname);
        } else {
            entry = lib_entry(e->library, NULL, "none", sb_backend_not_built);
            sb_prov_put(entry, "debian_package", NULL, sb_backend_not_built);
        }
        json_object_set_new(entry, "built", json_boolean(be != NULL));
        json_object_set_new(backends, e->name, entry);
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
        sb_prov_put(mq, "debian_package", NULL, "external broker: its machine's packages are not known here");
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
