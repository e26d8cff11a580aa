/* Topic names (transport/topics.h). */
#include "transport/topics.h"

#include <stdio.h>
#include <string.h>

static const char *suffix[] = {"", "hs", "hs/ack", "up", "down"};

const char *sb_prefix_problem(const char *prefix)
{
    size_t n = strlen(prefix);
    if (n == 0)
        return "the topic prefix is empty";
    if (n > SB_PREFIX_MAX)
        return "the topic prefix is longer than 200 bytes";
    if (strpbrk(prefix, "+#"))
        return "the topic prefix contains an MQTT wildcard ('+' or '#')";
    if (prefix[0] == '/' || prefix[n - 1] == '/' || strstr(prefix, "//"))
        return "the topic prefix has an empty level (a leading, trailing or doubled '/')";
    for (const unsigned char *p = (const unsigned char *)prefix; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return "the topic prefix contains a control character";
    return NULL;
}

void sb_topic_make(char *out, size_t cap, const char *prefix, const char *id, sb_topic_kind kind)
{
    snprintf(out, cap, "%s/%s/%s", prefix, id, suffix[kind]);
}

sb_topic_kind sb_topic_parse(const char *prefix, const char *topic, char *id)
{
    size_t pn = strlen(prefix);
    if (strncmp(topic, prefix, pn) != 0 || topic[pn] != '/')
        return SB_TOPIC_NONE;
    const char *d = topic + pn + 1;
    const char *slash = strchr(d, '/');
    if (!slash || slash == d || (size_t)(slash - d) > SB_DEVICE_ID_MAX)
        return SB_TOPIC_NONE;
    memcpy(id, d, (size_t)(slash - d));
    id[slash - d] = 0;
    if (!sb_device_id_valid(id))
        return SB_TOPIC_NONE;
    for (int k = SB_TOPIC_HS; k <= SB_TOPIC_DOWN; k++)
        if (strcmp(slash + 1, suffix[k]) == 0)
            return (sb_topic_kind)k;
    return SB_TOPIC_NONE;
}
