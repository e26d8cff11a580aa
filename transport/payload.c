/* Synthetic payloads (transport/payload.h). */
#include "transport/payload.h"

#include <string.h>

#include "common/util.h"

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t seed_of(const char *id, uint64_t n)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325); /* FNV-1a of the id, then mix in n */
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        h = (h ^ *p) * UINT64_C(0x100000001b3);
    return h ^ (n * UINT64_C(0xd6e8feb86659fd93));
}

/* The next len bytes of the stream in state s. */
static void stream(uint64_t *s, uint8_t *out, size_t len)
{
    while (len) {
        uint8_t r[8];
        sb_put_u64le(r, splitmix64(s)); /* the same bytes on every architecture */
        size_t k = len < 8 ? len : 8;
        memcpy(out, r, k);
        out += k;
        len -= k;
    }
}

void sb_payload_make(const char *device_id, uint64_t n, uint8_t *out, size_t len)
{
    uint8_t head[8];
    sb_put_u64be(head, n);
    memcpy(out, head, len < 8 ? len : 8);
    if (len > 8) {
        uint64_t s = seed_of(device_id, n);
        stream(&s, out + 8, len - 8);
    }
}

int sb_payload_check(const char *device_id, const uint8_t *p, size_t len, uint64_t *n)
{
    if (len < SB_PAYLOAD_MIN_CHECKABLE)
        return -1;
    *n = sb_get_u64be(p);
    uint8_t block[256];
    size_t off = 8;
    uint64_t s = seed_of(device_id, *n);
    while (off < len) {
        /* Blocks are a multiple of 8 bytes, so the stream continues where it left off. */
        size_t k = len - off < sizeof block ? len - off : sizeof block;
        stream(&s, block, k);
        if (memcmp(block, p + off, k) != 0)
            return 0;
        off += k;
    }
    return 1;
}
