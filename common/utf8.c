/* UTF-8 validation (common/utf8.h). */
#include "common/utf8.h"

#include <stdint.h>
#include <string.h>

size_t sb_utf8_prefix(const unsigned char *s, size_t len, int *nul, size_t *partial)
{
    size_t i = 0;
    *nul = 0;
    *partial = 0;
    while (i < len) {
        /* Eight ASCII bytes, none zero, at a time: the common case by far. */
        while (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if ((w & 0x8080808080808080ull) ||
                ((w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull))
                break;
            i += 8;
        }
        if (i >= len) break;
        unsigned c = s[i];
        if (c == 0) {
            *nul = 1;
            return i;
        }
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
        if (c >= 0xC2 && c <= 0xDF) n = 2;
        else if (c >= 0xE0 && c <= 0xEF) {
            n = 3;
            if (c == 0xE0) lo = 0xA0;      /* overlong */
            else if (c == 0xED) hi = 0x9F; /* surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 4;
            if (c == 0xF0) lo = 0x90;      /* overlong */
            else if (c == 0xF4) hi = 0x8F; /* above U+10FFFF */
        } else
            return i;
        for (size_t k = 1; k < n; k++) {
            if (i + k >= len) {
                *partial = len - i;
                return i;
            }
            unsigned b = s[i + k];
            if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return i;
        }
        i += n;
    }
    return len;
}
