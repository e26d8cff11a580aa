/* Small helpers every layer needs: wiping secrets, constant-time comparison, hex, big-endian
 * integers. Kept free of any crypto library so that each backend can use them. */
#ifndef SB_COMMON_UTIL_H
#define SB_COMMON_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Overwrite a secret so that the compiler cannot elide it (explicit_bzero semantics). */
void sb_wipe(void *p, size_t n);

/* 1 if equal, 0 otherwise, in time that depends only on n. */
int sb_ct_equal(const void *a, const void *b, size_t n);

/* Decode hex (upper or lower case) into out. Returns the byte count, or -1 on an odd length, a
 * non-hex digit, or more than cap bytes. */
long sb_hex_decode(const char *hex, uint8_t *out, size_t cap);

/* Encode n bytes as lower-case hex into out, which needs 2n+1 bytes. */
void sb_hex_encode(const uint8_t *in, size_t n, char *out);

static inline void sb_put_u32be(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline uint32_t sb_get_u32be(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void sb_put_u64be(uint8_t *p, uint64_t v)
{
    sb_put_u32be(p, (uint32_t)(v >> 32)); sb_put_u32be(p + 4, (uint32_t)v);
}
static inline uint64_t sb_get_u64be(const uint8_t *p)
{
    return (uint64_t)sb_get_u32be(p) << 32 | sb_get_u32be(p + 4);
}
static inline void sb_put_u64le(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* Strip leading and trailing white space (isspace) in place; returns the start. */
char *sb_trim(char *s);

/* CPU seconds (user, system) a process has used so far, from /proc/PID/stat. 0, or -1 when it
 * cannot be read (gone, not Linux). */
int sb_proc_cpu(long pid, double *user_s, double *sys_s);

/* Monotonic time in nanoseconds: the one clock every measurement in sealbench uses. */
static inline uint64_t sb_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Days from 1970-01-01 to the proleptic Gregorian date y-m-d (m 1-12, d 1-31, unchecked),
 * negative before 1970. Calendar arithmetic, independent of the locale and TZ. */
int64_t sb_days_since_1970(int64_t y, unsigned m, unsigned d);

#endif
