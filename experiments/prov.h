/* Private to experiments/: what the parts of a run's manifest (experiments/manifest.h) share.
 * manifest.c assembles the document from run, build, config and datasets facts, and from
 * libraries.c (the libraries as loaded, with their Debian packages) and host.c (CPU, board,
 * virtualization, emulation); prov_util.c holds the document's one rule (a value, or null with
 * a reason) and the runner of external tools (git, dpkg-query, systemd-detect-virt, vcgencmd). */
#ifndef SB_EXPERIMENTS_PROV_H
#define SB_EXPERIMENTS_PROV_H

#include <stddef.h>

#include <jansson.h>

#include "experiments/manifest.h"

#define SB_TOOL_TIMEOUT_S 5.0
/* git describe --dirty stats the whole tree; a large checkout on an SD card is slow. */
#define SB_GIT_TIMEOUT_S 20.0

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

/* ---- the document's one rule (prov_util.c) -------------------------------------------------- */

/* A value, or null with "<key>_why" beside it. */
void sb_prov_put(json_t *obj, const char *key, json_t *val, const char *why);
/* A string fact; text that is not UTF-8 is null with that reason. */
void sb_prov_put_str(json_t *obj, const char *key, const char *s, const char *why);
void sb_prov_put_bool(json_t *obj, const char *key, int known, int value, const char *why);
void sb_prov_fmt(char *buf, size_t cap, const char *f, ...) __attribute__((format(printf, 3, 4)));
/* A small file, whole and NUL-terminated (procfs and sysfs say size 0); NULL with errno. */
char *sb_prov_slurp(const char *path, size_t max);
/* The first line of a file, trimmed; NULL with why. */
char *sb_prov_read_line(const char *path, char *why, size_t why_len);
json_t *sb_prov_int_or_null(const char *text);

/* ---- external tools (prov_util.c) ----------------------------------------------------------- */

typedef enum sb_tool_result { SB_TOOL_RAN, SB_TOOL_MISSING, SB_TOOL_FAILED } sb_tool_result;

/* Run argv[0] (found in PATH) with stdin and stderr on /dev/null, its stdout (trimmed, at most
 * cap - 1 bytes) into out. SB_TOOL_RAN sets *exit_code. Killed past timeout_s. */
sb_tool_result sb_prov_tool_run(const char *const argv[], const char *extra_env, double timeout_s,
                                char *out, size_t cap, int *exit_code, char *why, size_t why_len);

/* ---- the parts --------------------------------------------------------------------------- */

/* The libraries as loaded: each backend, Paho, Mosquitto, PAPI, jansson, libcbor, libcsv,
 * Google Benchmark, libinih, each with the version it reports and its Debian package. */
json_t *sb_prov_libraries(const sb_manifest_inputs *in);
/* The host: CPU, frequency, virtualization, emulation, Raspberry Pi, kernel, OS. */
json_t *sb_prov_host(void);

#endif
