/* The topic layout of PROTOCOL.md §2: P/D/hs, P/D/hs/ack, P/D/up, P/D/down, with P the prefix
 * and D the device id. */
#ifndef SB_TRANSPORT_TOPICS_H
#define SB_TRANSPORT_TOPICS_H

#include <stddef.h>

#include "protocol/handshake.h"
#include "protocol/session.h" /* SB_TOPIC_MAX */

typedef enum sb_topic_kind {
    SB_TOPIC_NONE = 0, /* not one of ours */
    SB_TOPIC_HS,
    SB_TOPIC_HS_ACK,
    SB_TOPIC_UP,
    SB_TOPIC_DOWN,
} sb_topic_kind;

#define SB_PREFIX_MAX 200

/* NULL if prefix can be used, else why not (empty, too long, a wildcard '+' or '#', an empty
 * level, a control character). */
const char *sb_prefix_problem(const char *prefix);

/* Write P/D/<kind> into out (SB_TOPIC_MAX bytes are always enough). */
void sb_topic_make(char *out, size_t cap, const char *prefix, const char *id, sb_topic_kind kind);

/* Split a received topic. On a match writes the device id (SB_DEVICE_ID_MAX + 1 bytes) and
 * returns the kind; a topic with another prefix, suffix or an invalid id gives SB_TOPIC_NONE. */
sb_topic_kind sb_topic_parse(const char *prefix, const char *topic, char *id);

#endif
