/* The vital-signs generator's iteration and output: options and their limits, the time grid,
 * rows in time-then-patient order, CSV written with integer formatting only (no printf of a
 * double anywhere), and the events file. The patient model is datasets/physiology.c. */
#include "common/util.h"
#include "datasets/generate.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/physiology.h"

struct sb_gen {
    sb_gen_opts o;
    sb_phys ph;
    sb_patient *pt;
    uint64_t samples;   /* per patient */
    uint64_t sample;    /* the next row's sample index */
    uint32_t patient;   /* the next row's patient */
    int64_t t_ms;       /* the time of `sample` */
    int64_t last_ms;    /* the last sample's time */
    int id_digits;
    sb_gen_summary sum;
};

static const char *const event_names[SB_GEN_EV_KINDS] = {
    [SB_GEN_EV_DESATURATION] = "desaturation",
    [SB_GEN_EV_TACHYCARDIA] = "tachycardia",
};

const char *sb_gen_event_name(sb_gen_event_kind k)
{
    return (unsigned)k < SB_GEN_EV_KINDS ? event_names[k] : "unknown";
}

static void set_err(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t err_len, const char *fmt, ...)
{
    if (!err || !err_len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

/* ---- time -------------------------------------------------------------------------------- */


static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void put_digits(char *p, uint64_t v, int n)
{
    while (n-- > 0) {
        p[n] = (char)('0' + v % 10);
        v /= 10;
    }
}

void sb_gen_format_time(int64_t ms, char out[25])
{
    int64_t days = ms / 86400000, rem = ms % 86400000, y;
    if (rem < 0) {
        rem += 86400000;
        days--;
    }
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    memcpy(out, "0000-00-00T00:00:00.000Z", 25);
    put_digits(out, (uint64_t)(y < 0 ? 0 : y), 4);
    put_digits(out + 5, m, 2);
    put_digits(out + 8, d, 2);
    put_digits(out + 11, (uint64_t)(rem / 3600000), 2);
    put_digits(out + 14, (uint64_t)(rem / 60000 % 60), 2);
    put_digits(out + 17, (uint64_t)(rem / 1000 % 60), 2);
    put_digits(out + 20, (uint64_t)(rem % 1000), 3);
}

static int digits(const char **s, int n, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if ((*s)[i] < '0' || (*s)[i] > '9')
            return -1;
        *v = *v * 10 + (unsigned)((*s)[i] - '0');
    }
    *s += n;
    return 0;
}

int sb_gen_parse_time(const char *s, int64_t *ms)
{
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned y, mo, d, h, mi, se, frac = 0;
    if (digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) || *s++ != '-' ||
        digits(&s, 2, &d) || *s++ != 'T' || digits(&s, 2, &h) || *s++ != ':' ||
        digits(&s, 2, &mi) || *s++ != ':' || digits(&s, 2, &se))
        return -1;
    if (*s == '.') {
        s++;
        int n = 0;
        while (s[n] >= '0' && s[n] <= '9')
            n++;
        if (n < 1 || n > 3 || digits(&s, n, &frac))
            return -1;
        for (; n < 3; n++)
            frac *= 10;
    }
    if (strcmp(s, "Z") != 0 && strcmp(s, "+00:00") != 0)
        return -1;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap) ||
        h > 23 || mi > 59 || se > 59)
        return -1;
    *ms = ((sb_days_since_1970(y, mo, d) * 24 + h) * 60 + mi) * 60000 + (int64_t)se * 1000 + frac;
    return 0;
}

