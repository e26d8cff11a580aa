/* Child processes, one way for the whole suite: the runner's cell and microbenchmark children,
 * the manifest's external tools and the private broker all start, watch and stop programs
 * through this.
 *
 * posix_spawn rather than fork: the callers may already have threads (Paho's), and the child of
 * a threaded process must do nothing but exec. Redirections, a process group of its own and
 * default signal dispositions (a child must see the SIGTERM that asks it to stop, whatever the
 * caller blocked or ignored) are set up by posix_spawn itself. */
#ifndef SB_COMMON_PROC_H
#define SB_COMMON_PROC_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "common/err.h"

/* Where one of the child's standard streams goes. */
typedef enum sb_proc_io {
    SB_IO_INHERIT = 0, /* the caller's */
    SB_IO_NULL,        /* /dev/null */
    SB_IO_TRUNCATE,    /* path, created or emptied */
    SB_IO_APPEND,      /* path, created or appended to */
    SB_IO_PIPE,        /* stdout only: read back by sb_proc_wait */
} sb_proc_io;

typedef struct sb_proc_spec {
    const char *path;  /* the program; NULL: argv[0], searched in PATH */
    char *const *argv;
    const char *extra_env; /* "NAME=value" added to this process's environment, or NULL */
    sb_proc_io in, out, err;
    const char *out_path, *err_path;
    int new_group;     /* a process group of its own: a stop reaches what it started too */
} sb_proc_spec;

typedef struct sb_proc {
    pid_t pid;
    int group;          /* signals go to the process group */
    int out_fd;         /* SB_IO_PIPE: the read end; -1 otherwise */
    int done;
    int status;         /* as wait4 gives it */
    struct rusage ru;   /* the child's, once done */
} sb_proc;

/* Start the program. SB_ERR_IO with err for a program that cannot be started (ENOENT: not
 * found, said as such). Under qemu-user, whose emulated clone cannot report a failed exec,
 * such a program instead exits 127 at once. */
sb_err sb_proc_spawn(sb_proc *p, const sb_proc_spec *s, char *err, size_t err_len);

/* Has it ended? 1 when done (status and ru set), 0 while it runs. Never blocks. */
int sb_proc_poll(sb_proc *p);

typedef enum sb_proc_end {
    SB_PROC_EXITED,    /* ended by itself */
    SB_PROC_TIMED_OUT, /* the deadline passed: sent term_sig, then SIGKILL after grace */
    SB_PROC_STOPPED,   /* *stop was set: sent stop_sig, then SIGKILL after grace */
} sb_proc_end;

typedef struct sb_proc_wait_opts {
    uint64_t deadline_ns;        /* sb_now_ns() time; 0: none */
    int term_sig;                /* at the deadline (0: SIGTERM) */
    volatile sig_atomic_t *stop; /* NULL: none */
    int stop_sig;                /* when *stop is set (0: SIGINT) */
    double grace_s;              /* from the first signal to SIGKILL */
    char *out;                   /* SB_IO_PIPE: what the child wrote, NUL-terminated; the rest */
    size_t cap;                  /*   is read and dropped so that the child never blocks */
} sb_proc_wait_opts;

/* Wait for the child to end, signalling it as o says; returns how it ended. */
sb_proc_end sb_proc_wait(sb_proc *p, const sb_proc_wait_opts *o);

/* SB_IO_PIPE: read one line the child writes (a "ready" notice, say) into buf, without its
 * newline. 1 when a whole line came; 0 when the child closed its stdout or ended first, or
 * deadline_ns (sb_now_ns() time) passed. What follows the line stays for sb_proc_wait. */
int sb_proc_read_line(sb_proc *p, char *buf, size_t cap, uint64_t deadline_ns);

/* Send sig to the child (to its group with new_group); a no-op once it is done. */
void sb_proc_signal(sb_proc *p, int sig);

#endif
