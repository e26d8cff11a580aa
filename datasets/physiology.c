/* The patient model of the vital-signs generator: what a patient is (baselines, drifts, rhythm,
 * noise, events) and how it moves from one sample to the next. datasets/DATACARD.md restates
 * these parameters for the people who use the data; change both together.
 *
 * Everything is integer arithmetic in nano-units, so the output is bit-identical on every
 * architecture; the two conversions from double (sb_phys_init) are exact scalings or plain
 * IEEE-754 products, which every platform rounds alike. */
#include "datasets/physiology.h"

#define NANO_PER_MILLI 1000000ll
#define MICRO 1000000ll
#define DAY_MS 86400000ll
#define HOUR_MS 3600000ll
#define REFRACTORY_MS (10 * 60000ll) /* between one event's end and the next one's start */

/* ---- random streams ---------------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void sb_rng_seed(sb_rng *r, uint64_t seed, uint64_t patient, uint64_t stream)
{
    /* Each coordinate passes through splitmix64 before it is mixed in, so that neighbouring
     * seeds, patients and streams start far apart. */
    uint64_t a = seed, b = patient, c = stream;
    uint64_t x = splitmix64(&a) ^ (splitmix64(&b) * 0xD1B54A32D192ED03ull) ^
                 (splitmix64(&c) * 0x8CB92BA72F3D8DD7ull);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3])) /* the one state xoshiro cannot leave */
        r->s[0] = 1;
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t sb_rng_next(sb_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

int64_t sb_rng_gauss_micro(sb_rng *r)
{
    int64_t sum = 0;
    for (int i = 0; i < 3; i++) {
        uint64_t u = sb_rng_next(r);
        sum += (int64_t)(u & 0xFFFF) + (int64_t)((u >> 16) & 0xFFFF) +
               (int64_t)((u >> 32) & 0xFFFF) + (int64_t)(u >> 48);
    }
    /* (sum - 12 * 32767.5) / 65536 has unit variance; times 1e6 = times 15625 / 1024. */
    return (2 * sum - 12 * 65535) * 15625 / 2048;
}

int64_t sb_rng_uniform(sb_rng *r, int64_t lo, int64_t hi)
{
    uint64_t range = (uint64_t)(hi - lo) + 1;
    return lo + (int64_t)(((sb_rng_next(r) >> 32) * range) >> 32);
}

int sb_rng_below(sb_rng *r, uint64_t thr53)
{
    return (sb_rng_next(r) >> 11) < thr53;
}

uint64_t sb_rng_threshold(double p)
{
    if (!(p > 0))
        return 0;
    if (p >= 1)
        return 1ull << 53;
    return (uint64_t)(p * 9007199254740992.0); /* times 2^53: exact, then truncated */
}

/* ---- parameters -------------------------------------------------------------------------- */

/* One vital sign, in milli-units of its output unit (the DATACARD's table). */
typedef struct vital_model {
    int64_t pop_mean, pop_sd, base_lo, base_hi; /* baseline: normal, then clamped */
    int64_t drift_sd, drift_tau_s;              /* Ornstein-Uhlenbeck deviation, clamped at 3 sd */
    int64_t noise_sd;                           /* white measurement noise per sample */
    int64_t circ_lo, circ_hi, acro_h;           /* circadian amplitude (uniform) and peak hour */
    int64_t lo, hi;                             /* hard clamps */
    int64_t unit_nano;                          /* nano-units per printed step */
} vital_model;

/* Diastolic is special: its baseline is systolic times a ratio (in thousandths) drawn from the
 * row's pop_* and base_* fields, its drift is half of systolic's plus its own, its rhythm is
 * 0.6 of systolic's. */
static const vital_model models[SB_GEN_VITALS] = {
    /*               pop_mean pop_sd base_lo base_hi drift tau_s noise circ_lo circ_hi acro
     *               lo      hi      unit_nano */
    [SB_GEN_HR]   = {76000,  9000,  55000,  95000,  4000, 1800, 1500, 2000, 4000, 15,
                     30000,  200000, 1000000000},
    [SB_GEN_SPO2] = {96500,  1200,  93000,  98000,  500,  1200, 400,  0,    0,    0,
                     70000,  100000, 1000000000},
    [SB_GEN_SYS]  = {122000, 12000, 100000, 155000, 5000, 1800, 2500, 3000, 7000, 14,
                     70000,  220000, 1000000000},
    [SB_GEN_DIA]  = {630,    50,    520,    720,    2500, 1800, 1800, 0,    0,    14,
                     40000,  130000, 1000000000},
    [SB_GEN_TEMP] = {36800,  250,   36200,  37500,  150,  3600, 30,   200,  400,  17,
                     34000,  41000,  100000000},
    [SB_GEN_RR]   = {16000,  2500,  11000,  22000,  1200, 1200, 800,  300,  800,  15,
                     6000,   40000,  1000000000},
};

#define DIA_BELOW_SYS 10 /* printed diastolic is at most systolic - 10 mmHg */

/* Events (DATACARD "Events"); times in ms, magnitudes in micro-units. */
#define DESAT_ONSET_MS 40000, 80000
#define DESAT_PLATEAU_MS 20000, 120000
#define DESAT_RECOVERY_MS 120000, 300000
#define DESAT_DEPTH_MICRO 8000000, 15000000 /* SpO2 points */
#define DESAT_HR_TENTHS_PER_POINT 3        /* HR rises 0.3 bpm per point of SpO2 lost */
#define DESAT_RR_TENTHS_PER_POINT 5        /* RR rises 0.5 breaths/min per point */
#define TACHY_ONSET_MS 10000, 30000
#define TACHY_PLATEAU_MS 120000, 600000
#define TACHY_OFFSET_MS 30000, 90000
#define TACHY_TARGET_MICRO 120000000, 160000000 /* HR at the plateau, bpm */
#define TACHY_RR_NANO 3000000000ll              /* RR rise at the plateau */
#define TACHY_SYS_NANO 8000000000ll             /* systolic fall */
#define TACHY_DIA_NANO 4000000000ll             /* diastolic fall */

/* ---- fixed-point helpers ----------------------------------------------------------------- */

static uint64_t isqrt64(uint64_t v)
{
    uint64_t res = 0, bit = 1ull << 62;
    while (bit > v)
        bit >>= 2;
    while (bit) {
        if (v >= res + bit) {
            v -= res + bit;
            res = (res >> 1) + bit;
        } else {
            res >>= 1;
        }
        bit >>= 2;
    }
    return res;
}

static inline int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* sin(2 pi k / 256) x 1e6 for k = 0..64; the rest of the circle by symmetry. */
static const int32_t sin_quarter[65] = {
    0,      24541,  49068,  73565,  98017,  122411, 146730, 170962, 195090, 219101, 242980,
    266713, 290285, 313682, 336890, 359895, 382683, 405241, 427555, 449611, 471397, 492898,
    514103, 534998, 555570, 575808, 595699, 615232, 634393, 653173, 671559, 689541, 707107,
    724247, 740951, 757209, 773010, 788346, 803208, 817585, 831470, 844854, 857729, 870087,
    881921, 893224, 903989, 914210, 923880, 932993, 941544, 949528, 956940, 963776, 970031,
    975702, 980785, 985278, 989177, 992480, 995185, 997290, 998795, 999699, 1000000,
};

static int64_t sin256(int64_t k)
{
    k &= 255;
    if (k <= 64)
        return sin_quarter[k];
    if (k <= 128)
        return sin_quarter[128 - k];
    if (k <= 192)
        return -sin_quarter[k - 128];
    return -sin_quarter[256 - k];
}

/* cos(2 pi pos / day) x 1e6, pos in [0, DAY_MS), by linear interpolation in the table. */
static int64_t cos_day_micro(int64_t pos_ms)
{
    int64_t x = ((pos_ms + DAY_MS / 4) % DAY_MS) * 256;
    int64_t k = x / DAY_MS, frac = (x % DAY_MS) * MICRO / DAY_MS;
    int64_t a = sin256(k), b = sin256(k + 1);
    return a + (b - a) * frac / MICRO;
}

/* ---- model ------------------------------------------------------------------------------- */

void sb_phys_init(sb_phys *ph, uint32_t rate_mhz, double events_per_hour, double missing)
{
    int64_t period_us = (1000000000ll + rate_mhz / 2) / rate_mhz;
    for (int v = 0; v < SB_GEN_VITALS; v++) {
        /* x' = (1 - a) x + s z keeps variance sd^2 when s = sd sqrt(2a - a^2): the drift has
         * the same spread at every sampling rate. */
        int64_t a = period_us * (1ll << 24) / (models[v].drift_tau_s * 1000000);
        if (a > (1ll << 24) - 1)
            a = (1ll << 24) - 1;
        uint64_t k = isqrt64((uint64_t)(a * ((1ll << 25) - a))); /* x 2^24 */
        ph->decay_q24[v] = a;
        ph->step_sd[v] = models[v].drift_sd * NANO_PER_MILLI * (int64_t)k / (1ll << 24);
    }
    ph->event_thr53 = sb_rng_threshold(events_per_hour * (double)period_us / 3.6e9);
    ph->missing_thr53 = sb_rng_threshold(missing);
}

void sb_patient_init(sb_patient *p, uint64_t seed, uint32_t index)
{
    sb_rng base;
    sb_rng_seed(&base, seed, index, SB_STREAM_BASELINE);
    sb_rng_seed(&p->dyn, seed, index, SB_STREAM_DYNAMICS);
    sb_rng_seed(&p->ev, seed, index, SB_STREAM_EVENTS);
    sb_rng_seed(&p->miss, seed, index, SB_STREAM_MISSING);
    for (int v = 0; v < SB_GEN_VITALS; v++) {
        const vital_model *m = &models[v];
        int64_t b = m->pop_mean * NANO_PER_MILLI + m->pop_sd * NANO_PER_MILLI *
                                                       sb_rng_gauss_micro(&base) / MICRO;
        p->base[v] = clamp64(b, m->base_lo * NANO_PER_MILLI, m->base_hi * NANO_PER_MILLI);
        /* Amplitudes drawn in micro-units (ranges below 2^32), peaks within an hour of the
         * model's hour. */
        p->circ_amp[v] = sb_rng_uniform(&base, m->circ_lo * 1000, m->circ_hi * 1000) * 1000;
        p->acro_ms[v] = (m->acro_h * HOUR_MS + sb_rng_uniform(&base, -HOUR_MS, HOUR_MS) + DAY_MS) %
                        DAY_MS;
        int64_t sd = m->drift_sd * NANO_PER_MILLI;
        p->drift[v] = clamp64(sd * sb_rng_gauss_micro(&p->dyn) / MICRO, -3 * sd, 3 * sd);
    }
    /* the ratio drawn above (x 1e9, like every value) times systolic */
    p->base[SB_GEN_DIA] = p->base[SB_GEN_SYS] / 1000 * (p->base[SB_GEN_DIA] / 1000) / 1000;
    p->circ_amp[SB_GEN_DIA] = p->circ_amp[SB_GEN_SYS] * 6 / 10;
    p->acro_ms[SB_GEN_DIA] = p->acro_ms[SB_GEN_SYS];
    p->in_event = 0;
    p->next_eligible_ms = INT64_MIN;
}

static void draw_event(sb_patient *p, int64_t t_ms, sb_event *e)
{
    int64_t on, plateau, off;
    e->kind = (sb_rng_next(&p->ev) >> 63) ? SB_GEN_EV_TACHYCARDIA : SB_GEN_EV_DESATURATION;
    if (e->kind == SB_GEN_EV_DESATURATION) {
        on = sb_rng_uniform(&p->ev, DESAT_ONSET_MS);
        plateau = sb_rng_uniform(&p->ev, DESAT_PLATEAU_MS);
        off = sb_rng_uniform(&p->ev, DESAT_RECOVERY_MS);
        e->magnitude = sb_rng_uniform(&p->ev, DESAT_DEPTH_MICRO) * 1000;
    } else {
        on = sb_rng_uniform(&p->ev, TACHY_ONSET_MS);
        plateau = sb_rng_uniform(&p->ev, TACHY_PLATEAU_MS);
        off = sb_rng_uniform(&p->ev, TACHY_OFFSET_MS);
        e->magnitude = sb_rng_uniform(&p->ev, TACHY_TARGET_MICRO) * 1000;
    }
    e->start_ms = t_ms;
    e->onset_end_ms = t_ms + on;
    e->plateau_end_ms = e->onset_end_ms + plateau;
    e->end_ms = e->plateau_end_ms + off;
}

/* How far into the event t is: 0 before and after, 1e6 on the plateau, linear ramps between. */
static int64_t envelope_micro(const sb_event *e, int64_t t)
{
    if (t <= e->start_ms || t >= e->end_ms)
        return 0;
    if (t < e->onset_end_ms)
        return (t - e->start_ms) * MICRO / (e->onset_end_ms - e->start_ms);
    if (t < e->plateau_end_ms)
        return MICRO;
    return (e->end_ms - t) * MICRO / (e->end_ms - e->plateau_end_ms);
}

void sb_patient_step(sb_patient *p, const sb_phys *ph, int64_t t_ms, int first, int64_t last_ms,
                     int32_t value[SB_GEN_VITALS], unsigned *missing_mask, int *started,
                     sb_event *ev)
{
    int64_t x[SB_GEN_VITALS];

    if (!first) {
        for (int v = 0; v < SB_GEN_VITALS; v++) {
            int64_t sd = models[v].drift_sd * NANO_PER_MILLI;
            int64_t d = p->drift[v];
            d -= d * ph->decay_q24[v] / (1ll << 24);
            d += ph->step_sd[v] * sb_rng_gauss_micro(&p->dyn) / MICRO;
            p->drift[v] = clamp64(d, -3 * sd, 3 * sd);
        }
    }

    *started = 0;
    if (p->in_event && t_ms >= p->event.end_ms) {
        p->in_event = 0;
        p->next_eligible_ms = p->event.end_ms + REFRACTORY_MS;
    }
    if (!p->in_event && t_ms >= p->next_eligible_ms && ph->event_thr53 &&
        sb_rng_below(&p->ev, ph->event_thr53)) {
        sb_event e;
        draw_event(p, t_ms, &e);
        if (e.end_ms <= last_ms) { /* only events that end inside the recording */
            p->event = e;
            p->in_event = 1;
            *started = 1;
            *ev = e;
        }
    }

    int64_t tod = t_ms % DAY_MS;
    for (int v = 0; v < SB_GEN_VITALS; v++) {
        int64_t circ = 0;
        if (p->circ_amp[v])
            circ = p->circ_amp[v] * cos_day_micro((tod - p->acro_ms[v] + DAY_MS) % DAY_MS) / MICRO;
        x[v] = p->base[v] + circ + p->drift[v];
    }
    x[SB_GEN_DIA] += p->drift[SB_GEN_SYS] / 2;

    if (p->in_event) {
        int64_t e = envelope_micro(&p->event, t_ms), m = p->event.magnitude;
        if (p->event.kind == SB_GEN_EV_DESATURATION) {
            x[SB_GEN_SPO2] -= m * e / MICRO;
            x[SB_GEN_HR] += m * DESAT_HR_TENTHS_PER_POINT / 10 * e / MICRO;
            x[SB_GEN_RR] += m * DESAT_RR_TENTHS_PER_POINT / 10 * e / MICRO;
        } else {
            x[SB_GEN_HR] += (m - x[SB_GEN_HR]) * e / MICRO; /* towards the target, not above */
            x[SB_GEN_RR] += TACHY_RR_NANO / MICRO * e;
            x[SB_GEN_SYS] -= TACHY_SYS_NANO / MICRO * e;
            x[SB_GEN_DIA] -= TACHY_DIA_NANO / MICRO * e;
        }
    }

    for (int v = 0; v < SB_GEN_VITALS; v++) {
        const vital_model *m = &models[v];
        x[v] += m->noise_sd * NANO_PER_MILLI * sb_rng_gauss_micro(&p->dyn) / MICRO;
        x[v] = clamp64(x[v], m->lo * NANO_PER_MILLI, m->hi * NANO_PER_MILLI);
        /* positive, so this rounds half up; constant divisors make it a multiplication */
        if (m->unit_nano == 100000000)
            value[v] = (int32_t)((x[v] + 50000000) / 100000000);
        else
            value[v] = (int32_t)((x[v] + 500000000) / 1000000000);
    }
    if (value[SB_GEN_DIA] > value[SB_GEN_SYS] - DIA_BELOW_SYS)
        value[SB_GEN_DIA] = value[SB_GEN_SYS] - DIA_BELOW_SYS;

    unsigned mask = 0;
    if (ph->missing_thr53)
        for (int v = 0; v < SB_GEN_VITALS; v++)
            if (sb_rng_below(&p->miss, ph->missing_thr53))
                mask |= 1u << v;
    *missing_mask = mask;
}
