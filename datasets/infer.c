/* What a description leaves open, guessed from the data: per column the narrowest type every value fits (int, then real, else text), and for a
 * time column the one format every value fits. Leading zeros keep a column text (patient ids
 * such as 000207 are names, not numbers). Runs on the first infer_rows rows only, through
 * sb_value_parse, so that inference and reading can never disagree on what a value is. */
#include <math.h>
#include <string.h>

#include "datasets/infer.h"

#define TEXT_FORMATS (1u << SB_TIME_ISO8601 | 1u << SB_TIME_US_12H)

void sb_infer_init(sb_infer *c, int track_time)
{
    memset(c, 0, sizeof *c);
    c->track_time = track_time;
    c->time_formats = TEXT_FORMATS;
}

static int leading_zero(const char *s, size_t len)
{
    size_t i = len && (s[0] == '-' || s[0] == '+');
    return i + 1 < len && s[i] == '0' && s[i + 1] >= '0' && s[i + 1] <= '9';
}

void sb_infer_add(sb_infer *c, const char *text, size_t len, int missing, uint64_t line)
{
    if (missing) {
        c->missing++;
        return;
    }
    c->values++;
    sb_value v;
    if (!c->not_int && sb_value_parse(SB_COL_INT, SB_TIME_AUTO, text, len, &v, NULL) != SB_OK)
        c->not_int = 1;
    if (!c->not_real) {
        if (c->not_int && (leading_zero(text, len) ||
                           sb_value_parse(SB_COL_REAL, SB_TIME_AUTO, text, len, &v, NULL) != SB_OK))
            c->not_real = 1;
        else if (c->not_int)
            c->max_abs = fmax(c->max_abs, fabs(v.r));
        else
            c->max_abs = fmax(c->max_abs, fabs((double)v.i));
    }
    if (c->track_time && c->time_formats) {
        unsigned left = 0;
        for (int f = SB_TIME_ISO8601; f <= SB_TIME_US_12H; f++)
            if ((c->time_formats >> f & 1) &&
                sb_value_parse(SB_COL_TIME, (sb_time_format)f, text, len, &v, NULL) == SB_OK)
                left |= 1u << f;
        c->time_formats = left;
        if (!left && !c->bad_line) {
            c->bad_line = line;
            size_t n = len < sizeof c->bad_text - 1 ? len : sizeof c->bad_text - 1;
            memcpy(c->bad_text, text, n);
            c->bad_text[n] = '\0';
        }
    }
}

sb_col_type sb_infer_type(const sb_infer *c)
{
    if (c->values == 0) return SB_COL_TEXT;
    if (!c->not_int) return SB_COL_INT;
    if (!c->not_real) return SB_COL_REAL;
    return SB_COL_TEXT;
}

sb_time_format sb_infer_time_format(const sb_infer *c)
{
    if (c->values == 0) return SB_TIME_AUTO;
    if (!c->not_real)
        return c->max_abs > 1e11 ? SB_TIME_EPOCH_MS
             : c->max_abs > 1e8  ? SB_TIME_EPOCH_S
                                 : SB_TIME_RELATIVE_S;
    for (int f = SB_TIME_ISO8601; f <= SB_TIME_US_12H; f++)
        if (c->time_formats >> f & 1) return (sb_time_format)f;
    return SB_TIME_AUTO;
}
