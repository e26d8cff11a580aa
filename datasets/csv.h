/* Private to datasets/: the streaming CSV reader under sb_dataset, with its own delimiter
 * detection. Nothing here is part of the public interface (dataset.h).
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

/* snprintf into err (n bytes) for the reader and the dataset layer; NULL or 0 is a no-op. */
void sb_csv_errf(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
