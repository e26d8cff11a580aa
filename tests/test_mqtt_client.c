/* The Paho adapter (transport/mqtt.c) against a real private Mosquitto: its sockets get
 * TCP_NODELAY unless the caller asks for Nagle, and no callback of a client runs once
 * sb_mqtt_close has returned, even with messages arriving during the close. */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "transport/broker.h"
#include "transport/mqtt.h"
#include "tests/check.h"

static sb_broker broker;

/* TCP_NODELAY of every socket of this process connected to the broker's port: the count of
 * sockets found, and how many of them have it. */
static void sockets_to_broker(int *found, int *nodelay)
{
    *found = *nodelay = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        int fd = atoi(e->d_name);
        struct stat st;
        struct sockaddr_in peer;
        socklen_t pl = sizeof peer;
        if (fd < 0 || fd == dirfd(d) || fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode) ||
            getpeername(fd, (struct sockaddr *)&peer, &pl) != 0 || peer.sin_family != AF_INET ||
            ntohs(peer.sin_port) != broker.port)
            continue;
        int v = 0;
        socklen_t l = sizeof v;
        (*found)++;
        if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &l) == 0 && v)
            (*nodelay)++;
    }
    closedir(d);
}

static sb_mqtt *connect_client(const char *id, int nagle, const sb_mqtt_callbacks *cb)
{
    sb_mqtt_opts o = {.uri = broker.uri, .client_id = id, .nagle = nagle};
    sb_mqtt *m = NULL;
    char err[300] = "";
    sb_err rc = sb_mqtt_connect(&m, &o, cb, err, sizeof err);
    CHECK(rc == SB_OK, "%s connects: %s", id, err);
    return rc == SB_OK ? m : NULL;
}

static void test_nodelay(int nagle)
{
    const char *topic = nagle ? "t/nagle" : "t/nodelay";
    sb_mqtt *m = connect_client(nagle ? "c-nagle" : "c-nodelay", nagle, NULL);
    if (!m)
        return;
    char err[300] = "";
    /* A subscribe (or a publish) is where the adapter applies TCP_NODELAY after a connect. */
    CHECK(sb_mqtt_subscribe(m, &topic, 1, 1, err, sizeof err) == SB_OK, "subscribe: %s", err);
    int found, nd;
    sockets_to_broker(&found, &nd);
    CHECK(found == 1, "one socket to the broker's port %d, found %d", broker.port, found);
    if (nagle)
        CHECK(nd == 0, "with nagle the socket keeps Paho's default (Nagle on); %d of %d have "
                       "TCP_NODELAY", nd, found);
    else
        CHECK(nd == found && found > 0, "TCP_NODELAY on the client's socket: %d of %d", nd,
              found);
    sb_mqtt_close(m, 1.0);
    sockets_to_broker(&found, &nd);
    CHECK(found == 0, "no socket left to the broker after the close, found %d", found);
}

/* The subscriber's context: a callback that runs after its client's close counts as late. */
typedef struct sub_ctx {
    atomic_int closed;
    atomic_long got, late;
} sub_ctx;

static void on_message(void *ctx, const char *topic, const uint8_t *p, size_t len, int dup)
{
    (void)topic, (void)p, (void)len, (void)dup;
    sub_ctx *s = ctx;
    if (atomic_load(&s->closed))
        atomic_fetch_add(&s->late, 1);
    atomic_fetch_add(&s->got, 1);
    usleep(200); /* a callback that is still running when the close begins */
}

static void test_close_during_traffic(void)
{
    const char *topic = "t/flood";
    sb_mqtt *pub = connect_client("flood-pub", 0, NULL);
    if (!pub)
        return;
    long late = 0, got = 0;
    int rounds = 10;
    for (int r = 0; r < rounds; r++) {
        sub_ctx s = {0};
        sb_mqtt_callbacks cb = {.ctx = &s, .on_message = on_message};
        char id[32], err[300] = "";
        snprintf(id, sizeof id, "flood-sub-%d", r);
        sb_mqtt *sub = connect_client(id, 0, &cb);
        if (!sub)
            break;
        CHECK(sb_mqtt_subscribe(sub, &topic, 1, 0, err, sizeof err) == SB_OK, "subscribe: %s",
              err);
        uint8_t body[64] = {0};
        for (int i = 0; i < 2000; i++)
            sb_mqtt_publish(pub, topic, body, sizeof body, 0, SB_MQTT_SILENT);
        while (atomic_load(&s.got) < 20) /* messages are arriving */
            usleep(1000);
        sb_mqtt_close(sub, 0.2); /* in the middle of the flood */
        atomic_store(&s.closed, 1);
        usleep(20000); /* room for a late callback to show itself before s goes away */
        late += atomic_load(&s.late);
        got += atomic_load(&s.got);
    }
    CHECK(got > 20L * rounds, "the subscribers received the flood (%ld messages)", got);
    CHECK(late == 0, "no callback after sb_mqtt_close returned: %ld late", late);
    sb_mqtt_close(pub, 1.0);
}

int main(void)
{
    char err[300] = "";
    sb_broker_opts bo = {0};
    if (sb_broker_start(&broker, &bo, err, sizeof err) != SB_OK) {
        fprintf(stderr, "test_mqtt_client: cannot start a private broker: %s\n", err);
        return 2;
    }
    test_nodelay(0);
    test_nodelay(1);
    test_close_during_traffic();
    sb_broker_stop(&broker);
    return check_done("mqttclient");
}
