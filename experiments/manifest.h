/* A run's provenance (results/<run>/manifest.json): what was built, from which checkout, with
 * which libraries as actually loaded, on which machine and under which conditions (CPU model
 * and crypto flags, governor, VM or emulation, perf_event_paranoid), from which config, dataset
 * and seeds, and when. A reviewer reads it to decide whether two runs can be compared. */
#ifndef SB_EXPERIMENTS_MANIFEST_H
#define SB_EXPERIMENTS_MANIFEST_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

typedef struct sb_manifest_inputs {
    const char *run_id;
    const char *command_line;      /* how the runner was invoked */
    const char *config_path;
    const char *config_text;       /* the config file's bytes, recorded whole */
    const char *const *datasets;   /* dataset files the cells use (paths); sha256 recorded */
    size_t n_datasets;
    uint64_t seed;
    const char *broker_uri;
    int broker_private;            /* 1: the suite's own Mosquitto on loopback */
    const char *mosquitto_version; /* NULL when unknown (external broker) */
} sb_manifest_inputs;

/* Collect everything knowable at the start of a run. Never fails on a missing fact: a field
 * that cannot be read is present with the value null, and a sibling "<field>_why" string says
 * why ("cpufreq": null, "cpufreq_why": "no cpufreq (VM?)"). Top-level objects: schema (1), run,
 * build, libraries, host, config, datasets, seed, broker. The seed is a decimal string: a
 * uint64 does not survive a JSON number in jansson or JavaScript. Runs git, dpkg-query,
 * systemd-detect-virt and vcgencmd where present (each limited to a few seconds). NULL only for
 * NULL inputs or when out of memory. */
json_t *sb_manifest_collect(const sb_manifest_inputs *in);

/* Record the end: UTC end time, wall seconds, cells finished and failed, and status
 * ("complete", "interrupted", "failed"). */
void sb_manifest_finish(json_t *m, const char *status, size_t cells_done, size_t cells_failed);

/* This binary as a command to run again, for the runner's children. Natively: the binary,
 * /proc/self/exe. Under qemu-user started by hand (no binfmt_misc, as `make rpi-test` runs it),
 * execv of an ARM binary on an x86 kernel fails with ENOEXEC: a child is started through the
 * same emulator, with the options it was given ("/usr/bin/qemu-aarch64 -L /"). qemu answers
 * the literal paths /proc/self/exe and /proc/self/cmdline with the program's view; the same
 * files reached through a descriptor of /proc/self are the kernel's: the emulator and its own
 * command line. The manifest's host.emulation reads the same probe. */
#define SB_SELF_MAX_PREFIX 32
typedef struct sb_self {
    char exe[PATH_MAX];      /* the binary, as this process sees itself; "" when unreadable */
    char exe_real[PATH_MAX]; /* the kernel's /proc/self/exe: the emulator when emulated */
    int exe_errno, real_errno; /* why a reading failed (0: it did not) */
    int interpreted;         /* -1 unknown, 0 exe is exe_real, 1 an interpreter runs exe */
    /* Interpreted: the emulator's argv before the binary's path, prefix[0] = exe_real. */
    const char *prefix[SB_SELF_MAX_PREFIX];
    size_t n_prefix;
    char *cmdline; /* storage of prefix[1...] */
} sb_self;

/* Fill s. Never fails: what cannot be read is "" with its errno. Free with sb_self_free. */
void sb_self_probe(sb_self *s);
void sb_self_free(sb_self *s);

/* The path for execv and its argv (malloc'd array, free() it; its strings are s's and args')
 * that run this binary with args; args[0] is the program name, NULL-terminated. NULL when out
 * of memory or exe unknown. */
char **sb_self_argv(const sb_self *s, char *const args[], const char **path);

/* UTC time as ISO-8601 with seconds ("2026-11-22T10:04:05Z"), into out (at least 21 bytes). */
void sb_utc_iso(char *out, size_t cap);

#endif
