/* The one error convention of sealbench.
 *
 * Every function that can fail returns an sb_err: 0 on success, a negative code otherwise.
 * Foreign codes (OpenSSL's ERR_get_error(), libsodium's -1, MBEDTLS_ERR_*, Paho's codes) are
 * translated into these at the boundary of the adapter file that calls the library, and never
 * travel further. The receive-side reject reasons of PROTOCOL.md §4 are codes of their own so
 * that a counter per reason is a switch away. */
#ifndef SB_COMMON_ERR_H
#define SB_COMMON_ERR_H

typedef enum sb_err {
    SB_OK = 0,

    /* Programming and environment errors. */
    SB_ERR_ARG = -1,          /* an argument out of its documented range */
    SB_ERR_NOMEM = -2,        /* an allocation failed */
    SB_ERR_UNAVAILABLE = -3,  /* the backend cannot do this (compiled out, no CPU support) */
    SB_ERR_BACKEND = -4,      /* the library reported an internal failure */
    SB_ERR_RANDOM = -5,       /* the CSPRNG failed */
    SB_ERR_IO = -6,           /* a file could not be read or written */
    SB_ERR_PARSE = -7,        /* malformed input file */
    SB_ERR_NET = -8,          /* the broker could not be reached, or the connection failed */
    SB_ERR_TIMEOUT = -9,      /* a network operation did not finish in time */

    /* Sealed-message rejects, in the order the receiver checks them (PROTOCOL.md §4). */
    SB_ERR_SHORT = -20,       /* shorter than header + tag */
    SB_ERR_VERSION = -21,     /* high nibble of byte 0 is not 1 */
    SB_ERR_FLAGS = -22,       /* a reserved flag bit is set */
    SB_ERR_SUITE = -23,       /* suite byte differs from the session's */
    SB_ERR_EPOCH = -24,       /* no receive keys for this epoch */
    SB_ERR_REPLAY = -25,      /* seq inside the window, already seen */
    SB_ERR_TOO_OLD = -26,     /* seq below the window */
    SB_ERR_AUTH = -27,        /* tag or MAC did not verify */
    SB_ERR_PADDING = -28,     /* padded flag set but padding malformed */

    /* Sender-side and handshake errors. */
    SB_ERR_SEQ_EXHAUSTED = -40, /* the sealer refuses: the next seq would pass the limit */
    SB_ERR_HANDSHAKE = -41,     /* a HELLO/ACCEPT failed a check other than its MAC */
    SB_ERR_HS_AUTH = -42,       /* a HELLO/ACCEPT MAC did not verify (wrong PSK or tampering) */
    SB_ERR_STALE_EPOCH = -43,   /* HELLO epoch not above the last accepted one */
    SB_ERR_POINT = -44,         /* peer public key is not a valid point */
    SB_ERR_ZERO_SHARED = -45,   /* X25519 result is all zero (small-order peer key) */
} sb_err;

/* A short, stable, lower-case phrase for the code ("auth", "replay", ...), used as a column or
 * JSON key for reject counters. */
const char *sb_err_name(sb_err err);

/* A sentence for humans. */
const char *sb_err_str(sb_err err);

#endif
