/* The patient model behind datasets/generate.c: random streams, the per-vital parameters and
 * one patient's state advanced sample by sample. Internal to datasets/; the public face is
 * datasets/generate.h.
 *
 * Quantities are int64 in nano-units (1e-9 of the vital's unit: 72 bpm is 72e9), times in
 * milliseconds, fractions in micro-units (1e6 = 1). Only integer arithmetic touches anything
 * that reaches the output, so results are bit-identical across compilers and architectures. */
#ifndef SB_DATASETS_PHYSIOLOGY_H
#define SB_DATASETS_PHYSIOLOGY_H

#include <stdint.h>

#include "datasets/generate.h"

/* ---- random streams ---------------------------------------------------------------------- */

/* xoshiro256** (Blackman and Vigna), seeded through splitmix64. */
typedef struct sb_rng {
    uint64_t s[4];
} sb_rng;

/* The purposes of a patient's streams: each has its own so that, for example, changing the
 * missing-value probability changes no value. */
enum { SB_STREAM_BASELINE = 1, SB_STREAM_DYNAMICS, SB_STREAM_EVENTS, SB_STREAM_MISSING };

void sb_rng_seed(sb_rng *r, uint64_t seed, uint64_t patient, uint64_t stream);
uint64_t sb_rng_next(sb_rng *r);

/* A standard normal deviate times 1e6: the Irwin-Hall sum of twelve 16-bit uniforms, minus its
 * mean. Unit variance; tails cut at 6 standard deviations, which the clamps make moot. */
int64_t sb_rng_gauss_micro(sb_rng *r);

/* Uniform in [lo, hi] (hi - lo below 2^32). */
int64_t sb_rng_uniform(sb_rng *r, int64_t lo, int64_t hi);

/* 1 with probability thr / 2^53. */
int sb_rng_below(sb_rng *r, uint64_t thr53);

/* Probability p (0..1) as a threshold for sb_rng_below. */
uint64_t sb_rng_threshold(double p);

/* ---- model ------------------------------------------------------------------------------- */

/* What the sampling rate fixes, shared by every patient. */
typedef struct sb_phys {
    int64_t decay_q24[SB_GEN_VITALS];   /* drift decay per sample, x 2^24 */
    int64_t step_sd[SB_GEN_VITALS];     /* drift innovation per sample, nano-units */
    uint64_t event_thr53;               /* P(an event starts at a sample), x 2^53 */
    uint64_t missing_thr53;             /* P(a field is empty), x 2^53 */
} sb_phys;

void sb_phys_init(sb_phys *ph, uint32_t rate_mhz, double events_per_hour, double missing);

typedef struct sb_event {
    sb_gen_event_kind kind;
    int64_t start_ms, onset_end_ms, plateau_end_ms, end_ms;
    int64_t magnitude;   /* desaturation: SpO2 drop; tachycardia: target HR (nano-units) */
} sb_event;

typedef struct sb_patient {
    sb_rng dyn, ev, miss;
    int64_t base[SB_GEN_VITALS];     /* baselines (nano) */
    int64_t drift[SB_GEN_VITALS];    /* slow deviations (nano); DIA's is its own part only */
    int64_t circ_amp[SB_GEN_VITALS]; /* circadian amplitude (nano) */
    int64_t acro_ms[SB_GEN_VITALS];  /* time of day of the circadian peak */
    int in_event;
    sb_event event;
    int64_t next_eligible_ms;        /* end of the refractory period after the last event */
} sb_patient;

void sb_patient_init(sb_patient *p, uint64_t seed, uint32_t index);

/* One sample at time t_ms (first: no drift step before it). An event may begin here if it also
 * ends no later than last_ms; then *started is set and *ev describes it. Fills value[] in the
 * output units of sb_gen_vital and *missing_mask. */
void sb_patient_step(sb_patient *p, const sb_phys *ph, int64_t t_ms, int first, int64_t last_ms,
                     int32_t value[SB_GEN_VITALS], unsigned *missing_mask, int *started,
                     sb_event *ev);

#endif
