/* Private to datasets/: the streaming CSV reader under sb_dataset, the inference helpers, and
 * the UTF-8 check both share. Nothing here is part of the public interface (dataset.h).
 *
 * The reader hands out one row at a time from a file read in fixed-size blocks: memory is the
 * block, the rows parsed from it and at most one row of SB_CSV_MAX_ROW bytes, whatever the
 * size of the file. */
#ifndef SB_DATASETS_CSV_H
#define SB_DATASETS_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "datasets/dataset.h"

#define SB_CSV_BLOCK (64u * 1024u)      /* bytes per read() and per libcsv chunk */
#define SB_CSV_MAX_ROW (1024u * 1024u)  /* a longer row is an error, not unbounded growth */
#define SB_CSV_MAX_FIELDS 65536u        /* fields in one row */

/* ---- the reader (csv.c) ------------------------------------------------------------------ */

typedef struct sb_csv_field {
    const char *p; /* unquoted, NUL-terminated */
    size_t len;
} sb_csv_field;

typedef struct sb_csv_row {
    uint64_t line;         /* where the row starts (1-based, counting every newline) */
    size_t n;              /* fields */
    const sb_csv_field *f; /* valid until the next sb_csv_next, rewind or close */
} sb_csv_row;

typedef struct sb_csv sb_csv;

/* delim: ',' ';' '\t' (any single byte but a quote or a newline), or 0 to detect it from the
 * first non-blank line. */
sb_err sb_csv_open(sb_csv **out, const char *path, char delim, char *err, size_t err_len);

/* The next non-blank row: SB_OK with *got = 1, or *got = 0 at the end of the file. Errors
 * about the file as a whole (binary, not UTF-8, a row too long, an unterminated quote, a read
 * error) come after the rows before them, and stay until a rewind. */
sb_err sb_csv_next(sb_csv *r, sb_csv_row *row, int *got, char *err, size_t err_len);

sb_err sb_csv_rewind(sb_csv *r, char *err, size_t err_len);
char sb_csv_delimiter(const sb_csv *r);
uint64_t sb_csv_blank_lines(const sb_csv *r); /* blank lines met so far in this pass */
uint64_t sb_csv_bytes(const sb_csv *r);       /* bytes read so far in this pass */
void sb_csv_close(sb_csv *r);

/* Length of the longest valid UTF-8 prefix of s. *nul is set when the first bad byte is a
 * NUL; *partial to the length of a sequence cut short by the end of s (0 if none). */
size_t sb_utf8_prefix(const unsigned char *s, size_t len, int *nul, size_t *partial);

/* ---- inference (infer.c) ----------------------------------------------------------------- */

/* The delimiter of the first non-blank line of buf (after a byte-order mark): the most
 * frequent of , ; and tab outside quotes; ',' when none or on a tie with ','. */
char sb_infer_delimiter(const char *buf, size_t len);

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

/* snprintf into err (n bytes) for the reader and the dataset layer; NULL or 0 is a no-op. */
void sb_csv_errf(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
