/* Helpers shared by the C tests: a seeded generator so that every random case can be replayed
 * (the seed is printed, and SEALBENCH_SEED sets it), and a device/gateway session pair joined
 * by a real handshake. */
#ifndef SB_TESTS_SUPPORT_H
#define SB_TESTS_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include "ciphers/cipher.h"
#include "protocol/handshake.h"
#include "protocol/session.h"

/* Seed from SEALBENCH_SEED if set, else from the clock; prints "<name>: seed N". */
uint64_t test_seed(const char *name);
uint64_t test_rand(void);
void test_fill(uint8_t *p, size_t n);

typedef struct test_pair {
    sb_session dev, gw;
    uint8_t psk[SB_PSK_BYTES];
    uint32_t epoch;
} test_pair;

typedef struct test_pair_opts {
    const sb_backend *dev_be, *gw_be; /* each side's library */
    const sb_suite *suite;
    const sb_group *group;
    size_t pad_to;
    uint64_t seq_limit;
    unsigned window;
    uint64_t grace_ns;
} test_pair_opts;

/* Handshake (epoch 1, a random PSK) and install both sides' keys at time 0. */
sb_err test_pair_open(test_pair *p, const test_pair_opts *o);

/* Another handshake at epoch + 1, installed at now_ns on both sides. */
sb_err test_pair_rekey(test_pair *p, const test_pair_opts *o, uint64_t now_ns);

void test_pair_close(test_pair *p);

#endif
