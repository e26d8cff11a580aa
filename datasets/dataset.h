/* Healthcare datasets as streams of typed records.
 *
 * A dataset is a CSV file (read with libcsv, streaming: memory does not grow with the file)
 * plus a description that says which columns to send, under which names and types, which
 * column holds the timestamp and which the device (patient) id, and what to do with a bad
 * row. The description comes from a small INI file beside the CSV (datasets/describe.c) or
 * from flags; what it leaves out is inferred from the data (datasets/infer.c).
 *
 * Errors follow one shape, so a user can go straight to the spot:
 *     vitals.csv:1043: column "SpO2": expected a number, found "9 8"
 * and say what to do where that is not obvious. */
#ifndef SB_DATASETS_DATASET_H
#define SB_DATASETS_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* ---- types and values -------------------------------------------------------------------- */

typedef enum sb_col_type {
    SB_COL_AUTO = 0, /* infer from the data */
    SB_COL_INT,      /* a 64-bit signed integer, no leading zeros beyond "0" (else text) */
    SB_COL_REAL,     /* a finite decimal number */
    SB_COL_TEXT,     /* anything valid UTF-8 */
    SB_COL_TIME,     /* a timestamp in one of sb_time_format */
} sb_col_type;

typedef enum sb_time_format {
    SB_TIME_AUTO = 0,
    SB_TIME_ISO8601,    /* 2023-04-10T18:28:48Z, ...+02:00, fractional seconds allowed */
    SB_TIME_EPOCH_S,    /* seconds since 1970, possibly fractional */
    SB_TIME_EPOCH_MS,   /* milliseconds since 1970 */
    SB_TIME_RELATIVE_S, /* seconds since the start of the recording (BIDMC "Time [s]") */
    SB_TIME_US_12H,     /* 4/1/2016 7:54:00 AM (Fitbit), read as UTC */
} sb_time_format;

/* Lower-case names used in descriptions, flags and reports: "int", "real", "text", "time";
 * "iso8601", "epoch_s", "epoch_ms", "relative_s", "us_12h". Parsers return -1 if unknown. */
const char *sb_col_type_name(sb_col_type t);
int sb_col_type_parse(const char *s);
const char *sb_time_format_name(sb_time_format f);
int sb_time_format_parse(const char *s);

typedef struct sb_value {
    int missing;       /* empty or one of the missing-value markers */
    int64_t i;         /* SB_COL_INT; SB_COL_TIME: nanoseconds (since 1970, or since the start
                        * for SB_TIME_RELATIVE_S) */
    double r;          /* SB_COL_REAL (also set for INT) */
    const char *text;  /* the field as in the file (unquoted, NUL-terminated); always set */
    size_t text_len;
} sb_value;

/* One data row, as the description selects it. Pointers stay valid until the next call to
 * sb_dataset_next or sb_dataset_close. */
typedef struct sb_record {
    uint64_t line;          /* line in the file where the row starts (1 is the header) */
    uint64_t index;         /* 0-based among the records returned */
    const char *device;     /* the device column's text; NULL without a device column */
    int has_time;           /* a timestamp column exists and is present in this row */
    int64_t t_ns;           /* its value in nanoseconds (see sb_value.i) */
    const char *time_text;  /* the timestamp field as in the file; NULL without one */
    size_t n;               /* number of columns sent */
    const sb_value *values; /* n values, in the description's order */
} sb_record;

/* ---- description ------------------------------------------------------------------------- */

#define SB_DATASET_MAX_COLUMNS 256
#define SB_DATASET_MAX_MISSING 16

typedef enum sb_bad_rows {
    SB_BAD_ROWS_STOP = 0, /* stop at the first bad row with its error (default) */
    SB_BAD_ROWS_SKIP,     /* skip it, count it, remember the first few errors */
} sb_bad_rows;

typedef struct sb_dataset_column {
    char source[128];   /* header name in the file (trimmed) */
    char name[128];     /* name in the payload; source if empty */
    sb_col_type type;   /* SB_COL_AUTO: inferred */
    /* Added with the loader: for SB_COL_TIME, the format (SB_TIME_AUTO: detected like the time
     * column's); in a description "source = name:time:FORMAT". For the time column itself
     * desc.time_format rules. sb_dataset_columns reports the resolved one. */
    sb_time_format time_format;
} sb_dataset_column;

