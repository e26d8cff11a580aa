/* A deterministic generator of synthetic multi-patient vital signs (the `sealbench dataset
 * generate` command, and the experiments runner when it wants fresh data).
 *
 * Each patient has baselines drawn from the seed, a slow mean-reverting drift per vital sign, a
 * circadian rhythm, white measurement noise and rare clinical events (desaturations and
 * tachycardia episodes). Every step is integer fixed-point arithmetic fed by xoshiro256**
 * streams seeded through splitmix64 from (seed, patient, purpose): no floating point reaches
 * the output, so the same options give the same bytes on every machine and architecture.
 * datasets/DATACARD.md documents the model's parameters; datasets/physiology.c holds them.
 *
 * Independence that callers can rely on: patient k's values depend only on the seed, k, the
 * start time and the sampling rate (not on how many patients there are); the missing-value
 * pattern has a stream of its own, so changing the missing probability empties other fields
 * but changes no value; events have a stream of their own too. */
#ifndef SB_DATASETS_GENERATE_H
#define SB_DATASETS_GENERATE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/err.h"

/* Limits of the options (sb_gen_check enforces them). */
#define SB_GEN_MAX_PATIENTS 100000u
#define SB_GEN_MAX_DURATION_MS (8784ull * 3600000ull) /* one leap year */
#define SB_GEN_MIN_RATE_MHZ 1u                         /* one sample per 1000 s */
#define SB_GEN_MAX_RATE_MHZ 100000u                    /* 100 Hz */
#define SB_GEN_MAX_EVENTS_PER_HOUR 60.0
#define SB_GEN_MAX_START_MS 253402300799999ll         /* 9999-12-31T23:59:59.999Z */

/* The CSV header the generator writes (units in the names). */
#define SB_GEN_CSV_HEADER                                                                      \
    "patient_id,timestamp,heart_rate_bpm,spo2_pct,systolic_mmhg,diastolic_mmhg,temperature_c," \
    "respiration_rate_bpm"

/* The header of the optional events file: one row per event, the ground truth. */
#define SB_GEN_EVENTS_HEADER                                                                   \
    "patient_id,event,start,onset_end,plateau_end,end,spo2_drop_pct,hr_target_bpm"

typedef enum sb_gen_vital {
    SB_GEN_HR = 0,   /* heart rate, bpm, integer */
    SB_GEN_SPO2,     /* oxygen saturation, %, integer 70..100 */
    SB_GEN_SYS,      /* systolic blood pressure, mmHg, integer */
    SB_GEN_DIA,      /* diastolic blood pressure, mmHg, integer, below systolic */
    SB_GEN_TEMP,     /* temperature, tenths of a degree Celsius */
    SB_GEN_RR,       /* respiration rate, breaths per minute, integer */
    SB_GEN_VITALS
} sb_gen_vital;

typedef enum sb_gen_event_kind {
    SB_GEN_EV_DESATURATION = 0,
    SB_GEN_EV_TACHYCARDIA,
    SB_GEN_EV_KINDS
} sb_gen_event_kind;

/* "desaturation", "tachycardia". */
const char *sb_gen_event_name(sb_gen_event_kind k);

typedef struct sb_gen_opts {
    uint32_t patients;        /* 1..SB_GEN_MAX_PATIENTS */
    uint64_t duration_ms;     /* length of every patient's recording, 1..SB_GEN_MAX_DURATION_MS */
    uint32_t rate_mhz;        /* samples per second per patient, in thousandths (1000 = 1 Hz) */
    uint64_t seed;
    int64_t start_ms;         /* Unix time of the first sample, 0..SB_GEN_MAX_START_MS */
    double missing;           /* probability that a value field is empty, 0..1 */
    double events_per_hour;   /* clinical events per patient per hour, 0..60 (see DATACARD) */
    FILE *events_out;         /* optional: the events as CSV (SB_GEN_EVENTS_HEADER) */
} sb_gen_opts;

