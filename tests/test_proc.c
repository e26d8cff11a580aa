/* common/proc: real programs (/bin/sh and its builtins, sleep) started, watched and stopped the
 * ways the runner, the manifest and the broker use: stdout captured or sent to files, the
 * environment added to, a deadline (SIGTERM, then SIGKILL for a child that ignores it), a stop
 * flag (SIGINT), a process group that takes a grandchild down with it, the child's CPU time, and
 * a child that sees the stop signals at their defaults whatever this process does with them. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/proc.h"
#include "common/util.h"
#include "tests/check.h"

static char dir[] = "/tmp/sb-test-proc-XXXXXX";

static int run_sh(const char *script, sb_proc *p, const sb_proc_spec *tmpl)
{
    char *argv[] = {(char *)"/bin/sh", (char *)"-c", (char *)script, NULL};
    sb_proc_spec s = tmpl ? *tmpl : (sb_proc_spec){.in = SB_IO_NULL, .out = SB_IO_NULL,
                                                   .err = SB_IO_NULL};
    s.path = "/bin/sh";
    s.argv = argv;
    char err[256];
    return sb_proc_spawn(p, &s, err, sizeof err) == SB_OK;
}

static void slurp(const char *path, char *out, size_t cap)
{
    out[0] = '\0';
    FILE *fp = fopen(path, "r");
    if (!fp)
        return;
    size_t n = fread(out, 1, cap - 1, fp);
    out[n] = '\0';
    fclose(fp);
}

static void check_capture_and_files(void)
{
    sb_proc p;
    char out[64];
    sb_proc_spec s = {.in = SB_IO_NULL, .out = SB_IO_PIPE, .err = SB_IO_NULL, .extra_env = "SB_X=42"};
    CHECK(run_sh("echo \"x=$SB_X\"; echo to-stderr >&2; exit 3", &p, &s), "spawn with a pipe");
    sb_proc_wait_opts w = {.out = out, .cap = sizeof out};
    CHECK(sb_proc_wait(&p, &w) == SB_PROC_EXITED, "exited by itself");
    CHECK(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 3, "exit status 3: %d", p.status);
    CHECK(strcmp(out, "x=42\n") == 0, "stdout captured with the added variable: '%s'", out);

    /* More than the buffer holds: kept up to cap - 1, the rest read and dropped (no hang). */
    CHECK(run_sh("i=0; while [ $i -lt 20000 ]; do echo 0123456789; i=$((i+1)); done", &p, &s), "chatty child");
    char small[8];
    sb_proc_wait_opts ws = {.deadline_ns = sb_now_ns() + UINT64_C(20000000000), .out = small,
                            .cap = sizeof small};
    CHECK(sb_proc_wait(&p, &ws) == SB_PROC_EXITED && strcmp(small, "0123456") == 0,
          "a full pipe never blocks the child; kept '%s'", small);

    char o[256], e[256], got[256];
    snprintf(o, sizeof o, "%s/out", dir);
    snprintf(e, sizeof e, "%s/err", dir);
    FILE *fp = fopen(e, "w");
    if (fp) {
        fputs("before\n", fp);
        fclose(fp);
    }
    sb_proc_spec f = {.in = SB_IO_NULL, .out = SB_IO_TRUNCATE, .out_path = o, .err = SB_IO_APPEND,
                      .err_path = e};
    for (int i = 0; i < 2; i++) {
        CHECK(run_sh("echo out; echo err >&2", &p, &f), "spawn with files");
        sb_proc_wait(&p, &(sb_proc_wait_opts){0});
    }
    slurp(o, got, sizeof got);
    CHECK(strcmp(got, "out\n") == 0, "stdout truncated each time: '%s'", got);
    slurp(e, got, sizeof got);
    CHECK(strcmp(got, "before\nerr\nerr\n") == 0, "stderr appended: '%s'", got);
}