typedef struct sb_dataset_desc {
    char delimiter;                  /* ',' ';' '\t'; 0: detect from the header line */
    int no_header;                   /* columns are then named c1, c2, ... */
    char missing[SB_DATASET_MAX_MISSING][32]; /* extra missing markers beyond the defaults */
    int n_missing;
    size_t n_columns;                /* 0: send every column except device and timestamp */
    sb_dataset_column columns[SB_DATASET_MAX_COLUMNS];
    char time_column[128];           /* empty: none */
    sb_time_format time_format;      /* SB_TIME_AUTO: detected */
    char device_column[128];         /* empty: one device for the whole file */
    sb_bad_rows bad_rows;
    uint64_t infer_rows;             /* rows read to infer types; 0: 10000 */
} sb_dataset_desc;

/* Defaults: detected delimiter, header, NA/NaN/null/empty missing, all columns, stop on bad rows. */
void sb_dataset_desc_init(sb_dataset_desc *d);

/* Read a description file (INI; format in datasets/README.md) into d, over what d holds.
 * Errors name the file and line. */
sb_err sb_dataset_desc_load(sb_dataset_desc *d, const char *path, char *err, size_t err_len);

/* "vitals.csv" -> "vitals.dataset" if that exists; else *out is empty. */
void sb_dataset_desc_beside(const char *csv_path, char *out, size_t cap);

/* ---- reading ----------------------------------------------------------------------------- */

typedef struct sb_dataset sb_dataset;

/* Open path with description d (copied). Reads the header and up to d->infer_rows rows to
 * detect what d leaves open, checks that the named columns exist, then rewinds. */
sb_err sb_dataset_open(sb_dataset **out, const char *path, const sb_dataset_desc *d, char *err,
                       size_t err_len);

/* The next record: SB_OK with *got = 1, or SB_OK with *got = 0 at the end. A bad row under
 * SB_BAD_ROWS_STOP returns SB_ERR_PARSE with the error in err; under SKIP it is counted. */
sb_err sb_dataset_next(sb_dataset *ds, sb_record *rec, int *got, char *err, size_t err_len);

/* Start again from the first data row (for a second pass, or a replay that loops). */
sb_err sb_dataset_rewind(sb_dataset *ds, char *err, size_t err_len);

/* What the dataset resolved to: the sent columns (names, types), the time format, the
 * delimiter. Valid while ds is open. */
size_t sb_dataset_columns(const sb_dataset *ds, const sb_dataset_column **cols);
sb_time_format sb_dataset_time_format(const sb_dataset *ds);
char sb_dataset_delimiter(const sb_dataset *ds);
const char *sb_dataset_path(const sb_dataset *ds);
/* The device and time columns' header names; NULL when the dataset has none. */
const char *sb_dataset_device_column(const sb_dataset *ds);
const char *sb_dataset_time_column(const sb_dataset *ds);

typedef struct sb_dataset_stats {
    uint64_t rows;            /* data rows read (good and bad; blank lines excluded) */
    uint64_t records;         /* rows returned as records */
    uint64_t skipped;         /* bad rows skipped under SB_BAD_ROWS_SKIP */
    uint64_t blank_lines;
    uint64_t bytes;           /* bytes read from the file */
    char first_skip_error[256];
} sb_dataset_stats;
void sb_dataset_get_stats(const sb_dataset *ds, sb_dataset_stats *st);

void sb_dataset_close(sb_dataset *ds);

/* ---- parsing one field (also used by the tests and the generator's checks) --------------- */

/* Parse text as type t (time with format f; SB_TIME_AUTO tries each). On failure returns
 * SB_ERR_PARSE and writes what was expected ("a number", "an ISO-8601 timestamp") to want.
 * Missing-value markers are the caller's business: "NA" is not a number here (sb_dataset_next
 * checks the markers first). want may be NULL. */
sb_err sb_value_parse(sb_col_type t, sb_time_format f, const char *text, size_t len,
                      sb_value *v, const char **want);

#endif