int sb_gen_parse_fixed(const char *s, unsigned decimals, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    unsigned frac = 0;
    int seen_point = 0, int_digits = 0;
    for (; *s; s++) {
        if (*s == '.' && !seen_point) {
            seen_point = 1;
            continue;
        }
        if (*s < '0' || *s > '9')
            return -1;
        if (seen_point && ++frac > decimals)
            return -1;
        if (!seen_point)
            int_digits++;
        if (v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (!int_digits || (seen_point && !frac))
        return -1;
    for (; frac < decimals; frac++) {
        if (v > UINT64_MAX / 10)
            return -1;
        v *= 10;
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

/* ---- options ----------------------------------------------------------------------------- */

void sb_gen_opts_init(sb_gen_opts *o)
{
    memset(o, 0, sizeof *o);
    o->patients = 10;
    o->duration_ms = 3600000;
    o->rate_mhz = 1000;
    o->seed = 1;
    o->start_ms = 1767225600000ll; /* 2026-01-01T00:00:00Z */
    o->missing = 0.002;
    o->events_per_hour = 0.1;
}

static int64_t sample_time(const sb_gen_opts *o, uint64_t k)
{
    /* k < duration_ms * rate_mhz / 1e6 + 1 keeps k * 1e6 below 2^63 within the limits. */
    return o->start_ms + (int64_t)(k * 1000000u / o->rate_mhz);
}

uint64_t sb_gen_samples(const sb_gen_opts *o)
{
    if (!o->rate_mhz)
        return 0;
    /* ceil(duration * rate): the k whose time k * 1e6 / rate falls before the end */
    return (o->duration_ms * o->rate_mhz + 999999) / 1000000;
}

sb_err sb_gen_check(const sb_gen_opts *o, char *err, size_t err_len)
{
    if (o->patients < 1 || o->patients > SB_GEN_MAX_PATIENTS) {
        set_err(err, err_len, "patients: expected 1 to %u, found %u", SB_GEN_MAX_PATIENTS,
                o->patients);
        return SB_ERR_ARG;
    }
    if (o->duration_ms < 1 || o->duration_ms > SB_GEN_MAX_DURATION_MS) {
        set_err(err, err_len, "duration: expected 1 ms to 8784 hours, found %llu ms",
                (unsigned long long)o->duration_ms);
        return SB_ERR_ARG;
    }
    if (o->rate_mhz < SB_GEN_MIN_RATE_MHZ || o->rate_mhz > SB_GEN_MAX_RATE_MHZ) {
        set_err(err, err_len, "rate: expected 0.001 to 100 samples per second, found %u mHz",
                o->rate_mhz);
        return SB_ERR_ARG;
    }
    if (o->start_ms < 0 || o->start_ms > SB_GEN_MAX_START_MS ||
        (uint64_t)(SB_GEN_MAX_START_MS - o->start_ms) < o->duration_ms) {
        set_err(err, err_len, "start: the recording must lie between 1970 and the end of 9999");
        return SB_ERR_ARG;
    }
    if (!(o->missing >= 0 && o->missing <= 1)) {
        set_err(err, err_len, "missing: expected a probability from 0 to 1");
        return SB_ERR_ARG;
    }
    if (!(o->events_per_hour >= 0 && o->events_per_hour <= SB_GEN_MAX_EVENTS_PER_HOUR)) {
        set_err(err, err_len, "events per hour: expected 0 to 60");
        return SB_ERR_ARG;
    }
    return SB_OK;
}

/* ---- record by record -------------------------------------------------------------------- */

sb_err sb_gen_new(sb_gen **out, const sb_gen_opts *o, char *err, size_t err_len)
{
    *out = NULL;
    sb_err rc = sb_gen_check(o, err, err_len);
    if (rc != SB_OK)
        return rc;
    sb_gen *g = calloc(1, sizeof *g);
    if (!g || !(g->pt = calloc(o->patients, sizeof *g->pt))) {
        free(g);
        set_err(err, err_len, "out of memory for %u patients", o->patients);
        return SB_ERR_NOMEM;
    }
    g->o = *o;
    sb_phys_init(&g->ph, o->rate_mhz, o->events_per_hour, o->missing);
    for (uint32_t i = 0; i < o->patients; i++)
        sb_patient_init(&g->pt[i], o->seed, i);
    g->samples = sb_gen_samples(o);
    g->t_ms = o->start_ms;
    g->last_ms = sample_time(o, g->samples - 1);
    g->id_digits = 4;
    for (uint32_t n = o->patients; n >= 10000; n /= 10)
        g->id_digits++;
    g->sum.patients = o->patients;
    g->sum.samples_per_patient = g->samples;
    g->sum.first_ms = o->start_ms;
    g->sum.last_ms = g->last_ms;
    *out = g;
    return SB_OK;
}

void sb_gen_patient_id(const sb_gen *g, uint32_t patient, char *out, size_t cap)
{
    snprintf(out, cap, "P%0*u", g->id_digits, patient + 1);
}

/* Nano-units with one decimal, for the events file. */
static void tenths(char *out, size_t cap, int64_t nano)
{
    int64_t t = (nano + 50000000) / 100000000;
    snprintf(out, cap, "%lld.%lld", (long long)(t / 10), (long long)(t % 10));
}

static sb_err write_event(sb_gen *g, uint32_t patient, const sb_event *e, char *err,
                          size_t err_len)
{
    char id[16], t0[25], t1[25], t2[25], t3[25], mag[32];
    sb_gen_patient_id(g, patient, id, sizeof id);
    sb_gen_format_time(e->start_ms, t0);
    sb_gen_format_time(e->onset_end_ms, t1);
    sb_gen_format_time(e->plateau_end_ms, t2);
    sb_gen_format_time(e->end_ms, t3);
    tenths(mag, sizeof mag, e->magnitude);
    int desat = e->kind == SB_GEN_EV_DESATURATION;
    if (fprintf(g->o.events_out, "%s,%s,%s,%s,%s,%s,%s,%s\n", id, sb_gen_event_name(e->kind), t0,
                t1, t2, t3, desat ? mag : "", desat ? "" : mag) < 0) {
        set_err(err, err_len, "events file: write failed: %s", strerror(errno));
        return SB_ERR_IO;
    }
    return SB_OK;
}

sb_err sb_gen_next(sb_gen *g, sb_gen_row *row, int *got, char *err, size_t err_len)
{
    *got = 0;
    if (g->sample >= g->samples)
        return SB_OK;
    if (g->patient == 0 && g->sample == 0 && g->o.events_out &&
        fputs(SB_GEN_EVENTS_HEADER "\n", g->o.events_out) < 0) {
        set_err(err, err_len, "events file: write failed: %s", strerror(errno));
        return SB_ERR_IO;
    }
    int started = 0;
    sb_event ev;
    row->patient = g->patient;
    row->sample = g->sample;
    row->t_ms = g->t_ms;
    sb_patient_step(&g->pt[g->patient], &g->ph, g->t_ms, g->sample == 0, g->last_ms, row->value,
                    &row->missing_mask, &started, &ev);
    if (started) {
        g->sum.events[ev.kind]++;
        if (g->o.events_out) {
            sb_err rc = write_event(g, g->patient, &ev, err, err_len);
            if (rc != SB_OK)
                return rc;
        }
    }
    for (unsigned m = row->missing_mask; m; m &= m - 1)
        g->sum.missing++;
    g->sum.rows++;
    g->sum.fields += SB_GEN_VITALS;
    if (++g->patient == g->o.patients) {
        g->patient = 0;
        g->sample++;
        g->t_ms = sample_time(&g->o, g->sample);
    }
    *got = 1;
    return SB_OK;
}

void sb_gen_get_summary(const sb_gen *g, sb_gen_summary *sum)
{
    *sum = g->sum;
}

void sb_gen_free(sb_gen *g)
{
    if (!g)
        return;
    free(g->pt);
    free(g);
}

/* ---- whole file -------------------------------------------------------------------------- */

#define OUT_BUF 65536
#define ROW_MAX 160 /* longest row: id, timestamp and six values with room to spare */

static char *put_uint(char *p, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

static sb_err flush_buf(FILE *out, const char *buf, size_t n, uint64_t *bytes, char *err,
                        size_t err_len)
{
    if (n && fwrite(buf, 1, n, out) != n) {
        set_err(err, err_len, "write failed: %s", strerror(errno));
        return SB_ERR_IO;
    }
    *bytes += n;
    return SB_OK;
}

sb_err sb_gen_write(const sb_gen_opts *o, FILE *out, sb_gen_summary *sum, char *err,
                    size_t err_len)
{
    sb_gen *g = NULL;
    char *buf = NULL, *ids = NULL;
    uint64_t bytes = 0;
    sb_err rc = sb_gen_new(&g, o, err, err_len);
    if (rc != SB_OK)
        return rc;
    /* Every patient's id once, all of one width. */
    size_t id_len = 1 + (size_t)g->id_digits;
    buf = malloc(OUT_BUF);
    ids = malloc(o->patients * (id_len + 1));
    if (!buf || !ids) {
        set_err(err, err_len, "out of memory");
        rc = SB_ERR_NOMEM;
        goto exit;
    }
    for (uint32_t i = 0; i < o->patients; i++)
        sb_gen_patient_id(g, i, ids + i * (id_len + 1), id_len + 1);

    size_t used = 0;
    memcpy(buf, SB_GEN_CSV_HEADER "\n", sizeof SB_GEN_CSV_HEADER);
    used = sizeof SB_GEN_CSV_HEADER;
    char stamp[25] = {0};
    uint64_t stamp_sample = UINT64_MAX;
    for (;;) {
        sb_gen_row r;
        int got;
        if ((rc = sb_gen_next(g, &r, &got, err, err_len)) != SB_OK)
            goto exit;
        if (!got)
            break;
        if (r.sample != stamp_sample) {
            sb_gen_format_time(r.t_ms, stamp);
            stamp_sample = r.sample;
        }
        char *p = buf + used;
        memcpy(p, ids + r.patient * (id_len + 1), id_len);
        p += id_len;
        *p++ = ',';
        memcpy(p, stamp, 24);
        p += 24;
        for (int v = 0; v < SB_GEN_VITALS; v++) {
            *p++ = ',';
            if (r.missing_mask & (1u << v))
                continue;
            if (v == SB_GEN_TEMP) {
                p = put_uint(p, (uint64_t)r.value[v] / 10);
                *p++ = '.';
                *p++ = (char)('0' + r.value[v] % 10);
            } else {
                p = put_uint(p, (uint64_t)r.value[v]);
            }
        }
        *p++ = '\n';
        used = (size_t)(p - buf);
        if (used > OUT_BUF - ROW_MAX) {
            if ((rc = flush_buf(out, buf, used, &bytes, err, err_len)) != SB_OK)
                goto exit;
            used = 0;
        }
    }
    if ((rc = flush_buf(out, buf, used, &bytes, err, err_len)) != SB_OK)
        goto exit;
    if (fflush(out) != 0 || ferror(out)) {
        set_err(err, err_len, "write failed: %s", strerror(errno));
        rc = SB_ERR_IO;
        goto exit;
    }
    if (o->events_out && (fflush(o->events_out) != 0 || ferror(o->events_out))) {
        set_err(err, err_len, "events file: write failed: %s", strerror(errno));
        rc = SB_ERR_IO;
        goto exit;
    }
    if (sum) {
        sb_gen_get_summary(g, sum);
        sum->bytes = bytes;
    }
exit:
    free(ids);
    free(buf);
    sb_gen_free(g);
    return rc;
}
