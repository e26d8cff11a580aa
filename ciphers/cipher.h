/* The cipher interface: what a suite and a group are, what a backend library must provide, and
 * the registry that pairs them.
 *
 * The split follows mbedTLS's cipher_wrap: a *suite* (sb_suite) says what an algorithm is (id on
 * the wire, key/nonce/tag sizes); a *backend* (sb_backend) says who implements it, through tables
 * of function pointers. Each backend lives in one file (ciphers/openssl.c, sodium.c, mbedtls.c)
 * and exports one const sb_backend_NAME; ciphers/backends.txt lists them, one line each, and the
 * build makes ciphers/registry.c's list from it. Adding a library is one file plus one line
 * there. `make BACKENDS=...` leaves backends out: such a backend stays known, as not built. A
 * backend that lacks a suite or group says so with a reason instead of leaving a hole, and
 * `sealbench list` prints it.
 *
 * All functions return sb_err (common/err.h); library codes never cross this interface. */
#ifndef SB_CIPHERS_CIPHER_H
#define SB_CIPHERS_CIPHER_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define SB_NONCE_BYTES 12
#define SB_MAX_KEY_BYTES 32
#define SB_MAX_TAG_BYTES 32
#define SB_HASH_BYTES 32
#define SB_MAX_PRIV_BYTES 32
#define SB_MAX_PUB_BYTES 65
#define SB_SHARED_BYTES 32

/* Suite ids are the wire values of PROTOCOL.md §1. */
typedef enum sb_suite_id {
    SB_SUITE_NULL = 0x00,
    SB_SUITE_AES_128_GCM = 0x01,
    SB_SUITE_AES_256_GCM = 0x02,
    SB_SUITE_CHACHA20_POLY1305 = 0x03,
    SB_SUITE_CHACHA20_HMAC_SHA256 = 0x04,
    SB_SUITE_COUNT
} sb_suite_id;

typedef struct sb_suite {
    const char *name;      /* "aes-128-gcm" */
    uint8_t id;            /* wire value */
    uint8_t key_bytes;     /* cipher key */
    uint8_t mac_key_bytes; /* separate MAC key (encrypt-then-MAC suites), else 0 */
    uint8_t tag_bytes;     /* appended to the ciphertext */
    const char *construction;
} sb_suite;

/* Group ids are the wire values of PROTOCOL.md §1. */
typedef enum sb_group_id {
    SB_GROUP_X25519 = 0x01,
    SB_GROUP_P256 = 0x02,
    SB_GROUP_COUNT
} sb_group_id;

typedef struct sb_group {
    const char *name;   /* "x25519" */
    uint8_t id;         /* wire value */
    uint8_t priv_bytes; /* raw private key: X25519 scalar, or P-256 big-endian scalar */
    uint8_t pub_bytes;  /* on the wire: 32, or 65 (SEC1 uncompressed) */
} sb_group;

const sb_suite *sb_suite_by_id(unsigned id);
const sb_suite *sb_suite_by_name(const char *name);
const sb_group *sb_group_by_id(unsigned id);
const sb_group *sb_group_by_name(const char *name);

struct sb_backend;

/* ---- AEAD: one keyed context per (direction, epoch) ------------------------------------- */

typedef struct sb_aead_ops {
    /* Allocate *state keyed with key (suite->key_bytes) and, for encrypt-then-MAC suites,
     * mac_key (suite->mac_key_bytes). The key schedule is done here, once, so that seal and
     * open cost only the per-message work. be is the backend the context belongs to, for
     * generic constructions built from its primitives. */
    sb_err (*init)(void **state, const struct sb_backend *be, const sb_suite *suite,
                   const uint8_t *key, const uint8_t *mac_key);
    /* Write in_len bytes of ciphertext then suite->tag_bytes of tag to out. out may equal in. */
    sb_err (*seal)(void *state, const uint8_t nonce[SB_NONCE_BYTES], const uint8_t *aad,
                   size_t aad_len, const uint8_t *in, size_t in_len, uint8_t *out);
    /* in is ciphertext || tag, in_len counts both. Writes in_len - tag_bytes bytes to out.
     * Fails closed: on SB_ERR_AUTH, out is wiped. out may equal in. */
    sb_err (*open)(void *state, const uint8_t nonce[SB_NONCE_BYTES], const uint8_t *aad,
                   size_t aad_len, const uint8_t *in, size_t in_len, uint8_t *out);
    /* Wipe and release. NULL is a no-op. */
    void (*free)(void *state);
} sb_aead_ops;

