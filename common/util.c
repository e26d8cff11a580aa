/* Wiping, constant-time comparison and hex (common/util.h). */
#include "common/util.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void sb_wipe(void *p, size_t n)
{
    if (p && n)
        explicit_bzero(p, n);
}

int sb_ct_equal(const void *a, const void *b, size_t n)
{
    const volatile uint8_t *x = a, *y = b;
    uint8_t d = 0;
    for (size_t i = 0; i < n; i++)
        d |= x[i] ^ y[i];
    /* Map 0 -> 1 and 1..255 -> 0 without a data-dependent branch. */
    return (int)(1 & ((d - 1u) >> 8));
}

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

long sb_hex_decode(const char *hex, uint8_t *out, size_t cap)
{
    size_t len = strlen(hex);
    if (len % 2 || len / 2 > cap)
        return -1;
    for (size_t i = 0; i < len / 2; i++) {
        int hi = hex_nibble(hex[2 * i]), lo = hex_nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return (long)(len / 2);
}

void sb_hex_encode(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* Leap years in 1..y (proleptic Gregorian; y may be 0 or negative). */
static int64_t leaps_through(int64_t y)
{
    return floor_div(y, 4) - floor_div(y, 100) + floor_div(y, 400);
}

int64_t sb_days_since_1970(int64_t y, unsigned m, unsigned d)
{
    static const uint16_t before_month[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return 365 * (y - 1970) + leaps_through(y - 1) - leaps_through(1969) +
           before_month[(m - 1) % 12] + (m > 2 && leap) + (int64_t)d - 1;
}

char *sb_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

int sb_proc_cpu(long pid, double *user_s, double *sys_s)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = 0;
    /* utime and stime (fields 14 and 15, clock ticks) follow the ")" that ends the name,
     * which may itself hold spaces and parentheses. */
    const char *p = strrchr(buf, ')');
    unsigned long long ut, st;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    double hz = (double)sysconf(_SC_CLK_TCK);
    *user_s = (double)ut / hz;
    *sys_s = (double)st / hz;
    return 0;
}
