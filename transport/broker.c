/* Private Mosquitto broker (transport/broker.h). POSIX process control only: fork/exec, a
 * loopback connect() to learn when it is ready, signals to stop it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/proc.h"
#include "common/util.h"
#include "transport/broker.h"

#define MAX_LIVE 16

/* Brokers to stop on exit or on a fatal signal. Plain pids: a signal handler may only make
 * async-signal-safe calls, and kill() is one. */
static volatile pid_t live[MAX_LIVE];
static int handlers_installed;

static void say(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    if (!err || !len)
        return;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
}

static void kill_live(void)
{
    for (int i = 0; i < MAX_LIVE; i++)
        if (live[i] > 0) {
            kill(live[i], SIGTERM);
            live[i] = 0;
        }
}

static void on_signal(int sig)
{
    kill_live();
    /* Die of the same signal, so that our parent sees what happened. */
    signal(sig, SIG_DFL);
    raise(sig);
}

static void track(pid_t pid)
{
    if (!handlers_installed) {
        handlers_installed = 1;
        atexit(kill_live);
        int sigs[] = {SIGINT, SIGTERM, SIGHUP};
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
            struct sigaction sa, old;
            memset(&sa, 0, sizeof sa);
            sa.sa_handler = on_signal;
            sigemptyset(&sa.sa_mask);
            /* Leave a handler the program installed itself alone; it must stop us. */
            if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL)
                sigaction(sigs[i], &sa, NULL);
        }
    }
    for (int i = 0; i < MAX_LIVE; i++)
        if (live[i] == 0) {
            live[i] = pid;
            return;
        }
}

static void untrack(pid_t pid)
{
    for (int i = 0; i < MAX_LIVE; i++)
        if (live[i] == pid)
            live[i] = 0;
}

const char *sb_broker_binary(void)
{
    const char *env = getenv("SEALBENCH_MOSQUITTO");
    if (env && *env)
        return env;
    /* /usr/sbin is not on an ordinary user's PATH on Debian. */
    return access("/usr/sbin/mosquitto", X_OK) == 0 ? "/usr/sbin/mosquitto" : "mosquitto";
}

/* "mosquitto version 2.0.11" is the first line of `mosquitto -h`. */
static void read_version(sb_broker *b)
{
    char cmd[512], line[256];
    snprintf(cmd, sizeof cmd, "'%s' -h 2>&1", sb_broker_binary());
    snprintf(b->version, sizeof b->version, "unknown");
    FILE *p = popen(cmd, "r");
    if (!p)
        return;
    if (fgets(line, sizeof line, p)) {
        const char *v = strstr(line, "version ");
        if (v)
            sscanf(v + 8, "%31s", b->version);
    }
    pclose(p);
}

/* A port the kernel says is free now. Another process could take it before the broker binds;
 * start() notices (the broker exits) and tries another. */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static int accepts(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0)
        return 0;
    ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* One TLS file of the configuration, checked now so that a typo is named here, in sealbench's
 * words, rather than in the broker's log. The path written is absolute because mosquitto reads
 * it relative to its own working folder, and so that the run's records say which file was
 * used. 1 on success; otherwise err names the file. */
static int tls_file(const char *what, const char *path, char *out, size_t out_len, char *err,
                    size_t err_len)
{
    char *abs = realpath(path, NULL);
    if (!abs) {
        say(err, err_len, "TLS %s '%s': %s", what, path, strerror(errno));
        return 0;
    }
    /* Open it as the broker will (it runs as our user, or as root when we are root): this
     * catches permissions that stat() alone would not. */
    struct stat st;
    int fd = open(abs, O_RDONLY | O_CLOEXEC), ok = 0;
    if (fd < 0)
        say(err, err_len, "TLS %s '%s': cannot read: %s", what, path, strerror(errno));
    else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        say(err, err_len, "TLS %s '%s': not a regular file", what, path);
    /* A line break would end the configuration line and start another of the path's choosing. */
    else if (strpbrk(abs, "\r\n"))
        say(err, err_len, "TLS %s '%s': line breaks in the path are not supported", what, path);
    else if (strlen(abs) >= out_len)
        say(err, err_len, "TLS %s '%s': absolute path longer than %zu characters", what, path,
            out_len - 1);
    else {
        snprintf(out, out_len, "%s", abs);
        ok = 1;
    }
    if (fd >= 0)
        close(fd);
    free(abs);
    return ok;
}

