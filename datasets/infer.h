/* Private to datasets/: type and time-format inference over a column's first values
 * (infer.c), used by the dataset layer when a description leaves a column's type open. */
#ifndef SB_DATASETS_INFER_H
#define SB_DATASETS_INFER_H

#include <stddef.h>
#include <stdint.h>

#include "datasets/dataset.h"

/* What the values of one column seen so far allow. */
typedef struct sb_infer {
    uint64_t values, missing; /* non-missing and missing values seen */
    int not_int, not_real;    /* a value was seen that is not an int / not a number */
    int track_time;           /* also narrow the text time formats (time columns only) */
    unsigned time_formats;    /* bit per sb_time_format still possible for every value */
    double max_abs;           /* of the numeric values */
    uint64_t bad_line;        /* first value that no text time format took */
    char bad_text[48];
} sb_infer;

void sb_infer_init(sb_infer *c, int track_time);
void sb_infer_add(sb_infer *c, const char *text, size_t len, int missing, uint64_t line);
/* SB_COL_INT, SB_COL_REAL or SB_COL_TEXT (every value missing -> text). */
sb_col_type sb_infer_type(const sb_infer *c);
/* For a time column: the format every value fits (numbers by size: > 1e11 epoch_ms, > 1e8
 * epoch_s, else relative_s), or SB_TIME_AUTO when none does or no value was seen. */
sb_time_format sb_infer_time_format(const sb_infer *c);

#endif
