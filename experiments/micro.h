/* The microbenchmarks: what one AEAD call, one key exchange step and one whole handshake cost,
 * per backend, timed by Google Benchmark (experiments/gbench.h) with PAPI cycles and
 * instructions where the machine has counters (common/counters.h).
 *
 * Cases, for each backend of the plan:
 *   seal, open, forge   x suite x size: one AEAD call through the cipher interface, with a
 *                       14-byte header plus a device topic as AAD. forge opens a message with
 *                       one tag bit flipped and must be refused with SB_ERR_AUTH every time.
 *   keygen, ecdh        x group: a fresh key pair; one ECDH with a fixed valid peer key.
 *   handshake, rekey    x group (under one suite, see below): the whole first handshake in
 *                       memory, both sides, from the PSK to installed sessions; and the same
 *                       exchange for the next epoch over live sessions.
 * A pair the backend lacks is a case with status unavailable and the registry's reason, never
 * a substitute. The null suite has no tag, so its forge case is unavailable too.
 *
 * Inputs are made outside the timed region: a pool of distinct random plaintexts and, for
 * open and forge, as many distinct sealed messages under distinct nonces, remade before every
 * timed loop; the loop cycles through the pool. Nonces come from a counter and are never
 * reused under a key. Keys and secrets are wiped when a case ends.
 *
 * The plan is the one experiments/config.h describes (a [micro] section, or the flags of
 * `sealbench micro`); the CSV written here is the schema of `sealbench micro --help`. */
#ifndef SB_EXPERIMENTS_MICRO_H
#define SB_EXPERIMENTS_MICRO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ciphers/cipher.h"
#include "experiments/config.h"
#include "common/counters.h"
#include "experiments/gbench.h"
#include "common/stats.h"

#define SB_MICRO_MAX_BYTES 65536 /* largest plaintext a seal/open/forge case takes */

typedef enum sb_micro_status {
    SB_MICRO_STATUS_OK,
    SB_MICRO_STATUS_UNAVAILABLE, /* the backend lacks the suite or group: why says which */
    SB_MICRO_STATUS_FAILED,      /* an operation failed or a forgery was accepted: why */
} sb_micro_status;

typedef struct sb_micro_case {
    sb_micro_op op;
    const sb_backend *be;
    const sb_suite *suite; /* NULL for keygen and ecdh; for handshake and rekey the suite used */
    const sb_group *group; /* NULL for seal, open and forge */
    size_t bytes;          /* plaintext bytes of seal, open and forge; 0 otherwise */
    sb_micro_status status;
    char why[256];         /* empty when ok */
    char counters[704];    /* "papi" when the cycle figures were measured, else why not */
    sb_gb_result gb;       /* every repetition's figures */
} sb_micro_case;

/* The summary of one case: sb_stats over the repetitions' real ns per op, and the medians of
 * the other per-repetition figures (NaN where there are none). */
typedef struct sb_micro_summary {
    sb_stats ns;
    double iterations_p50;
    double cpu_ns_p50;
    double cycles_p50, instructions_p50;
    double mb_per_s_p50; /* bytes / ns.p50, 10^6 bytes per second; NaN for bytes 0 */
} sb_micro_summary;

/* Handshake and rekey run under the first suite of the plan the backend offers, passing over
 * null unless it is the only one: the handshake of an E2E-encrypted link is the question, and
 * null would leave out the AEAD key set-up of the installs. */
const sb_suite *sb_micro_handshake_suite(const sb_micro_plan *plan, const sb_backend *be);

/* The cases of plan in run order (backend, then suite x op x size, then group x op), with
 * unavailable ones already marked. *out is malloc'd; free with sb_micro_cases_free. */
sb_err sb_micro_cases(const sb_micro_plan *plan, sb_micro_case **out, size_t *n);

/* Measure one case (a no-op apart from the counters column for an unavailable one). ctr may
 * be NULL, with counters_off saying why ("off (--no-counters)"). Returns SB_OK when the case
 * ran, whatever its status; an error only when the harness itself failed (err says why). */
sb_err sb_micro_measure(sb_micro_case *c, const sb_micro_plan *plan, sb_counters *ctr,
                        const char *counters_off, char *err, size_t err_len);

void sb_micro_summarize(const sb_micro_case *c, sb_micro_summary *s);

void sb_micro_cases_free(sb_micro_case *c, size_t n);

/* The op's name: seal, open, forge, keygen, ecdh, handshake, rekey. */
const char *sb_micro_op_name(sb_micro_op op);

/* The CSV: header line, one row per case (timer is sb_gb_timer()). */
extern const char sb_micro_csv_header[];
int sb_micro_csv_row(FILE *fp, const sb_micro_case *c);

/* What --list prints: the cases without figures, status "runnable" or "unavailable". */
extern const char sb_micro_plan_csv_header[];
int sb_micro_plan_csv_row(FILE *fp, const sb_micro_case *c);

/* dir/micro-<op>-<backend>-<suite or group>[-<bytes>].csv with one row per repetition,
 * written atomically. Nothing for an unavailable case. */
sb_err sb_micro_samples_write(const char *dir, const sb_micro_case *c, char *err,
                              size_t err_len);

#endif