/* Check the TLS options and resolve their files into b. A certificate without its key (or the
 * reverse) and a required client certificate without a CA to check it against are mistakes the
 * broker would report only in its log, or not at all. */
static sb_err tls_setup(sb_broker *b, char *err, size_t err_len)
{
    const sb_broker_opts *o = &b->opts;
    if (!o->tls_certfile) {
        if (o->tls_keyfile || o->tls_cafile || o->tls_require_cert) {
            say(err, err_len, "a TLS key, CA or required client certificate needs a broker certificate too");
            return SB_ERR_ARG;
        }
        return SB_OK;
    }
    if (!o->tls_keyfile) {
        say(err, err_len, "a TLS broker certificate needs its private key too");
        return SB_ERR_ARG;
    }
    if (o->tls_require_cert && !o->tls_cafile) {
        say(err, err_len, "requiring client certificates needs a TLS CA file to check them against");
        return SB_ERR_ARG;
    }
    if (!tls_file("certificate", o->tls_certfile, b->tls_certfile, sizeof b->tls_certfile, err, err_len) ||
        !tls_file("key", o->tls_keyfile, b->tls_keyfile, sizeof b->tls_keyfile, err, err_len) ||
        (o->tls_cafile &&
         !tls_file("CA file", o->tls_cafile, b->tls_cafile, sizeof b->tls_cafile, err, err_len)))
        return SB_ERR_IO;
    return SB_OK;
}

/* The TLS lines of the listener (mosquitto applies them to the listener above them). */
static void tls_config(const sb_broker *b, char *out, size_t len)
{
    out[0] = '\0';
    if (!b->tls_certfile[0])
        return;
    int n = snprintf(out, len,
                     "# TLS listener\n"
                     "certfile %s\n"
                     "keyfile %s\n"
                     /* Written out rather than left to the library's default, so that the
                      * records of a run say which TLS versions were on offer. */
                     "tls_version tlsv1.2\n"
                     "require_certificate %s\n",
                     b->tls_certfile, b->tls_keyfile, b->opts.tls_require_cert ? "true" : "false");
    if (n >= 0 && (size_t)n < len && b->tls_cafile[0])
        snprintf(out + n, len - (size_t)n, "cafile %s\n", b->tls_cafile);
}

static int write_config(sb_broker *b)
{
    char tls[sizeof b->tls_cafile * 3 + 160];
    tls_config(b, tls, sizeof tls);
    int n = snprintf(b->config, sizeof b->config,
                     "# generated by sealbench for one run; see transport/broker.h\n"
                     "listener %d 127.0.0.1\n"
                     "%s"
                     "allow_anonymous true\n"
                     "set_tcp_nodelay true\n"
                     "# 0 = no limit: never drop queued QoS 1/2 messages silently\n"
                     "max_queued_messages 0\n"
                     "max_queued_bytes 0\n"
                     "# 0 = no limit: at the default 20, QoS 2 at 200 msg/s on a loaded or\n"
                     "# emulated CPU lost the device (Bad socket read/write: Unknown error)\n"
                     "max_inflight_messages 0\n"
                     "persistence %s\n"
                     "persistence_location %s/\n"
                     "autosave_interval 1\n"
                     "log_dest file %s\n"
                     "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
                     "connection_messages true\n"
                     "%s",
                     b->port, tls, b->opts.persistence ? "true" : "false", b->dir, b->log_path,
                     /* Started as root, mosquitto would switch to user "mosquitto", which
                      * cannot write our private 0700 folder. It is the caller's own process. */
                     geteuid() == 0 ? "user root\n" : "");
    if (n < 0 || (size_t)n >= sizeof b->config)
        return 0;
    FILE *f = fopen(b->conf_path, "w");
    if (!f)
        return 0;
    int ok = fputs(b->config, f) >= 0;
    return fclose(f) == 0 && ok;
}

/* Why the broker did not start: its first "Error: " line (for TLS files, mosquitto follows it
 * with the OpenSSL reason, which is added), else the last line of its log. */
