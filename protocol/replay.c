/* Replay window (protocol/replay.h). The bitmap is an array so that W can exceed 64 for
 * high-rate QoS 1 runs where redeliveries arrive far behind the newest message. */
#include <string.h>

#include "protocol/replay.h"

sb_err sb_replay_window_init(sb_replay_window *r, unsigned window)
{
    if (window < 1 || window > SB_REPLAY_MAX_WINDOW)
        return SB_ERR_ARG;
    memset(r, 0, sizeof *r);
    r->window = window;
    return SB_OK;
}

static int bit_get(const sb_replay_window *r, uint64_t i)
{
    return (int)(r->bits[i / 64] >> (i % 64) & 1);
}

sb_err sb_replay_window_check(const sb_replay_window *r, uint64_t seq)
{
    if (!r->any || seq > r->highest)
        return SB_OK;
    uint64_t behind = r->highest - seq;
    if (behind >= r->window)
        return SB_ERR_TOO_OLD;
    return bit_get(r, behind) ? SB_ERR_REPLAY : SB_OK;
}

/* Shift the bitmap towards older positions by n bits (bit i moves to i + n). */
static void shift_older(sb_replay_window *r, uint64_t n)
{
    const unsigned words = (r->window + 63) / 64;
    if (n >= r->window) {
        memset(r->bits, 0, words * sizeof r->bits[0]);
        return;
    }
    const unsigned w = (unsigned)(n / 64), b = (unsigned)(n % 64);
    for (unsigned i = words; i-- > 0;) {
        uint64_t v = i >= w ? r->bits[i - w] << b : 0;
        if (b && i >= w + 1)
            v |= r->bits[i - w - 1] >> (64 - b);
        r->bits[i] = v;
    }
    /* Bits past W in the last word must not come back as false replays later. */
    if (r->window % 64)
        r->bits[words - 1] &= (UINT64_C(1) << (r->window % 64)) - 1;
}

void sb_replay_window_mark(sb_replay_window *r, uint64_t seq)
{
    if (!r->any) {
        r->any = 1;
        r->highest = seq;
        r->bits[0] = 1;
        return;
    }
    if (seq > r->highest) {
        shift_older(r, seq - r->highest);
        r->highest = seq;
        r->bits[0] |= 1;
        return;
    }
    uint64_t behind = r->highest - seq;
    if (behind < r->window)
        r->bits[behind / 64] |= UINT64_C(1) << (behind % 64);
}