/* How a backend offers one suite: ops when it can, and a reason when it cannot. available()
 * is for run-time conditions (libsodium 1.0.18's AES-256-GCM needs x86 AES-NI; OpenSSL's
 * providers may lack a cipher); it returns NULL when the suite is usable, otherwise the reason.
 * It runs after the backend's setup. */
typedef struct sb_aead_impl {
    const sb_aead_ops *ops;        /* NULL: never offered, see missing */
    const char *missing;           /* why ops is NULL */
    const char *(*available)(const sb_suite *suite);
} sb_aead_impl;

/* ---- Key exchange ------------------------------------------------------------------------ */

typedef struct sb_kex_ops {
    /* A fresh key pair from the library's CSPRNG. */
    sb_err (*keygen)(uint8_t *priv, uint8_t *pub);
    /* The public key of a given private key (test vectors supply private keys). */
    sb_err (*public_key)(const uint8_t *priv, uint8_t *pub);
    /* ECDH. SB_ERR_POINT for an invalid peer key, SB_ERR_ZERO_SHARED for an all-zero X25519
     * result. shared is SB_SHARED_BYTES (the x-coordinate for P-256). */
    sb_err (*derive)(const uint8_t *priv, const uint8_t *peer_pub, uint8_t *shared);
} sb_kex_ops;

typedef struct sb_kex_impl {
    const sb_kex_ops *ops;
    const char *missing;
    /* As sb_aead_impl's: NULL when usable after setup, otherwise why not. May be NULL. */
    const char *(*available)(const sb_group *group);
} sb_kex_impl;

/* ---- HMAC-SHA256 with a key set once -------------------------------------------------------- */

typedef struct sb_hmac_ops {
    sb_err (*init)(void **state, const uint8_t *key, size_t key_len);
    /* Start a new MAC under the key given to init. */
    sb_err (*begin)(void *state);
    sb_err (*update)(void *state, const uint8_t *in, size_t n);
    sb_err (*finish)(void *state, uint8_t out[SB_HASH_BYTES]);
    void (*free)(void *state);
} sb_hmac_ops;

/* ---- The backend descriptor --------------------------------------------------------------------- */

typedef struct sb_backend {
    const char *name;          /* "openssl", as in ciphers/backends.txt (which names the library) */
    /* The version of the library actually loaded (not the headers compiled against). */
    const char *(*version)(void);
    /* One-time library initialisation; may be NULL. Idempotent. */
    sb_err (*setup)(void);

    sb_err (*random)(uint8_t *out, size_t n);
    sb_err (*sha256)(const uint8_t *in, size_t n, uint8_t out[SB_HASH_BYTES]);
    const sb_hmac_ops *hmac;
    sb_err (*hkdf_extract)(const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                           size_t ikm_len, uint8_t prk[SB_HASH_BYTES]);
    sb_err (*hkdf_expand)(const uint8_t prk[SB_HASH_BYTES], const uint8_t *info,
                          size_t info_len, uint8_t *out, size_t out_len);
    /* RFC 8439 ChaCha20 with a 96-bit nonce and a 32-bit initial block counter. */
    sb_err (*chacha20_xor)(const uint8_t key[32], const uint8_t nonce[SB_NONCE_BYTES],
                           uint32_t counter, const uint8_t *in, size_t n, uint8_t *out);

    sb_aead_impl aead[SB_SUITE_COUNT]; /* indexed by suite id */
    sb_kex_impl kex[SB_GROUP_COUNT];   /* indexed by group id; [0] unused */
} sb_backend;

