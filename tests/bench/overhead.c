/* What does the cipher interface cost? Seals the same inputs through the sealbench OpenSSL
 * backend (sb_aead_ops) and through a bare EVP loop making the same calls a TLS-style record
 * layer makes (nonce-only re-init, AAD, data, final, get tag), and reports both medians and
 * their ratio. Samples of the two alternate, so that frequency drift and noisy neighbours hit
 * both alike. Clock: CLOCK_MONOTONIC.
 *
 * usage: overhead [BYTES [SAMPLES [SAMPLE_MS]]]   (defaults 256 31 20) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "ciphers/cipher.h"
#include "common/util.h"

#define AAD_BYTES 34
#define MAX_SAMPLES 201

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct bench {
    size_t len;
    uint8_t key[32], nonce[12], aad[AAD_BYTES], *in, *out;
    uint64_t ctr;
    EVP_CIPHER_CTX *evp;
    const sb_cipher *c;
    void *state;
} bench;

static int bare_seal(bench *b)
{
    int n;
    b->ctr++;
    memcpy(b->nonce + 4, &b->ctr, 8);
    return EVP_EncryptInit_ex(b->evp, NULL, NULL, NULL, b->nonce) == 1 &&
           EVP_EncryptUpdate(b->evp, NULL, &n, b->aad, AAD_BYTES) == 1 &&
           EVP_EncryptUpdate(b->evp, b->out, &n, b->in, (int)b->len) == 1 &&
           EVP_EncryptFinal_ex(b->evp, b->out + b->len, &n) == 1 &&
           EVP_CIPHER_CTX_ctrl(b->evp, EVP_CTRL_AEAD_GET_TAG, 16, b->out + b->len) == 1;
}

static int iface_seal(bench *b)
{
    b->ctr++;
    memcpy(b->nonce + 4, &b->ctr, 8);
    return b->c->ops->seal(b->state, b->nonce, b->aad, AAD_BYTES, b->in, b->len, b->out) == SB_OK;
}

static double sample(bench *b, int (*op)(bench *), uint64_t iters)
{
    uint64_t t0 = sb_now_ns();
    for (uint64_t i = 0; i < iters; i++)
        if (!op(b)) {
            fprintf(stderr, "overhead: seal failed\n");
            exit(1);
        }
    return (double)(sb_now_ns() - t0) / (double)iters;
}

int main(int argc, char **argv)
{
    size_t len = argc > 1 ? strtoul(argv[1], NULL, 10) : 256;
    int samples = argc > 2 ? atoi(argv[2]) : 31;
    double ms = argc > 3 ? atof(argv[3]) : 20;
    if (samples < 1 || samples > MAX_SAMPLES || len > (1u << 20) || !(ms > 0)) {
        fprintf(stderr, "usage: overhead [BYTES<=1048576 [SAMPLES 1-%d [SAMPLE_MS>0]]]\n", MAX_SAMPLES);
        return 2;
    }
    const char *suites[] = {"aes-128-gcm", "aes-256-gcm", "chacha20-poly1305"};
    const char *evp_names[] = {"AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305"};
    printf("# clock CLOCK_MONOTONIC; %zu-byte plaintext, %d-byte AAD; %d alternating samples of >= %g ms\n",
           len, AAD_BYTES, samples, ms);
    printf("%-18s %12s %12s %8s\n", "suite", "bare_ns_p50", "iface_ns_p50", "ratio");
    for (int s = 0; s < 3; s++) {
        bench b = {.len = len};
        sb_cipher c;
        double bare[MAX_SAMPLES], iface[MAX_SAMPLES];
        b.in = calloc(1, len + 16);
        b.out = calloc(1, len + 16);
        memset(b.key, 7, sizeof b.key);
        char spec[64];
        snprintf(spec, sizeof spec, "openssl:%s", suites[s]);
        if (sb_cipher_lookup(spec, &c, NULL) != SB_OK ||
            c.ops->init(&b.state, c.backend, c.suite, b.key, NULL) != SB_OK) {
            fprintf(stderr, "overhead: %s unavailable\n", spec);
            return 1;
        }
        b.c = &c;
        EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, evp_names[s], NULL);
        b.evp = EVP_CIPHER_CTX_new();
        if (!cipher || EVP_EncryptInit_ex2(b.evp, cipher, b.key, NULL, NULL) != 1) {
            fprintf(stderr, "overhead: EVP %s unavailable\n", evp_names[s]);
            return 1;
        }
        /* Calibrate on the bare loop, then use one iteration count for both. */
        uint64_t iters = 1000;
        while (sample(&b, bare_seal, iters) * (double)iters < ms * 1e6)
            iters *= 2;
        for (int i = 0; i < samples; i++) {
            bare[i] = sample(&b, bare_seal, iters);
            iface[i] = sample(&b, iface_seal, iters);
        }
        qsort(bare, (size_t)samples, sizeof bare[0], cmp);
        qsort(iface, (size_t)samples, sizeof iface[0], cmp);
        double mb = bare[samples / 2], mi = iface[samples / 2];
        printf("%-18s %12.1f %12.1f %8.3f\n", suites[s], mb, mi, mi / mb);
        c.ops->free(b.state);
        EVP_CIPHER_CTX_free(b.evp);
        EVP_CIPHER_free(cipher);
        free(b.in);
        free(b.out);
    }
    return 0;
}
