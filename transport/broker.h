/* The private Mosquitto broker: started by sealbench on 127.0.0.1 with a free port and a
 * generated configuration, and stopped on every exit path.
 *
 * Why private by default: a shared or system broker adds other people's traffic and settings to
 * every number. The generated configuration turns on TCP_NODELAY (no Nagle delay on small
 * telemetry messages) and lifts the queue limits, because Debian's default of 1000 queued
 * messages drops QoS 1/2 messages without telling the publisher.
 *
 * With a certificate (tls_certfile), the one listener speaks TLS instead of plain MQTT: the
 * suite measures end-to-end encryption with and without transport encryption underneath, on
 * the same private broker.
 *
 * Every started broker is registered so that an atexit handler and SIGINT/SIGTERM/SIGHUP
 * handlers stop it; a guardian process stops it when sealbench dies in any other way (SIGKILL
 * included). */
#ifndef SB_TRANSPORT_BROKER_H
#define SB_TRANSPORT_BROKER_H

#include <stddef.h>
#include <sys/types.h>

#include "common/err.h"

typedef struct sb_broker_opts {
    int persistence;       /* keep messages and sessions on disk across a restart */
    int port;              /* 0: pick a free port */
    double start_timeout_s; /* 0: 10 s */
    /* TLS listener: set tls_certfile (and tls_keyfile) to turn it on. The files must exist and be
     * readable; start() checks them and writes their absolute paths into the configuration, so
     * the strings need only live during sb_broker_start(). */
    const char *tls_cafile;   /* CA that signs client certificates; needed by tls_require_cert */
    const char *tls_certfile; /* the broker's certificate (PEM) */
    const char *tls_keyfile;  /* its private key (PEM) */
    int tls_require_cert;     /* refuse clients without a certificate signed by tls_cafile */
} sb_broker_opts;

typedef struct sb_broker {
    pid_t pid;              /* the mosquitto process; 0 when stopped */
    pid_t guardian;         /* stops the broker if sealbench dies (see broker.c) */
    int lifeline;           /* write end of the guardian's pipe */
    int port;
    sb_broker_opts opts;
    char dir[128];          /* private folder: config, log, persistence */
    char conf_path[160];
    char log_path[160];
    char stderr_path[160];
    char version[32];       /* "2.0.11" */
    char uri[48];           /* "tcp://127.0.0.1:PORT", or "ssl://127.0.0.1:PORT" with TLS */
    char tls_cafile[1024];  /* absolute paths of the TLS files; empty without TLS */
    char tls_certfile[1024];
    char tls_keyfile[1024];
    char config[4096];      /* the generated configuration */
} sb_broker;

/* Start a broker and wait until it accepts connections. On failure, err (if not NULL) gets a
 * one-line explanation and nothing is left running: SB_ERR_ARG for inconsistent TLS options,
 * SB_ERR_IO for a missing or unreadable TLS file and for a broker that did not start. */
sb_err sb_broker_start(sb_broker *b, const sb_broker_opts *opts, char *err, size_t err_len);

/* Stop (SIGTERM, then SIGKILL after 5 s) and remove the private folder. Idempotent. */
void sb_broker_stop(sb_broker *b);

/* Stop the process but keep the folder (and its persistence file), then start again on the
 * same port after outage_s seconds (an outage longer than the clients' retry interval): a
 * graceful restart when graceful, a crash (SIGKILL) otherwise. */
sb_err sb_broker_restart(sb_broker *b, int graceful, double outage_s, char *err, size_t err_len);

/* The generated configuration, for a run's records. */
const char *sb_broker_config_text(const sb_broker *b);

/* The mosquitto binary: $SEALBENCH_MOSQUITTO, else /usr/sbin/mosquitto, else "mosquitto". */
const char *sb_broker_binary(void);

#endif
