/* The pre-shared keys file: one device per line, `device_id psk_hex`, where psk_hex is 64 hex
 * digits (32 bytes). Blank lines and lines starting with '#' are ignored; fields are separated
 * by spaces or tabs; CRLF line ends are accepted. Every malformed line is an error naming the
 * file, the line and what is wrong: a gateway that skipped a bad line would later reject that
 * device's handshakes for a reason nobody could see. */
#ifndef SB_TRANSPORT_KEYS_H
#define SB_TRANSPORT_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "protocol/handshake.h"

typedef struct sb_key_entry {
    char id[SB_DEVICE_ID_MAX + 1];
    uint8_t psk[SB_PSK_BYTES];
    size_t line; /* where it was read, for error messages */
} sb_key_entry;

typedef struct sb_keyfile {
    sb_key_entry *v; /* sorted by id */
    size_t n;
} sb_keyfile;

/* Load path. On failure err gets "path:line: what is wrong" and kf is empty. */
sb_err sb_keyfile_load(sb_keyfile *kf, const char *path, char *err, size_t err_len);

/* The PSK of id, or NULL. */
const uint8_t *sb_keyfile_find(const sb_keyfile *kf, const char *id);

/* Wipe the keys and free. */
void sb_keyfile_free(sb_keyfile *kf);

#endif