static void check_missing(void)
{
    sb_proc p;
    char *argv[] = {(char *)"sb-no-such-program-here", NULL};
    sb_proc_spec s = {.argv = argv, .in = SB_IO_NULL, .out = SB_IO_NULL, .err = SB_IO_NULL};
    char err[256] = "";
    sb_err rc = sb_proc_spawn(&p, &s, err, sizeof err);
    if (rc == SB_OK) { /* qemu-user: the exec fails in the child, which exits 127 */
        sb_proc_wait(&p, &(sb_proc_wait_opts){0});
        CHECK(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 127, "missing program: exit 127");
    } else {
        CHECK(strstr(err, "sb-no-such-program-here not found") != NULL && p.pid < 0,
              "missing program: '%s'", err);
    }
}

static void check_stopping(void)
{
    sb_proc p;
    /* A deadline: SIGTERM. */
    CHECK(run_sh("exec sleep 30", &p, NULL), "spawn sleep");
    uint64_t t0 = sb_now_ns();
    sb_proc_wait_opts w = {.deadline_ns = t0 + 200000000, .grace_s = 5};
    CHECK(sb_proc_wait(&p, &w) == SB_PROC_TIMED_OUT, "timed out");
    CHECK(WIFSIGNALED(p.status) && WTERMSIG(p.status) == SIGTERM, "ended by SIGTERM: %d", p.status);
    CHECK(sb_now_ns() - t0 < UINT64_C(5000000000), "promptly");

    /* A child that ignores SIGTERM: SIGKILL after the grace period. */
    CHECK(run_sh("trap '' TERM; while :; do sleep 0.05; done", &p, NULL), "spawn a stubborn child");
    usleep(100000); /* its trap in place */
    t0 = sb_now_ns();
    w = (sb_proc_wait_opts){.deadline_ns = t0 + 100000000, .grace_s = 0.5};
    CHECK(sb_proc_wait(&p, &w) == SB_PROC_TIMED_OUT, "stubborn: timed out");
    CHECK(WIFSIGNALED(p.status) && WTERMSIG(p.status) == SIGKILL, "stubborn: ended by SIGKILL: %d",
          p.status);
    uint64_t took = sb_now_ns() - t0;
    CHECK(took >= UINT64_C(550000000) && took < UINT64_C(5000000000), "after the grace: %.2f s",
          (double)took / 1e9);

    /* The stop flag: SIGINT. */
    volatile sig_atomic_t stop = 1;
    CHECK(run_sh("exec sleep 30", &p, NULL), "spawn sleep");
    w = (sb_proc_wait_opts){.stop = &stop, .grace_s = 5};
    CHECK(sb_proc_wait(&p, &w) == SB_PROC_STOPPED, "stopped");
    CHECK(WIFSIGNALED(p.status) && WTERMSIG(p.status) == SIGINT, "ended by SIGINT: %d", p.status);

    /* A process group of its own: its grandchild goes too. */
    char pidfile[256], cmd[512], got[64];
    snprintf(pidfile, sizeof pidfile, "%s/grandchild", dir);
    snprintf(cmd, sizeof cmd, "sleep 30 & echo $! > %s; wait", pidfile);
    sb_proc_spec g = {.in = SB_IO_NULL, .out = SB_IO_NULL, .err = SB_IO_NULL, .new_group = 1};
    CHECK(run_sh(cmd, &p, &g), "spawn in a new group");
    for (int i = 0; i < 100; i++) {
        slurp(pidfile, got, sizeof got);
        if (got[0])
            break;
        usleep(20000);
    }
    pid_t grandchild = (pid_t)atol(got);
    w = (sb_proc_wait_opts){.deadline_ns = sb_now_ns() + 100000000, .term_sig = SIGKILL};
    sb_proc_wait(&p, &w);
    int gone = 0;
    for (int i = 0; i < 100 && !gone; i++) {
        gone = grandchild > 0 && kill(grandchild, 0) != 0 && errno == ESRCH;
        if (!gone)
            usleep(20000);
    }
    CHECK(grandchild > 0 && gone, "the grandchild (%d) ended with its group", (int)grandchild);
}