static void log_tail(const sb_broker *b, char *out, size_t len)
{
    char line[256] = "", error[256] = "", detail[256] = "", last[256] = "";
    out[0] = '\0';
    /* Errors before the log file is open (a bad configuration) go to stderr. */
    const char *paths[] = {b->stderr_path, b->log_path};
    for (int i = 0; i < 2; i++) {
        FILE *f = fopen(paths[i], "r");
        if (!f)
            continue;
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\n")] = '\0';
            /* Drop the "1700000000: " time stamp. */
            char *text = line + strspn(line, "0123456789");
            text = text != line && text[0] == ':' && text[1] == ' ' ? text + 2 : line;
            const char *ssl = strstr(text, "OpenSSL Error[0]: ");
            if (!text[0] || strstr(text, "should not be run as root"))
                continue;
            if (!error[0] && strncmp(text, "Error: ", 7) == 0)
                snprintf(error, sizeof error, "%s", text);
            else if (error[0] && !detail[0] && ssl)
                snprintf(detail, sizeof detail, "%s", ssl + 18);
            snprintf(last, sizeof last, "%s", text);
        }
        fclose(f);
    }
    if (error[0] && detail[0])
        snprintf(out, len, "%s (%s)", error, detail);
    else
        snprintf(out, len, "%s", error[0] ? error : last);
}

static void reap(sb_broker *b, int sig, double wait_s)
{
    if (b->pid <= 0)
        return;
    kill(b->pid, sig);
    /* The guardian exits when the broker does. */
    uint64_t deadline = sb_now_ns() + (uint64_t)(wait_s * 1e9);
    for (;;) {
        pid_t r = waitpid(b->guardian, NULL, WNOHANG);
        if (r == b->guardian || (r < 0 && errno == ECHILD))
            break;
        if (sb_now_ns() > deadline) {
            kill(b->pid, SIGKILL);
            waitpid(b->guardian, NULL, 0);
            break;
        }
        nanosleep(&(struct timespec){0, 2000000}, NULL);
    }
    untrack(b->pid);
    if (b->lifeline >= 0)
        close(b->lifeline);
    b->lifeline = -1;
    b->pid = b->guardian = 0;
}

/* The guardian: starts the broker, then waits for whichever comes first, the broker's exit
 * (it exits with the broker's status) or the end of its lifeline from sealbench (sealbench
 * died, however: it stops the broker). PR_SET_PDEATHSIG alone is not enough, because a
 * change of credentials in the broker (mosquitto's `user` handling) clears it. */
/* Remove the private folder. It is flat (configuration, logs, persistence file), so no
 * recursion, and no shell to trip over unusual characters in $TMPDIR. */
static int rm_private_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : -1;
    int rc = 0;
    char path[320];
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        rc |= unlink(path);
    }
    closedir(d);
    return rc | rmdir(dir);
}

/* A child must not inherit the caller's blocked signals or handlers: mosquitto would never see
 * the SIGTERM that asks it to stop. */
static void reset_signals(void)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        signal(sigs[i], SIG_DFL);
}

/* The broker's pid, or what went wrong, reported to sealbench through the guardian's pipe. */
#define BROKER_NOT_FOUND (-127)

static void guardian(sb_broker *b, int lifeline, int report, const char *bin)
{
    reset_signals();
    /* argv[0] "mosquitto" whichever binary runs (a path, or a name searched in PATH). */
    char *argv[] = {(char *)(strchr(bin, '/') ? "mosquitto" : bin), (char *)"-c", b->conf_path,
                    NULL};
    sb_proc_spec spec = {.path = strchr(bin, '/') ? bin : NULL, .argv = argv, .in = SB_IO_NULL,
                         .out = SB_IO_APPEND, .out_path = b->stderr_path, .err = SB_IO_APPEND,
                         .err_path = b->stderr_path};
    sb_proc m;
    char err[256];
    if (sb_proc_spawn(&m, &spec, err, sizeof err) != SB_OK) {
        pid_t why = strstr(err, "not found") ? BROKER_NOT_FOUND : -1;
        if (write(report, &why, sizeof why) != (ssize_t)sizeof why)
            _exit(126);
        _exit(why == BROKER_NOT_FOUND ? 127 : 126);
    }
    if (write(report, &m.pid, sizeof m.pid) != (ssize_t)sizeof m.pid)
        _exit(126);
    close(report);
    for (;;) {
        struct pollfd pfd = {.fd = lifeline, .events = POLLIN};
        if (sb_proc_poll(&m))
            _exit(m.status == -1          ? 126
                  : WIFEXITED(m.status) ? WEXITSTATUS(m.status)
                                        : 128 + WTERMSIG(m.status));
        if (poll(&pfd, 1, 50) > 0) { /* EOF: sealbench is gone */
            /* SIGTERM, and SIGKILL 5 s later; never to a pid already reaped, which could
             * belong to another process by then. */
            sb_proc_wait_opts w = {.deadline_ns = 1, .term_sig = SIGTERM, .grace_s = 5.0};
            sb_proc_wait(&m, &w);
            /* Nobody else is left to remove the private folder. */
            _exit(rm_private_dir(b->dir) == 0 ? 0 : 1);
        }
    }
}

