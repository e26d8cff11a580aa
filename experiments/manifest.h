/* A run's provenance (results/<run>/manifest.json): what was built, from which checkout, with
 * which libraries as actually loaded, on which machine and under which conditions (CPU model
 * and crypto flags, governor, VM or emulation, perf_event_paranoid), from which config, dataset
 * and seeds, and when. A reviewer reads it to decide whether two runs can be compared. */
#ifndef SB_EXPERIMENTS_MANIFEST_H
#define SB_EXPERIMENTS_MANIFEST_H

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

/* UTC time as ISO-8601 with seconds ("2026-11-22T10:04:05Z"), into out (at least 21 bytes). */
void sb_utc_iso(char *out, size_t cap);

#endif
