/* A sealed session (PROTOCOL.md §4): one side's send keys and receive keys, with epochs, the
 * sequence-number limit, padding and the replay window.
 *
 * A device sends with the `up` keys and receives with the `down` keys; a gateway the other way
 * round. Installing the keys of a new epoch moves the current receive keys to a "previous" slot
 * that stays usable for a grace period (messages still in flight under QoS 1) and is wiped when
 * it expires. Times are passed in (monotonic nanoseconds) so that tests control the clock. */
#ifndef SB_PROTOCOL_SESSION_H
#define SB_PROTOCOL_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "ciphers/cipher.h"
#include "protocol/handshake.h"
#include "protocol/replay.h"

#define SB_HEADER_BYTES 14
#define SB_TOPIC_MAX 512
#define SB_FLAG_PADDED 0x01
#define SB_FLAGS_RESERVED 0x0e
/* Default cap on messages per epoch and direction. The nonce cannot repeat below 2^64, but
 * rekeying long before keeps the AEAD usage limits far away and bounds a compromise. */
#define SB_SEQ_LIMIT_DEFAULT (UINT64_C(1) << 32)
#define SB_GRACE_NS_DEFAULT (UINT64_C(5) * 1000000000)

typedef enum sb_role { SB_ROLE_DEVICE, SB_ROLE_GATEWAY } sb_role;

typedef struct sb_session_config {
    sb_cipher cipher;       /* backend and suite for this side */
    sb_role role;
    size_t pad_to;          /* 0: no padding; else pad bodies to a multiple of this */
    uint64_t seq_limit;     /* 0: SB_SEQ_LIMIT_DEFAULT */
    unsigned replay_window; /* 0: SB_REPLAY_DEFAULT_WINDOW */
    uint64_t grace_ns;      /* 0: SB_GRACE_NS_DEFAULT */
} sb_session_config;

/* Keys of one direction under one epoch. */
typedef struct sb_keyed {
    void *state; /* backend AEAD context; NULL when the slot is empty */
    uint8_t iv[SB_NONCE_BYTES];
    uint32_t epoch;
} sb_keyed;

typedef struct sb_rx_slot {
    sb_keyed k;
    sb_replay_window window;
    uint64_t expires_ns; /* previous slot only */
} sb_rx_slot;

typedef struct sb_session {
    sb_session_config cfg;
    sb_keyed tx;
    uint64_t tx_seq; /* next seq to seal in tx.epoch */
    sb_rx_slot rx, rx_prev;
} sb_session;

sb_err sb_session_init(sb_session *s, const sb_session_config *cfg);

/* Install the keys of a finished handshake for epoch. The previous receive keys stay valid
 * until now_ns + grace. The caller still owns keys and should wipe them. */
sb_err sb_session_install(sb_session *s, uint32_t epoch, const sb_keys *keys, uint64_t now_ns);

/* Bytes on the wire for a plaintext of pt_len under this session's suite and padding. */
size_t sb_session_wire_len(const sb_session *s, size_t pt_len);

/* Seal pt for topic into out (capacity out_cap >= sb_session_wire_len). Refuses with
 * SB_ERR_SEQ_EXHAUSTED rather than reuse a nonce. */
sb_err sb_session_seal(sb_session *s, const char *topic, const uint8_t *pt, size_t pt_len,
                       uint8_t *out, size_t out_cap, size_t *out_len);

/* Open a wire message received on topic. On success out holds the plaintext (out_cap >=
 * wire_len), and *epoch, *seq (either may be NULL) say which message it was. On a reject the
 * return code is the reason and the session is unchanged. */
sb_err sb_session_open(sb_session *s, const char *topic, const uint8_t *wire, size_t wire_len,
                       uint64_t now_ns, uint8_t *out, size_t out_cap, size_t *out_len,
                       uint32_t *epoch, uint64_t *seq);

/* 1 when fewer than margin seals remain in this epoch: time to rekey. */
int sb_session_rekey_due(const sb_session *s, uint64_t margin);

/* Wipe every key and free the contexts. */
void sb_session_free(sb_session *s);

#endif
