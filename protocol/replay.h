/* The anti-replay window of PROTOCOL.md §4 (after RFC 4303 §3.4.3): the highest sequence number
 * accepted, H, and one bit for each of the W values H, H-1, ..., H-W+1. Checking and marking are
 * separate so that a message is marked only after it has been authenticated. */
#ifndef SB_PROTOCOL_REPLAY_H
#define SB_PROTOCOL_REPLAY_H

#include <stdint.h>

#include "common/err.h"

#define SB_REPLAY_DEFAULT_WINDOW 64
#define SB_REPLAY_MAX_WINDOW 4096

typedef struct sb_replay_window {
    uint64_t highest;  /* H, valid once any is set */
    unsigned window;   /* W */
    int any;           /* nothing accepted yet: every seq is new */
    uint64_t bits[SB_REPLAY_MAX_WINDOW / 64]; /* bit i of the array: seq H - i seen */
} sb_replay_window;

/* window: 1 to SB_REPLAY_MAX_WINDOW; SB_ERR_ARG otherwise. */
sb_err sb_replay_window_init(sb_replay_window *r, unsigned window);

/* SB_OK if seq is new, SB_ERR_REPLAY if seen, SB_ERR_TOO_OLD if below the window. Changes
 * nothing. */
sb_err sb_replay_window_check(const sb_replay_window *r, uint64_t seq);

/* Record seq as seen; call only after sb_replay_window_check said SB_OK and the message verified. */
void sb_replay_window_mark(sb_replay_window *r, uint64_t seq);

#endif
