/* Child processes (common/proc.h). */
#include "common/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"

extern char **environ;

static int add_io(posix_spawn_file_actions_t *fa, int fd, sb_proc_io io, const char *path,
                  int pipe_w)
{
    switch (io) {
    case SB_IO_INHERIT:
        return 0;
    case SB_IO_NULL:
        return posix_spawn_file_actions_addopen(fa, fd, "/dev/null", fd ? O_WRONLY : O_RDONLY, 0);
    case SB_IO_TRUNCATE:
    case SB_IO_APPEND:
        if (!path)
            return EINVAL;
        return posix_spawn_file_actions_addopen(
            fa, fd, path, O_WRONLY | O_CREAT | (io == SB_IO_APPEND ? O_APPEND : O_TRUNC), 0666);
    case SB_IO_PIPE:
        return fd == STDOUT_FILENO && pipe_w >= 0 ? posix_spawn_file_actions_adddup2(fa, pipe_w, fd)
                                                  : EINVAL;
    }
    return EINVAL;
}

sb_err sb_proc_spawn(sb_proc *p, const sb_proc_spec *s, char *err, size_t err_len)
{
    *p = (sb_proc){.pid = -1, .out_fd = -1, .group = s->new_group};
    int fds[2] = {-1, -1};
    char **envp = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int fa_ready = 0, attr_ready = 0, rc = 0;
    const char *what = "posix_spawn";
    sb_err out = SB_ERR_IO;

    if (s->out == SB_IO_PIPE && pipe2(fds, O_CLOEXEC) != 0) {
        rc = errno;
        what = "pipe";
        goto exit;
    }
    if (s->extra_env) {
        size_t n = 0;
        while (environ && environ[n])
            n++;
        if (!(envp = calloc(n + 2, sizeof *envp))) {
            out = SB_ERR_NOMEM;
            snprintf(err, err_len, "out of memory");
            goto done;
        }
        memcpy(envp, environ, n * sizeof *envp);
        envp[n] = (char *)s->extra_env;
    }
    if ((rc = posix_spawn_file_actions_init(&fa)) != 0)
        goto exit;
    fa_ready = 1;
    if ((rc = add_io(&fa, STDIN_FILENO, s->in, NULL, -1)) ||
        (rc = add_io(&fa, STDOUT_FILENO, s->out, s->out_path, fds[1])) ||
        (rc = add_io(&fa, STDERR_FILENO, s->err, s->err_path, -1))) {
        what = "a redirection";
        goto exit;
    }
    if ((rc = posix_spawnattr_init(&attr)) != 0)
        goto exit;
    attr_ready = 1;
    /* Nothing blocked, and the usual stop signals at their defaults: the child must see the
     * SIGTERM or SIGINT that asks it to stop, whatever this process does with them. */
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT};
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
        sigaddset(&defaults, sigs[i]);
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (s->new_group)
        flags |= POSIX_SPAWN_SETPGROUP;
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, flags);
    char *const *env = envp ? envp : environ;
    rc = s->path ? posix_spawn(&p->pid, s->path, &fa, &attr, s->argv, env)
                 : posix_spawnp(&p->pid, s->argv[0], &fa, &attr, s->argv, env);

exit:
    if (rc != 0) {
        p->pid = -1;
        const char *prog = s->path ? s->path : s->argv[0];
        if (rc == ENOENT && strcmp(what, "posix_spawn") == 0)
            snprintf(err, err_len, "%s not found", prog);
        else
            snprintf(err, err_len, "cannot start %s: %s: %s", prog, what, strerror(rc));
    } else {
        out = SB_OK;
        p->out_fd = fds[0];
    }
done:
    if (fds[1] >= 0)
        close(fds[1]);
    if (out != SB_OK && fds[0] >= 0)
        close(fds[0]);
    if (fa_ready)
        posix_spawn_file_actions_destroy(&fa);
    if (attr_ready)
        posix_spawnattr_destroy(&attr);
    free(envp);
    return out;
}

int sb_proc_poll(sb_proc *p)
{
    if (p->done || p->pid <= 0)
        return 1;
    pid_t r;
    do
        r = wait4(p->pid, &p->status, WNOHANG, &p->ru);
    while (r < 0 && errno == EINTR);
    if (r == p->pid || r < 0) {
        if (r < 0)
            p->status = -1; /* not our child any more: nothing to wait for */
        p->done = 1;
    }
    return p->done;
}

