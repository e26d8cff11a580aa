/* The sealbench command table and the conventions every subcommand follows: `CMD --help`
 * prints its help to stdout and exits 0; a usage error prints one line naming the problem and
 * pointing at the help, and exits 2; a failure exits 1. */
#ifndef SB_CLI_CLI_H
#define SB_CLI_CLI_H

#include <getopt.h>
#include <signal.h>

typedef struct sb_command {
    const char *name;
    const char *summary;
    const char *help; /* full text for `sealbench CMD --help` */
    int (*run)(int argc, char **argv);
} sb_command;

extern const sb_command sb_cmd_list, sb_cmd_vectors, sb_cmd_speed, sb_cmd_broker, sb_cmd_keys,
    sb_cmd_gateway, sb_cmd_device, sb_cmd_pair, sb_cmd_dataset,
    sb_cmd_dataset_inspect, sb_cmd_micro, sb_cmd_run, sb_cmd_cell;

/* Print "sealbench CMD: <message> (see 'sealbench CMD --help')" to stderr; returns 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The built backend called name; NULL after a usage error naming flag (*code: its exit
 * status) for an unknown name or a backend left out of this build, said as such. */
const struct sb_backend *cli_backend_arg(const char *cmd, const char *flag, const char *name,
                                         int *code);

/* getopt_long with the conventions above. Returns the option, or -1 at the end; on --help
 * prints help and sets *exit_code to 0; on an unknown or malformed option prints the one-line
 * error and sets *exit_code to 2. Either way the caller returns *exit_code when it is >= 0. */
int cli_getopt(const sb_command *cmd, int argc, char **argv, const char *shortopts,
               const struct option *longopts, int *exit_code);

/* Set SIGINT/SIGTERM/SIGHUP to set *flag, without SA_RESTART: the command's library call polls
 * the flag and ends with what it measured. */
void cli_catch_stop(volatile sig_atomic_t *flag);

#endif
