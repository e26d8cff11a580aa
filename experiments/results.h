/* The results of a run (results/<run-id>/): the schema of cells.csv, one stored record per
 * cell x repetition, and the atomic rewrite of cells.csv from those records.
 *
 * Each finished cell x repetition is kept as raw/<cell>.r<k>.json ({"row": {...}, "output":
 * the child's JSON}), written to a temporary file and renamed, so that a crash leaves either
 * the whole record or none. cells.csv is regenerated from the records after each one, also by
 * rename: a reader never sees half a file, an interrupted run keeps every finished cell, and
 * --resume knows what is finished by which records exist. */
#ifndef SB_EXPERIMENTS_RESULTS_H
#define SB_EXPERIMENTS_RESULTS_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "common/err.h"

typedef struct sb_column {
    const char *name; /* units are in the name: _ns, _us, _ms, _s, _bytes, _kb, _pct, _hz */
    const char *doc;
} sb_column;

/* The columns of cells.csv, in order; NULL-terminated. */
extern const sb_column sb_cell_columns[];

/* Set a column of a row: a number that is not finite is left empty (null), never written as
 * nan or inf. */
void sb_row_num(json_t *row, const char *column, double v);
void sb_row_int(json_t *row, const char *column, long long v);

/* Print the schema as a Markdown table (results/README.md embeds it). */
void sb_cell_schema_markdown(FILE *fp);

/* A text field of a CSV file, quoted only when it has to be (RFC 4180). */
void sb_csv_text(FILE *fp, const char *s);

/* Write text to path via path.tmp and rename. */
sb_err sb_write_atomic(const char *path, const char *text, size_t len, char *err, size_t err_len);

/* Store the record of one cell x repetition (see above) under dir/raw/. */
sb_err sb_record_save(const char *dir, const char *cell_id, unsigned rep, json_t *row,
                      json_t *output, char *err, size_t err_len);

/* The stored row of a cell x repetition, or NULL when there is none (a new reference). */
json_t *sb_record_load(const char *dir, const char *cell_id, unsigned rep);

/* Rewrite dir/cells.csv from rows (an array of row objects, in run order). */
sb_err sb_cells_csv_write(const char *dir, json_t *rows, char *err, size_t err_len);

#endif
