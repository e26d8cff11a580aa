/* One field as a typed value: integers, finite reals, UTF-8 text and the five timestamp
 * formats of sb_time_format, and the names of types and formats.
 *
 * This runs on every sent field, so it allocates nothing and calls no locale-dependent
 * function on the common path: reals with up to 19 significant digits and a small exponent
 * take the exact fast path (Clinger's), anything longer goes to strtod_l in the C locale.
 * Calendar dates become nanoseconds through days-from-civil arithmetic (the proleptic
 * Gregorian calendar, no time zone, no leap seconds), never through mktime or TZ. */
#include "common/util.h"
#include "datasets/dataset.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"

/* ---- names --------------------------------------------------------------------------------- */

static const char *const type_names[] = {"auto", "int", "real", "text", "time"};
static const char *const format_names[] = {"auto",     "iso8601",    "epoch_s",
                                           "epoch_ms", "relative_s", "us_12h"};

const char *sb_col_type_name(sb_col_type t)
{
    return (unsigned)t < sizeof type_names / sizeof *type_names ? type_names[t] : "?";
}

int sb_col_type_parse(const char *s)
{
    for (size_t i = 0; i < sizeof type_names / sizeof *type_names; i++)
        if (strcmp(s, type_names[i]) == 0) return (int)i;
    return -1;
}

const char *sb_time_format_name(sb_time_format f)
{
    return (unsigned)f < sizeof format_names / sizeof *format_names ? format_names[f] : "?";
}

int sb_time_format_parse(const char *s)
{
    for (size_t i = 0; i < sizeof format_names / sizeof *format_names; i++)
        if (strcmp(s, format_names[i]) == 0) return (int)i;
    return -1;
}

/* ---- numbers -------------------------------------------------------------------------------- */

/* The shape of a decimal number: [+-] digits [. digits] [(e|E) [+-] digits], with at least one
 * digit before or after the point. */
typedef struct num {
    int neg;
    const char *ip, *fp; /* integer and fraction digits */
    size_t il, fl;
    long exp;            /* clamped to +-100000: enough to tell overflow from underflow */
    int has_point, has_exp;
} num;

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int scan_num(const char *s, size_t len, num *n)
{
    size_t i = 0;
    memset(n, 0, sizeof *n);
    if (i < len && (s[i] == '-' || s[i] == '+')) n->neg = s[i++] == '-';
    n->ip = s + i;
    while (i < len && is_digit(s[i])) i++;
    n->il = (size_t)(s + i - n->ip);
    if (i < len && s[i] == '.') {
        n->has_point = 1;
        n->fp = s + ++i;
        while (i < len && is_digit(s[i])) i++;
        n->fl = (size_t)(s + i - n->fp);
    }
    if (n->il + n->fl == 0) return -1;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        n->has_exp = 1;
        int eneg = 0;
        i++;
        if (i < len && (s[i] == '-' || s[i] == '+')) eneg = s[i++] == '-';
        if (i >= len || !is_digit(s[i])) return -1;
        long e = 0;
        for (; i < len && is_digit(s[i]); i++)
            if (e < 100000) e = e * 10 + (s[i] - '0');
        n->exp = eneg ? -e : e;
    }
    return i == len ? 0 : -1;
}

/* 0 ok, -1 not an integer, -2 out of range, -3 leading zeros. One pass, no scan_num: this
 * is the hot path of integer columns. */