void sb_proc_signal(sb_proc *p, int sig)
{
    if (p->pid > 0 && !p->done)
        kill(p->group ? -p->pid : p->pid, sig);
}

/* Read what the pipe holds now (waiting up to ms for the first byte); 0 at its end. */
static int drain(sb_proc *p, int ms, char *out, size_t cap, size_t *len)
{
    struct pollfd pfd = {.fd = p->out_fd, .events = POLLIN};
    int pr = poll(&pfd, 1, ms);
    if (pr <= 0)
        return 1;
    char chunk[512];
    ssize_t n = read(p->out_fd, chunk, sizeof chunk);
    if (n < 0)
        return errno == EINTR || errno == EAGAIN;
    if (n == 0)
        return 0;
    if (out && cap) {
        size_t keep = cap - 1 - *len < (size_t)n ? cap - 1 - *len : (size_t)n;
        memcpy(out + *len, chunk, keep);
        *len += keep;
        out[*len] = '\0';
    }
    return 1;
}

int sb_proc_read_line(sb_proc *p, char *buf, size_t cap, uint64_t deadline_ns)
{
    size_t len = 0;
    buf[0] = '\0';
    /* A byte at a time: nothing past the newline may be taken from the pipe. */
    while (p->out_fd >= 0 && sb_now_ns() < deadline_ns) {
        struct pollfd pfd = {.fd = p->out_fd, .events = POLLIN};
        int pr = poll(&pfd, 1, 20);
        if (pr < 0 && errno != EINTR)
            return 0;
        if (pr <= 0)
            continue;
        char c;
        ssize_t n = read(p->out_fd, &c, 1);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            return 0; /* its end: the child closed stdout or died */
        if (c == '\n')
            return 1;
        if (len + 1 < cap) {
            buf[len++] = c;
            buf[len] = '\0';
        }
    }
    return 0;
}

sb_proc_end sb_proc_wait(sb_proc *p, const sb_proc_wait_opts *o)
{
    sb_proc_end end = SB_PROC_EXITED;
    uint64_t kill_at = 0;
    int signalled = 0;
    long nap_ms = 1; /* short at first: most tools end within milliseconds */
    size_t len = 0;
    if (o->out && o->cap)
        o->out[0] = '\0';
    while (!sb_proc_poll(p)) {
        uint64_t now = sb_now_ns();
        if (!signalled && o->stop && *o->stop) {
            sb_proc_signal(p, o->stop_sig ? o->stop_sig : SIGINT);
            end = SB_PROC_STOPPED;
            signalled = 1;
        } else if (!signalled && o->deadline_ns && now > o->deadline_ns) {
            sb_proc_signal(p, o->term_sig ? o->term_sig : SIGTERM);
            end = SB_PROC_TIMED_OUT;
            signalled = 1;
        }
        if (signalled == 1) {
            kill_at = now + (uint64_t)(o->grace_s * 1e9);
            signalled = 2;
        } else if (signalled == 2 && now >= kill_at) {
            sb_proc_signal(p, SIGKILL);
            signalled = 3;
        }
        if (p->out_fd >= 0) {
            if (!drain(p, (int)nap_ms, o->out, o->cap, &len)) {
                close(p->out_fd);
                p->out_fd = -1;
            }
        } else {
            nanosleep(&(struct timespec){0, nap_ms * 1000000L}, NULL);
        }
        if (nap_ms < 20)
            nap_ms *= 2;
    }
    /* What the child wrote before it ended, as much as the pipe holds now: a grandchild that
     * keeps the pipe open, or goes on writing, does not hold the caller up. */
    for (int i = 0; i < 256 && p->out_fd >= 0; i++) {
        struct pollfd pfd = {.fd = p->out_fd, .events = POLLIN};
        if (poll(&pfd, 1, 0) <= 0 || !drain(p, 0, o->out, o->cap, &len))
            break;
    }
    if (p->out_fd >= 0) {
        close(p->out_fd);
        p->out_fd = -1;
    }
    return end;
}
