/* Records as telemetry payloads, in the encoding an experiment picks.
 *
 * Overhead in percent depends on the plaintext size, so the encoding is an experiment factor:
 *   json  compact JSON object, as the MQTT health-telemetry systems this suite studies send;
 *   csv   the record's fields as one CSV line (RFC 4180 quoting, no line break);
 *   cbor  a CBOR map (RFC 8949) keyed by small integers, as SenML's CBOR form (RFC 8428) does
 *         with its labels: 0 the device id, 1 the timestamp (integer milliseconds), 2 + i the
 *         i-th sent column, whose name both ends take from the dataset description; integers
 *         as integers, decimals as decimal fractions (tag 4: exact, and smaller than a
 *         float64), text as text.
 * Every encoding carries, in this order, the device id (when the dataset has a device column),
 * the timestamp (when it has a time column) and the sent columns. A missing value is left out
 * of json and cbor and is an empty field in csv. Numbers keep the digits of the file where JSON
 * allows them, so nothing is rounded on the way. Encoding allocates nothing. */
#ifndef SB_DATASETS_ENCODE_H
#define SB_DATASETS_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "datasets/dataset.h"

typedef enum sb_encoding {
    SB_ENC_JSON = 0,
    SB_ENC_CSV,
    SB_ENC_CBOR,
    SB_ENC_COUNT
} sb_encoding;

enum { SB_CBOR_KEY_DEVICE = 0, SB_CBOR_KEY_TIME = 1, SB_CBOR_KEY_FIRST_COLUMN = 2 };

/* "json", "csv", "cbor"; parse returns -1 for anything else. */
const char *sb_encoding_name(sb_encoding e);
int sb_encoding_parse(const char *s);

/* What a payload is made of: key names and column types. */
typedef struct sb_encode_schema {
    const char *device_key;          /* NULL: no device field */
    const char *time_key;            /* NULL: no time field */
    size_t n;                        /* columns, as rec->values */
    const sb_dataset_column *cols;   /* name (or source when name is empty) and resolved type */
} sb_encode_schema;

/* The schema of an open dataset (keys point into ds: valid while it is open). */
void sb_encode_schema_of(const sb_dataset *ds, sb_encode_schema *s);

/* Encode rec into out (cap bytes). SB_ERR_ARG if cap is too small (*len then holds 0). */
sb_err sb_encode_record(sb_encoding e, const sb_encode_schema *s, const sb_record *rec,
                        uint8_t *out, size_t cap, size_t *len);

#endif