static int parse_int(const char *s, size_t len, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    if (len && (s[0] == '-' || s[0] == '+')) neg = s[i++] == '-';
    size_t start = i;
    uint64_t v = 0;
    for (; i < len; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';
        if (d > 9) return -1;
        v = v * 10 + d; /* wraps past 19 digits: checked below */
    }
    size_t nd = len - start;
    if (nd == 0) return -1;
    if (nd > 1 && s[start] == '0') return -3;
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    if (nd > 19 || v > limit) return -2; /* 19 digits cannot wrap */
    *out = !neg ? (int64_t)v : v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    return 0;
}

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static void c_locale_init(void) { c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

/* 0 ok, -1 not a number, -2 not finite. */
static int parse_real(const char *s, size_t len, double *out)
{
    static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    /* The common shape first: [-+]digits[.digits], at most 19 digits in all. */
    {
        size_t i = 0, nd = 0, fl = 0;
        int neg = 0;
        uint64_t m = 0;
        if (len && (s[0] == '-' || s[0] == '+')) neg = s[i++] == '-';
        for (; i < len && is_digit(s[i]); i++, nd++) m = m * 10 + (uint64_t)(s[i] - '0');
        if (i < len && s[i] == '.')
            for (i++; i < len && is_digit(s[i]); i++, nd++, fl++) m = m * 10 + (uint64_t)(s[i] - '0');
        if (i == len && nd > 0 && nd <= 19 && m <= (1ull << 53) && fl <= 22) {
            double d = fl ? (double)m / p10[fl] : (double)m;
            *out = neg ? -d : d;
            return 0;
        }
    }
    num n;
    if (scan_num(s, len, &n)) return -1;
    /* Significant digits, leading zeros skipped, into m (while they fit in 19). */
    uint64_t m = 0;
    size_t sig = 0;
    long e10 = n.exp - (long)n.fl;
    for (size_t k = 0; k < n.il + n.fl; k++) {
        char c = k < n.il ? n.ip[k] : n.fp[k - n.il];
        if (sig == 0 && c == '0') continue;
        if (++sig > 19) break;
        m = m * 10 + (uint64_t)(c - '0');
    }
    double d;
    if (sig == 0) {
        d = 0.0;
    } else if (sig <= 19 && m <= (1ull << 53) && e10 >= -22 && e10 <= 22) {
        /* Both m and 10^|e10| are exact doubles: one rounding, the correct one. */
        d = e10 >= 0 ? (double)m * p10[e10] : (double)m / p10[-e10];
    } else {
        char buf[512];
        if (len >= sizeof buf) return -1;
        memcpy(buf, s, len);
        buf[len] = '\0';
        pthread_once(&c_locale_once, c_locale_init);
        if (!c_locale) return -1;
        d = strtod_l(buf, NULL, c_locale);
        if (!isfinite(d)) return -2;
        *out = d;
        return 0;
    }
    *out = n.neg ? -d : d;
    return 0;
}

/* The number times 10^scale, truncated toward zero. 0 ok, -1 not a number, -2 overflow. */
static int parse_scaled(const char *s, size_t len, int scale, int64_t *out)
{
    static const int64_t p10[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
                                  100000000, 1000000000};
    /* The common shape first: [-+]digits[.digits], at most 18 digits before the point. */
    {
        size_t i = 0, il = 0, fl = 0;
        int neg = 0;
        int64_t ip = 0, fp = 0;
        if (len && (s[0] == '-' || s[0] == '+')) neg = s[i++] == '-';
        for (; i < len && is_digit(s[i]); i++, il++) ip = ip * 10 + (s[i] - '0');
        if (i < len && s[i] == '.')
            for (i++; i < len && is_digit(s[i]); i++, fl++)
                if ((int)fl < scale) fp = fp * 10 + (s[i] - '0');
        if (i == len && il + fl > 0 && il <= 18 && scale >= 0 && scale <= 9) {
            int64_t v;
            if (!__builtin_mul_overflow(ip, p10[scale], &v) &&
                !__builtin_add_overflow(v, fp * p10[scale - ((int)fl < scale ? (int)fl : scale)], &v)) {
                *out = neg ? -v : v;
                return 0;
            }
        }
    }
    num n;
    if (scan_num(s, len, &n)) return -1;
    /* Digits d[0..nd) with the point after the first il of them, moved by exp + scale. */
    size_t nd = n.il + n.fl;
    long point = (long)n.il + n.exp + scale;
    uint64_t limit = n.neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t v = 0;
    long k = 0;
    for (; k < point && (size_t)k < nd; k++) {
        unsigned d = (unsigned)((size_t)k < n.il ? n.ip[k] : n.fp[k - (long)n.il]) - '0';
        if (v > (limit - d) / 10) return -2;
        v = v * 10 + d;
    }
    for (; v != 0 && k < point; k++) { /* the point lies past the last digit */
        if (v > limit / 10) return -2;
        v *= 10;
    }
    *out = !n.neg ? (int64_t)v : v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    return 0;
}

/* ---- calendar ------------------------------------------------------------------------------- */


static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}

typedef struct civil {
    int64_t year;
    unsigned mon, day, hour, min, sec;
    int64_t frac_ns;
    int64_t offset_s; /* east of UTC */
} civil;