/* ---- Registry ---------------------------------------------------------------------------------- */

/* NULL-terminated list of the backends compiled in, in ciphers/backends.txt's order. */
extern const sb_backend *const sb_backends[];

/* Every backend ciphers/backends.txt names, built into this binary or not, in its order. */
typedef struct sb_backend_entry {
    const char *name;        /* "mbedtls" */
    const char *library;     /* "Mbed TLS", for people */
    const char *soname;      /* "libmbedcrypto.so.7": the shared object its calls land in */
    const sb_backend *built; /* NULL: left out of this build (make BACKENDS=...) */
} sb_backend_entry;

/* Ended by an entry whose name is NULL. */
extern const sb_backend_entry sb_backend_entries[];

/* The backends this binary was built with, blank-separated ("openssl sodium"). */
extern const char sb_backends_built[];

/* The reason a known backend is unavailable in this binary: it was left out of the build. */
extern const char sb_backend_not_built[];

/* The entry of a backend, built or not; NULL for a name ciphers/backends.txt does not know. */
const sb_backend_entry *sb_backend_entry_by_name(const char *name);

/* A built backend by name; NULL for an unknown one or one left out of this build. */
const sb_backend *sb_backend_by_name(const char *name);

/* ---- One lookup by name, and one `all`, for configs and the command line ------------------ */

typedef enum sb_kind { SB_KIND_BACKEND, SB_KIND_SUITE, SB_KIND_GROUP } sb_kind;

/* The i-th built backend, suite or group in registry order, or NULL past the last: what `all`
 * means wherever a list of them is given (a config's backend = all, sealbench micro --backend
 * all). A backend left out of the build is not in it. */
const void *sb_registry_nth(sb_kind kind, size_t i);

/* The name of a backend, suite or group. */
const char *sb_registry_name(sb_kind kind, const void *item);

/* The built backend, suite or group called name; NULL with *why (if not NULL) saying why:
 * "unknown backend" or, for a backend left out of this build, sb_backend_not_built. */
const void *sb_registry_find(sb_kind kind, const char *name, const char **why);

/* A usable (backend, suite) pair. */
typedef struct sb_cipher {
    const sb_backend *backend;
    const sb_suite *suite;
    const sb_aead_ops *ops;
} sb_cipher;

/* Resolve be + suite. On SB_ERR_UNAVAILABLE, *why (if not NULL) says why. Runs be->setup. */
sb_err sb_cipher_get(const sb_backend *be, const sb_suite *suite, sb_cipher *out,
                     const char **why);

/* Resolve "backend:suite" (e.g. "openssl:aes-128-gcm"). SB_ERR_ARG for unknown names. */
sb_err sb_cipher_lookup(const char *spec, sb_cipher *out, const char **why);

/* The kex ops of be for group, or NULL with *why set. */
const sb_kex_ops *sb_kex_get(const sb_backend *be, const sb_group *group, const char **why);

/* HKDF (extract then expand) through be, wiping the PRK. */
sb_err sb_hkdf(const sb_backend *be, const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
               size_t ikm_len, const uint8_t *info, size_t info_len, uint8_t *out,
               size_t out_len);

/* One-shot HMAC-SHA256 through be. */
sb_err sb_hmac(const sb_backend *be, const uint8_t *key, size_t key_len, const uint8_t *in,
               size_t n, uint8_t out[SB_HASH_BYTES]);

/* Generic constructions any backend can point its table at (ciphers/null.c, ciphers/etm.c). */
extern const sb_aead_ops sb_null_aead_ops;
extern const sb_aead_ops sb_etm_chacha20_hmac_ops; /* needs be->chacha20_xor and be->hmac */

#endif
