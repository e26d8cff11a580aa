/* What does the MQTT client itself cost? The same Paho client sealbench uses
 * (transport/mqtt.c, with the same options), moving plain 256-byte payloads with no session,
 * no sealing and no per-device bookkeeping: the ceiling any sealed run through Paho can reach.
 * tests/bench/mqtt.sh runs it beside the mosquitto_pub/mosquitto_sub baseline and the sealed
 * suites, so a gap between sealbench and mosquitto_pub can be split into what Paho costs and
 * what sealbench adds. The publisher keeps at most INFLIGHT messages queued in Paho and asks
 * for a completion on every 32nd, as transport/fleet.c does. Clock: CLOCK_MONOTONIC, which
 * both processes share, so the rate is N / (last arrival - first publish).
 *
 * usage: mqtt_plain sub URI TOPIC N QOS        prints "received N t_first_ns t_last_ns"
 *        mqtt_plain pub URI TOPIC N SIZE QOS [INFLIGHT]   prints "published N t_first_ns" */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "transport/mqtt.h"

#define MARK_EVERY 32

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static uint64_t received, expected, t_first, t_last, completed, failed;

static void on_message(void *ctx, const char *topic, const uint8_t *p, size_t len, int dup)
{
    uint64_t now = sb_now_ns();
    pthread_mutex_lock(&mu);
    if (!received)
        t_first = now;
    t_last = now;
    if (++received >= expected)
        pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
}

static void on_published(void *ctx, int tag, int ok)
{
    pthread_mutex_lock(&mu);
    completed += MARK_EVERY; /* each mark stands for the MARK_EVERY messages before it */
    failed += !ok;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
}

static int usage(void)
{
    fprintf(stderr, "usage: mqtt_plain sub URI TOPIC N QOS\n"
                    "       mqtt_plain pub URI TOPIC N SIZE QOS [INFLIGHT]\n");
    return 2;
}

static void wait_until(int (*done)(void))
{
    pthread_mutex_lock(&mu);
    while (!done())
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
}

static int all_received(void) { return received >= expected; }

int main(int argc, char **argv)
{
    if (argc < 6)
        return usage();
    int pub = strcmp(argv[1], "pub") == 0;
    if (!pub && strcmp(argv[1], "sub") != 0)
        return usage();
    const char *uri = argv[2], *topic = argv[3];
    expected = strtoull(argv[4], NULL, 10);
    size_t size = pub ? strtoull(argv[5], NULL, 10) : 0;
    int qos = atoi(argv[pub ? 6 : 5]);
    uint64_t inflight = pub && argc > 7 ? strtoull(argv[7], NULL, 10) : 1024;
    if (!expected || (pub && (argc < 7 || !size)) || qos < 0 || qos > 2 || inflight < MARK_EVERY)
        return usage();

    char id[64], err[512];
    snprintf(id, sizeof id, "mqtt-plain-%s-%ld", argv[1], (long)getpid());
    sb_mqtt_opts o = {.uri = uri, .client_id = id};
    sb_mqtt_callbacks cb = {.on_message = on_message, .on_published = on_published};
    sb_mqtt *m;
    if (sb_mqtt_connect(&m, &o, &cb, err, sizeof err) != SB_OK) {
        fprintf(stderr, "mqtt_plain: %s\n", err);
        return 1;
    }
    if (!pub) {
        const char *filters[] = {topic};
        if (sb_mqtt_subscribe(m, filters, 1, qos, err, sizeof err) != SB_OK) {
            fprintf(stderr, "mqtt_plain: %s\n", err);
            return 1;
        }
        fprintf(stderr, "mqtt_plain: subscribed\n");
        wait_until(all_received);
        printf("received %llu %llu %llu\n", (unsigned long long)received,
               (unsigned long long)t_first, (unsigned long long)t_last);
        sb_mqtt_close(m, 1.0);
        return 0;
    }
    uint8_t *payload = malloc(size);
    if (!payload)
        return 1;
    memset(payload, 'x', size);
    uint64_t t0 = sb_now_ns();
    for (uint64_t n = 1; n <= expected; n++) {
        pthread_mutex_lock(&mu);
        while (n - 1 - completed >= inflight && !failed)
            pthread_cond_wait(&cv, &mu);
        pthread_mutex_unlock(&mu);
        int mark = n % MARK_EVERY == 0;
        if (failed || sb_mqtt_publish(m, topic, payload, size, qos, mark ? 0 : SB_MQTT_SILENT) !=
                          SB_OK) {
            fprintf(stderr, "mqtt_plain: publish %llu failed\n", (unsigned long long)n);
            return 1;
        }
    }
    printf("published %llu %llu\n", (unsigned long long)expected, (unsigned long long)t0);
    sb_mqtt_close(m, 10.0);
    free(payload);
    return 0;
}