/* 0 ok, -1 not a valid date or time, -2 outside the int64 nanosecond range (1677-2262). */
static int civil_to_ns(const civil *c, int64_t *out)
{
    if (c->mon < 1 || c->mon > 12 || c->day < 1 || c->day > days_in_month(c->year, c->mon) ||
        c->hour > 23 || c->min > 59 || c->sec > 59)
        return -1;
    int64_t secs = sb_days_since_1970(c->year, c->mon, c->day) * 86400 + c->hour * 3600 +
                   c->min * 60 + c->sec - c->offset_s;
    int64_t ns, frac = c->frac_ns;
    if (secs < 0 && frac > 0) { /* so that the very first nanosecond, INT64_MIN, fits */
        secs += 1;
        frac -= 1000000000;
    }
    if (__builtin_mul_overflow(secs, (int64_t)1000000000, &ns) ||
        __builtin_add_overflow(ns, frac, &ns))
        return -2;
    *out = ns;
    return 0;
}

/* Exactly n digits at s[*i] into *v. */
static int digits(const char *s, size_t len, size_t *i, size_t n, unsigned *v)
{
    unsigned x = 0;
    for (size_t k = 0; k < n; k++, (*i)++) {
        if (*i >= len || !is_digit(s[*i])) return -1;
        x = x * 10 + (unsigned)(s[*i] - '0');
    }
    *v = x;
    return 0;
}

/* 1 to max digits at s[*i] into *v. */
static int digits_upto(const char *s, size_t len, size_t *i, size_t max, unsigned *v)
{
    size_t start = *i;
    unsigned x = 0;
    while (*i < len && *i - start < max && is_digit(s[*i])) x = x * 10 + (unsigned)(s[(*i)++] - '0');
    if (*i == start) return -1;
    *v = x;
    return 0;
}

/* [.,]digits: nanoseconds from the first nine, the rest checked and dropped. */
static void fraction(const char *s, size_t len, size_t *i, int64_t *ns)
{
    *ns = 0;
    if (*i + 1 >= len || (s[*i] != '.' && s[*i] != ',') || !is_digit(s[*i + 1])) return;
    (*i)++;
    int64_t scale = 100000000;
    for (; *i < len && is_digit(s[*i]); (*i)++, scale /= 10) *ns += (s[*i] - '0') * scale;
}

/* YYYY-MM-DD[(T|t| )hh:mm[:ss[.f]]][Z|z|(+|-)hh[[:]mm]]. 0, -1 shape, -2 range, -3 overflow */
static int parse_iso8601(const char *s, size_t len, int64_t *out)
{
    civil c = {0};
    size_t i = 0;
    unsigned y;
    if (digits(s, len, &i, 4, &y) || i >= len || s[i++] != '-' ||
        digits(s, len, &i, 2, &c.mon) || i >= len || s[i++] != '-' ||
        digits(s, len, &i, 2, &c.day))
        return -1;
    c.year = y;
    if (i < len) {
        if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') return -1;
        i++;
        if (digits(s, len, &i, 2, &c.hour) || i >= len || s[i++] != ':' ||
            digits(s, len, &i, 2, &c.min))
            return -1;
        if (i < len && s[i] == ':') {
            i++;
            if (digits(s, len, &i, 2, &c.sec)) return -1;
            fraction(s, len, &i, &c.frac_ns);
        }
        if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
            i++;
        } else if (i < len && (s[i] == '+' || s[i] == '-')) {
            int sign = s[i++] == '-' ? -1 : 1;
            unsigned oh, om = 0;
            if (digits(s, len, &i, 2, &oh)) return -1;
            if (i < len && s[i] == ':') i++;
            if (i < len && digits(s, len, &i, 2, &om)) return -1;
            if (oh > 23 || om > 59) return -2;
            c.offset_s = sign * (int64_t)(oh * 3600 + om * 60);
        }
        if (i != len) return -1;
    }
    int rc = civil_to_ns(&c, out);
    return rc == 0 ? 0 : rc == -1 ? -2 : -3;
}

/* M/D/YYYY h:mm[:ss[.f]] AM|PM, read as UTC. 0, -1 shape, -2 range, -3 overflow */
static int parse_us_12h(const char *s, size_t len, int64_t *out)
{
    civil c = {0};
    size_t i = 0;
    unsigned y;
    if (digits_upto(s, len, &i, 2, &c.mon) || i >= len || s[i++] != '/' ||
        digits_upto(s, len, &i, 2, &c.day) || i >= len || s[i++] != '/' ||
        digits(s, len, &i, 4, &y) || i >= len || s[i] != ' ')
        return -1;
    c.year = y;
    while (i < len && s[i] == ' ') i++;
    if (digits_upto(s, len, &i, 2, &c.hour) || i >= len || s[i++] != ':' ||
        digits(s, len, &i, 2, &c.min))
        return -1;
    if (i < len && s[i] == ':') {
        i++;
        if (digits(s, len, &i, 2, &c.sec)) return -1;
        fraction(s, len, &i, &c.frac_ns);
    }
    while (i < len && s[i] == ' ') i++;
    if (i + 2 != len || (s[i + 1] != 'M' && s[i + 1] != 'm')) return -1;
    int pm;
    if (s[i] == 'A' || s[i] == 'a') pm = 0;
    else if (s[i] == 'P' || s[i] == 'p') pm = 1;
    else return -1;
    if (c.hour < 1 || c.hour > 12) return -2;
    c.hour = c.hour % 12 + (pm ? 12 : 0); /* 12 AM is midnight, 12 PM noon */
    int rc = civil_to_ns(&c, out);
    return rc == 0 ? 0 : rc == -1 ? -2 : -3;
}