/* This process ignores SIGTERM and blocks SIGINT; its children must not inherit either. */
static void check_signal_defaults(void)
{
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigaction(SIGTERM, &ign, &old);
    sigset_t block, saved;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &saved);
    sb_proc p;
    CHECK(run_sh("exec sleep 30", &p, NULL), "spawn with SIGTERM ignored here");
    sb_proc_wait_opts w = {.deadline_ns = sb_now_ns() + 100000000, .grace_s = 5};
    sb_proc_wait(&p, &w);
    CHECK(WIFSIGNALED(p.status) && WTERMSIG(p.status) == SIGTERM,
          "the child still ends on SIGTERM: %d", p.status);
    volatile sig_atomic_t stop = 1;
    CHECK(run_sh("exec sleep 30", &p, NULL), "spawn with SIGINT blocked here");
    w = (sb_proc_wait_opts){.stop = &stop, .grace_s = 5};
    sb_proc_wait(&p, &w);
    CHECK(WIFSIGNALED(p.status) && WTERMSIG(p.status) == SIGINT,
          "the child still ends on SIGINT: %d", p.status);
    sigprocmask(SIG_SETMASK, &saved, NULL);
    sigaction(SIGTERM, &old, NULL);
}

static void check_rusage(void)
{
    sb_proc p;
    CHECK(run_sh("i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done", &p, NULL), "spawn a busy child");
    sb_proc_wait(&p, &(sb_proc_wait_opts){0});
    double cpu = (double)p.ru.ru_utime.tv_sec + (double)p.ru.ru_utime.tv_usec / 1e6 +
                 (double)p.ru.ru_stime.tv_sec + (double)p.ru.ru_stime.tv_usec / 1e6;
    CHECK(p.done && cpu > 0.01, "the child's own CPU time is reported: %.3f s", cpu);
    CHECK(sb_proc_poll(&p) == 1, "polling a finished child says done");
}

/* A "ready" line read while the child runs, and what follows it left for the wait. */
static void check_read_line(void)
{
    sb_proc p;
    sb_proc_spec s = {.in = SB_IO_NULL, .out = SB_IO_PIPE, .err = SB_IO_NULL};
    char line[64], rest[256];
    CHECK(run_sh("printf 'ready\\n'; sleep 0.2; printf '{\"columns\": 1}\\n'", &p, &s),
          "spawn");
    CHECK(sb_proc_read_line(&p, line, sizeof line, sb_now_ns() + UINT64_C(5000000000)) == 1 &&
              strcmp(line, "ready") == 0,
          "the first line: '%s'", line);
    CHECK(!p.done, "read before the child ended");
    sb_proc_wait(&p, &(sb_proc_wait_opts){.out = rest, .cap = sizeof rest});
    CHECK(strcmp(rest, "{\"columns\": 1}\n") == 0, "the rest is the wait's: '%s'", rest);

    CHECK(run_sh("printf 'no newline'; exit 3", &p, &s), "spawn");
    CHECK(sb_proc_read_line(&p, line, sizeof line, sb_now_ns() + UINT64_C(5000000000)) == 0,
          "a child that ends before a whole line: 0");
    sb_proc_wait(&p, &(sb_proc_wait_opts){0});

    CHECK(run_sh("exec sleep 5", &p, &s), "spawn");
    uint64_t t0 = sb_now_ns();
    CHECK(sb_proc_read_line(&p, line, sizeof line, t0 + UINT64_C(300000000)) == 0,
          "nothing by the deadline: 0");
    CHECK(sb_now_ns() - t0 < UINT64_C(3000000000), "gave up at the deadline, not at the end");
    sb_proc_signal(&p, SIGKILL);
    sb_proc_wait(&p, &(sb_proc_wait_opts){0});
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    check_capture_and_files();
    check_missing();
    check_stopping();
    check_signal_defaults();
    check_rusage();
    check_read_line();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_done("proc");
}
