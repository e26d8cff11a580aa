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

/* The reasons a receiver counts a reject under, X(name, code): the sealed-message checks in the
 * order PROTOCOL.md §4 makes them, then "handshake" for a HELLO or ACCEPT refused for any
 * reason. The one list behind the gateway's and device's JSON keys, cells.csv's rejected_<name>
 * columns (experiments/results.c) and sb_err_name. */
#define SB_REJECT_REASONS(X)                                                                  \
    X(short, SB_ERR_SHORT)                                                                    \
    X(version, SB_ERR_VERSION)                                                                \
    X(flags, SB_ERR_FLAGS)                                                                    \
    X(suite, SB_ERR_SUITE)                                                                    \
    X(epoch, SB_ERR_EPOCH)                                                                    \
    X(replay, SB_ERR_REPLAY)                                                                  \
    X(too_old, SB_ERR_TOO_OLD)                                                                \
    X(auth, SB_ERR_AUTH)                                                                      \
    X(padding, SB_ERR_PADDING)                                                                \
    X(handshake, SB_ERR_HANDSHAKE)

#define SB_REASON_ONE_(name, code) +1
enum { SB_REASONS = 0 SB_REJECT_REASONS(SB_REASON_ONE_) };

/* The reasons' names, in the order above. */
extern const char *const sb_reason_names[SB_REASONS];

/* The index among the reasons under which a receiver counts err: its own reason, or "handshake"
 * for every failure of a handshake message (a bad MAC, a stale epoch, a bad point, a group the
 * backend lacks); -1 for a code that is no reject. */
int sb_reason_index(sb_err err);

/* A short, stable, lower-case phrase for the code ("auth", "replay", ...), used as a column or
 * JSON key for reject counters. */
const char *sb_err_name(sb_err err);

/* A sentence for humans. */
const char *sb_err_str(sb_err err);

#endif
