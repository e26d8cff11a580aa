/* What this binary offers: every backend ciphers/backends.txt knows (built or not), and each
 * (backend, suite) and (backend, group) pair, ok or unavailable with the reason, with the sizes
 * PROTOCOL.md gives each suite on the wire. `sealbench list` prints it; `sealbench list --csv`
 * and the run manifest carry the one CSV form, which Python and the tests read instead of
 * keeping their own lists of backends, suites and sizes. */
#ifndef SB_EXPERIMENTS_OFFER_H
#define SB_EXPERIMENTS_OFFER_H

#include <stdio.h>

#include "ciphers/cipher.h"

/* One row: a backend's library, or a (backend, suite) or (backend, group) pair. */
typedef struct sb_offer_row {
    const char *kind;                /* "library", "suite" or "group" */
    const sb_backend_entry *backend; /* built or not */
    const char *name;                /* the library's name, or the suite's or group's */
    int ok;                          /* library: built; pair: usable */
    const char *reason;              /* why not; a built library's version; NULL for an ok pair */
    const sb_suite *suite;           /* suite rows, else NULL */
    const sb_group *group;           /* group rows, else NULL */
} sb_offer_row;

/* Calls fn on every row: the libraries, then the suite pairs, then the group pairs, each
 * backend by backend in registry order. */
void sb_offer_each(void (*fn)(const sb_offer_row *row, void *ctx), void *ctx);

/* The rows as CSV, with a header (the columns are documented in `sealbench list --help`).
 * Returns 0, or -1 when out could not be written. */
int sb_offer_write_csv(FILE *out);

#endif
