/* Test helpers (tests/support.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "tests/support.h"

static uint64_t rng_state;

uint64_t test_seed(const char *name)
{
    const char *env = getenv("SEALBENCH_SEED");
    if (env && *env) {
        rng_state = strtoull(env, NULL, 0);
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        rng_state = (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec;
    }
    printf("%s: seed %llu (set SEALBENCH_SEED to repeat)\n", name, (unsigned long long)rng_state);
    return rng_state;
}

/* splitmix64: small, fast, and good enough for choosing test inputs. */
uint64_t test_rand(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

void test_fill(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)test_rand();
}

static sb_err handshake(test_pair *p, const test_pair_opts *o, uint32_t epoch, uint64_t now_ns)
{
    static const char id[] = "dev-0001";
    uint8_t hs_d[SB_HASH_BYTES], hs_g[SB_HASH_BYTES], accept[SB_HS_MAX_BYTES];
    size_t accept_len = 0;
    sb_keys kd, kg;
    sb_hs_device hs;
    sb_hs_policy all = {~0u, ~0u};
    sb_err rc;
    if ((rc = sb_hs_key(o->dev_be, p->psk, id, hs_d)) != SB_OK ||
        (rc = sb_hs_key(o->gw_be, p->psk, id, hs_g)) != SB_OK ||
        (rc = sb_hs_device_start(&hs, o->dev_be, o->group, o->suite, epoch, hs_d, NULL)) != SB_OK)
        return rc;
    rc = sb_hs_gateway_answer(o->gw_be, &all, hs_g, epoch - 1, hs.hello, hs.hello_len, NULL,
                              accept, &accept_len, NULL, &kg);
    if (rc == SB_OK && (rc = sb_hs_device_finish(&hs, accept, accept_len, &kd)) == SB_OK) {
        if ((rc = sb_session_install(&p->dev, epoch, &kd, now_ns)) == SB_OK)
            rc = sb_session_install(&p->gw, epoch, &kg, now_ns);
        p->epoch = epoch;
    }
    sb_hs_device_clear(&hs);
    sb_wipe(&kd, sizeof kd);
    sb_wipe(&kg, sizeof kg);
    return rc;
}

sb_err test_pair_open(test_pair *p, const test_pair_opts *o)
{
    sb_session_config cfg = {.pad_to = o->pad_to, .seq_limit = o->seq_limit,
                             .replay_window = o->window, .grace_ns = o->grace_ns};
    const char *why;
    sb_err rc;
    memset(p, 0, sizeof *p);
    test_fill(p->psk, sizeof p->psk);
    if ((rc = sb_cipher_get(o->dev_be, o->suite, &cfg.cipher, &why)) != SB_OK)
        return rc;
    cfg.role = SB_ROLE_DEVICE;
    if ((rc = sb_session_init(&p->dev, &cfg)) != SB_OK)
        return rc;
    if ((rc = sb_cipher_get(o->gw_be, o->suite, &cfg.cipher, &why)) != SB_OK)
        return rc;
    cfg.role = SB_ROLE_GATEWAY;
    if ((rc = sb_session_init(&p->gw, &cfg)) != SB_OK)
        return rc;
    return handshake(p, o, 1, 0);
}

sb_err test_pair_rekey(test_pair *p, const test_pair_opts *o, uint64_t now_ns)
{
    return handshake(p, o, p->epoch + 1, now_ns);
}

void test_pair_close(test_pair *p)
{
    sb_session_free(&p->dev);
    sb_session_free(&p->gw);
    sb_wipe(p, sizeof *p);
}