/* Ready means two lines in mosquitto's log. "Opening ipv4 listen socket on port N." proves that
 * the listener on the port is ours, not another process that took the port meanwhile. But it
 * is logged before the socket is bound and, for a TLS listener, before the certificate and key
 * are loaded: a broker with a bad key listens for a moment and then exits, and a connect() in
 * that moment succeeds. Mosquitto 2.0 logs "mosquitto version V running" once every listener
 * started, just before its main loop. */
static int log_says_ready(const sb_broker *b)
{
    char line[256], want[64];
    int listening = 0, running = 0;
    snprintf(want, sizeof want, "listen socket on port %d.", b->port);
    FILE *f = fopen(b->log_path, "r");
    if (!f)
        return 0;
    while (!(listening && running) && fgets(line, sizeof line, f)) {
        listening |= strstr(line, want) != NULL;
        running |= listening && strstr(line, " running") && strstr(line, "mosquitto version ");
    }
    fclose(f);
    return listening && running;
}

/* Start guardian and broker on b->port, then wait until it accepts. 1 ready, 0 exited early
 * (port taken, bad config), -1 other failure; err says which. */
static int launch(sb_broker *b, char *err, size_t err_len)
{
    const char *bin = sb_broker_binary();
    int life[2], rep[2];
    if (accepts(b->port)) {
        say(err, err_len, "port %d on 127.0.0.1 is already in use", b->port);
        return 0;
    }
    remove(b->log_path);
    if (pipe2(life, O_CLOEXEC) != 0 || pipe2(rep, O_CLOEXEC) != 0) {
        say(err, err_len, "cannot start the broker: pipe: %s", strerror(errno));
        return -1;
    }
    pid_t g = fork();
    if (g < 0) {
        say(err, err_len, "cannot start the broker: fork: %s", strerror(errno));
        return -1;
    }
    if (g == 0) {
        close(life[1]);
        close(rep[0]);
        guardian(b, life[0], rep[1], bin);
    }
    close(life[0]);
    close(rep[1]);
    pid_t m = 0;
    ssize_t got = read(rep[0], &m, sizeof m);
    close(rep[0]);
    b->guardian = g;
    b->lifeline = life[1];
    b->pid = got == (ssize_t)sizeof m ? m : 0;
    if (b->pid <= 0) {
        waitpid(g, NULL, 0); /* the guardian ends at once: nothing was started */
        close(b->lifeline);
        b->lifeline = -1;
        b->pid = b->guardian = 0;
        if (got == (ssize_t)sizeof m && m == BROKER_NOT_FOUND)
            say(err, err_len, "cannot run the broker %s (install the Debian package mosquitto, or set SEALBENCH_MOSQUITTO)", bin);
        else
            say(err, err_len, "cannot start the broker process");
        return -1;
    }
    track(b->pid);
    double timeout = b->opts.start_timeout_s > 0 ? b->opts.start_timeout_s : 10;
    uint64_t deadline = sb_now_ns() + (uint64_t)(timeout * 1e9);
    while (sb_now_ns() < deadline) {
        int status;
        if (waitpid(g, &status, WNOHANG) == g) {
            char tail[520]; /* log_tail: an error line and its OpenSSL reason */
            int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            untrack(b->pid);
            close(b->lifeline);
            b->lifeline = -1;
            b->pid = b->guardian = 0;
            log_tail(b, tail, sizeof tail);
            if (code == 127)
                say(err, err_len, "cannot run the broker %s (install the Debian package mosquitto, or set SEALBENCH_MOSQUITTO)", bin);
            else
                say(err, err_len, "the broker exited at start on port %d: %s", b->port, tail[0] ? tail : "no log");
            return code == 127 ? -1 : 0;
        }
        /* connect() completes in the kernel, before any TLS handshake, so this probe works for a
         * TLS listener too; mosquitto logs it as a failed connection ("unexpected eof"). */
        if (log_says_ready(b) && accepts(b->port))
            return 1;
        nanosleep(&(struct timespec){0, 5000000}, NULL);
    }
    /* Listening but never "running": a mosquitto that does not log the line we wait for. */
    int listening = accepts(b->port);
    reap(b, SIGKILL, 1);
    if (listening)
        say(err, err_len, "the broker accepts connections on 127.0.0.1:%d but did not log 'running' within %.0f s (is it mosquitto 2.0 or later?)", b->port, timeout);
    else
        say(err, err_len, "the broker did not accept connections on 127.0.0.1:%d within %.0f s", b->port, timeout);
    return -1;
}