static const char *const want_iso = "an ISO-8601 timestamp (like 2023-04-10T18:28:48Z)";
static const char *const want_us = "a date and time like 4/1/2016 7:54:00 AM";
static const char *const want_date = "a valid date and time";
static const char *const want_range = "a time between 1677 and 2262";

static int parse_time(sb_time_format f, const char *s, size_t len, int64_t *ns, const char **want)
{
    int rc;
    switch (f) {
    case SB_TIME_ISO8601:
        rc = parse_iso8601(s, len, ns);
        *want = rc == -1 ? want_iso : rc == -2 ? want_date : want_range;
        return rc;
    case SB_TIME_US_12H:
        rc = parse_us_12h(s, len, ns);
        *want = rc == -1 ? want_us : rc == -2 ? want_date : want_range;
        return rc;
    case SB_TIME_EPOCH_S:
        rc = parse_scaled(s, len, 9, ns);
        *want = rc == -1 ? "seconds since 1970 (a number)" : want_range;
        return rc;
    case SB_TIME_EPOCH_MS:
        rc = parse_scaled(s, len, 6, ns);
        *want = rc == -1 ? "milliseconds since 1970 (a number)" : want_range;
        return rc;
    case SB_TIME_RELATIVE_S:
        rc = parse_scaled(s, len, 9, ns);
        *want = rc == -1 ? "seconds (a number)" : "seconds within 292 years";
        return rc;
    case SB_TIME_AUTO: {
        static const sb_time_format order[] = {SB_TIME_ISO8601, SB_TIME_US_12H};
        for (size_t k = 0; k < 2; k++) {
            rc = parse_time(order[k], s, len, ns, want);
            if (rc != -1) return rc; /* the right shape: its verdict stands */
        }
        double d;
        if (parse_real(s, len, &d) == 0) {
            double a = fabs(d);
            f = a > 1e11 ? SB_TIME_EPOCH_MS : a > 1e8 ? SB_TIME_EPOCH_S : SB_TIME_RELATIVE_S;
            return parse_time(f, s, len, ns, want);
        }
        *want = "a timestamp";
        return -1;
    }
    }
    *want = "a known time format";
    return -1;
}

/* ---- the one entry point -------------------------------------------------------------------- */

sb_err sb_value_parse(sb_col_type t, sb_time_format f, const char *text, size_t len,
                      sb_value *v, const char **want)
{
    const char *w = NULL;
    int rc = -1;
    v->missing = 0;
    v->i = 0;
    v->r = 0.0;
    v->text = text;
    v->text_len = len;
    switch (t) {
    case SB_COL_INT:
        rc = parse_int(text, len, &v->i);
        w = rc == -2 ? "an integer between -9223372036854775808 and 9223372036854775807"
            : rc == -3 ? "an integer without leading zeros" : "an integer";
        v->r = (double)v->i;
        break;
    case SB_COL_REAL:
        rc = parse_real(text, len, &v->r);
        w = rc == -2 ? "a finite number" : "a number";
        break;
    case SB_COL_TEXT: {
        int nul;
        size_t partial;
        rc = sb_utf8_prefix((const unsigned char *)text, len, &nul, &partial) == len ? 0 : -1;
        w = "UTF-8 text";
        break;
    }
    case SB_COL_TIME:
        rc = parse_time(f, text, len, &v->i, &w);
        v->r = (double)v->i / 1e9;
        break;
    case SB_COL_AUTO:
        w = "a column type (int, real, text or time)";
        if (want) *want = w;
        return SB_ERR_ARG;
    }
    if (rc == 0) return SB_OK;
    v->i = 0;
    v->r = 0.0;
    if (want) *want = w;
    return SB_ERR_PARSE;
}
