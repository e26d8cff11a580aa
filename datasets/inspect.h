/* `sealbench dataset inspect`: one streaming pass over a dataset that reports what a user
 * needs before replaying it: rows, the columns with their resolved types, missing values and
 * ranges per column, devices, the time span, the payload size distribution per encoding, and
 * the problems found (bad rows are counted, with the first few errors, rather than stopping). */
#ifndef SB_DATASETS_INSPECT_H
#define SB_DATASETS_INSPECT_H

#include <jansson.h>

#include "common/err.h"
#include "datasets/dataset.h"

/* Inspect path under description d (its bad-row policy is overridden to skip-and-count).
 * On success *out is a JSON object (see the command's help). */
sb_err sb_dataset_inspect(const char *path, const sb_dataset_desc *d, json_t **out, char *err,
                          size_t err_len);

#endif