/* Defaults: 1 patient, 1 hour, 1 Hz, seed 1, start 2026-01-01T00:00:00Z, missing 0.002,
 * 0.1 events per hour, no events file. */
void sb_gen_opts_init(sb_gen_opts *o);

/* SB_OK, or SB_ERR_ARG with the offending option named in err ("rate: ..."). */
sb_err sb_gen_check(const sb_gen_opts *o, char *err, size_t err_len);

/* Samples per patient: the k with start + floor(k * 1e6 / rate_mhz) ms < start + duration. */
uint64_t sb_gen_samples(const sb_gen_opts *o);

typedef struct sb_gen_summary {
    uint32_t patients;
    uint64_t samples_per_patient;
    uint64_t rows;                     /* data rows (patients x samples) */
    uint64_t fields;                   /* value fields (rows x SB_GEN_VITALS) */
    uint64_t missing;                  /* of those, left empty */
    uint64_t events[SB_GEN_EV_KINDS];  /* events started (each one also ends in the data) */
    uint64_t bytes;                    /* bytes of CSV written, header included */
    int64_t first_ms, last_ms;         /* first and last timestamps */
} sb_gen_summary;

/* ---- record by record -------------------------------------------------------------------- */

typedef struct sb_gen sb_gen;

/* One generated row. value[v] is in the unit of sb_gen_vital (temperature in tenths of a
 * degree); a set bit (1 << v) of missing_mask means that field is empty. */
typedef struct sb_gen_row {
    uint32_t patient;          /* 0-based; its id is sb_gen_patient_id() */
    uint64_t sample;           /* 0-based index in time */
    int64_t t_ms;              /* Unix time in milliseconds */
    int32_t value[SB_GEN_VITALS];
    unsigned missing_mask;
} sb_gen_row;

sb_err sb_gen_new(sb_gen **out, const sb_gen_opts *o, char *err, size_t err_len);

/* The next row, in time order then patient order: SB_OK with *got = 1, or SB_OK with *got = 0
 * at the end. Writes an events row to o->events_out when an event begins; SB_ERR_IO with the
 * reason in err if that write fails. */
sb_err sb_gen_next(sb_gen *g, sb_gen_row *row, int *got, char *err, size_t err_len);

/* "P0001" for patient 0: at least four digits, as many as the largest id needs, so that ids
 * sort as text. */
void sb_gen_patient_id(const sb_gen *g, uint32_t patient, char *out, size_t cap);

/* Counts so far (bytes stay 0: sb_gen_write fills them in). */
void sb_gen_get_summary(const sb_gen *g, sb_gen_summary *sum);

void sb_gen_free(sb_gen *g);

/* ---- whole file -------------------------------------------------------------------------- */

/* Write the header and every row to out as CSV, streaming (memory grows with the patients,
 * not with the duration). Checks every write: SB_ERR_IO with the reason in err (a full disk,
 * a closed pipe). sum may be NULL. */
sb_err sb_gen_write(const sb_gen_opts *o, FILE *out, sb_gen_summary *sum, char *err,
                    size_t err_len);

/* ---- helpers shared with the command line ------------------------------------------------ */

/* "2026-01-01T00:00:00Z" or with .f, .ff or .fff, UTC only ("Z" or "+00:00"). Returns 0 and
 * the Unix time in ms, or -1. */
int sb_gen_parse_time(const char *s, int64_t *ms);

/* Unix ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" (24 characters and a NUL into out[25]). */
void sb_gen_format_time(int64_t ms, char out[25]);

/* A non-negative decimal with at most `decimals` digits after the point, as an integer scaled
 * by 10^decimals ("1.5", 3 -> 1500). Returns 0, or -1 if malformed, too precise or above max. */
int sb_gen_parse_fixed(const char *s, unsigned decimals, uint64_t max, uint64_t *out);

#endif