static void remove_dir(sb_broker *b)
{
    if (!b->dir[0])
        return;
    if (rm_private_dir(b->dir) != 0)
        fprintf(stderr, "sealbench: could not remove %s: %s\n", b->dir, strerror(errno));
    b->dir[0] = '\0';
}

sb_err sb_broker_start(sb_broker *b, const sb_broker_opts *opts, char *err, size_t err_len)
{
    memset(b, 0, sizeof *b);
    if (opts)
        b->opts = *opts;
    b->lifeline = -1;
    sb_err rc = tls_setup(b, err, err_len);
    /* The caller's strings need not outlive this call: the resolved copies are in b. */
    b->opts.tls_cafile = b->opts.tls_certfile = b->opts.tls_keyfile = NULL;
    if (rc != SB_OK)
        return rc;
    const char *tmp = getenv("TMPDIR");
    snprintf(b->dir, sizeof b->dir, "%s/sealbench-broker-XXXXXX", tmp && *tmp && strlen(tmp) < 80 ? tmp : "/tmp");
    if (!mkdtemp(b->dir)) {
        say(err, err_len, "cannot create a folder for the broker in %s: %s", tmp ? tmp : "/tmp", strerror(errno));
        b->dir[0] = '\0';
        return SB_ERR_IO;
    }
    snprintf(b->conf_path, sizeof b->conf_path, "%s/mosquitto.conf", b->dir);
    snprintf(b->log_path, sizeof b->log_path, "%s/mosquitto.log", b->dir);
    snprintf(b->stderr_path, sizeof b->stderr_path, "%s/stderr.log", b->dir);
    read_version(b);
    for (int attempt = 0; attempt < 5; attempt++) {
        b->port = b->opts.port ? b->opts.port : free_port();
        if (b->port <= 0 || !write_config(b)) {
            say(err, err_len, "cannot write the broker configuration %s", b->conf_path);
            break;
        }
        int r = launch(b, err, err_len);
        if (r == 1) {
            /* Paho's scheme for TLS; the listener speaks nothing else. */
            snprintf(b->uri, sizeof b->uri, "%s://127.0.0.1:%d", b->tls_certfile[0] ? "ssl" : "tcp",
                     b->port);
            return SB_OK;
        }
        if (r < 0 || b->opts.port)
            break; /* a fixed port that is taken stays taken */
    }
    remove_dir(b);
    return SB_ERR_IO;
}

void sb_broker_stop(sb_broker *b)
{
    reap(b, SIGTERM, 5);
    remove_dir(b);
}

sb_err sb_broker_restart(sb_broker *b, int graceful, double outage_s, char *err, size_t err_len)
{
    reap(b, graceful ? SIGTERM : SIGKILL, 5);
    if (outage_s > 0) {
        struct timespec ts = {(time_t)outage_s, (long)((outage_s - (double)(time_t)outage_s) * 1e9)};
        while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
            ;
    }
    /* The port may linger in TIME_WAIT; mosquitto sets SO_REUSEADDR, so it binds again. */
    return launch(b, err, err_len) == 1 ? SB_OK : SB_ERR_IO;
}

const char *sb_broker_config_text(const sb_broker *b)
{
    return b->config;
}
