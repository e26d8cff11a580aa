/* sealbench: one binary, many subcommands (like `openssl`). This file is the dispatcher and the
 * shared option handling; each subcommand lives in cli/cmd_*.c. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ciphers/cipher.h"
#include "cli/cli.h"

static const sb_command *const commands[] = {
    &sb_cmd_list,
    &sb_cmd_vectors,
    &sb_cmd_speed,
    &sb_cmd_micro,
    &sb_cmd_broker,
    &sb_cmd_keys,
    &sb_cmd_gateway,
    &sb_cmd_device,
    &sb_cmd_pair,
    &sb_cmd_run,
    &sb_cmd_cell,
    &sb_cmd_dataset,
    NULL,
};

static volatile sig_atomic_t *stop_flag;

static void on_stop(int sig)
{
    if (stop_flag)
        *stop_flag = sig;
}

void cli_catch_stop(volatile sig_atomic_t *flag)
{
    stop_flag = flag;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "sealbench %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'sealbench %s --help')\n", cmd);
    return 2;
}

const sb_backend *cli_backend_arg(const char *cmd, const char *flag, const char *name, int *code)
{
    const char *why = NULL;
    const sb_backend *be = sb_registry_find(SB_KIND_BACKEND, name, &why);
    if (be)
        return be;
    if (sb_backend_entry_by_name(name))
        *code = cli_usage_error(cmd, "%s: backend '%s' is %s", flag, name, why);
    else
        *code = cli_usage_error(cmd, "%s: unknown backend '%s'", flag, name);
    return NULL;
}

int cli_getopt(const sb_command *cmd, int argc, char **argv, const char *shortopts,
               const struct option *longopts, int *exit_code)
{
    char opts[64];
    /* Leading ':' makes getopt report a missing argument as ':' instead of printing. */
    snprintf(opts, sizeof opts, ":%sh", shortopts);
    opterr = 0;
    int c = getopt_long(argc, argv, opts, longopts, NULL);
    if (c == 'h') {
        fputs(cmd->help, stdout);
        *exit_code = 0;
    } else if (c == '?') {
        const char *bad = argv[optind - 1];
        if (optopt && strncmp(bad, "--", 2) != 0)
            *exit_code = cli_usage_error(cmd->name, "unknown option '-%c'", optopt);
        else
            *exit_code = cli_usage_error(cmd->name, "unknown option '%s'", bad);
    } else if (c == ':') {
        *exit_code = cli_usage_error(cmd->name, "option '%s' needs a value", argv[optind - 1]);
    }
    return c;
}

static void print_help(FILE *out)
{
    fprintf(out, "usage: sealbench COMMAND [OPTIONS]\n\n"
                 "Measures what end-to-end encryption costs MQTT telemetry.\n\n"
                 "Commands:\n");
    for (const sb_command *const *c = commands; *c; c++)
        fprintf(out, "  %-10s %s\n", (*c)->name, (*c)->summary);
    fprintf(out, "  %-10s %s\n", "help", "this text; 'sealbench help COMMAND' for one command");
    fprintf(out, "\nEvery command takes --help.\n");
}

static const sb_command *find(const char *name)
{
    for (const sb_command *const *c = commands; *c; c++)
        if (strcmp((*c)->name, name) == 0)
            return *c;
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        if (argc > 2) {
            const sb_command *c = find(argv[2]);
            if (!c) {
                fprintf(stderr, "sealbench: unknown command '%s' (see 'sealbench help')\n", argv[2]);
                return 2;
            }
            fputs(c->help, stdout);
            return 0;
        }
        print_help(stdout);
        return 0;
    }
    const sb_command *c = find(name);
    if (!c) {
        fprintf(stderr, "sealbench: unknown command '%s' (see 'sealbench help')\n", name);
        return 2;
    }
    /* The subcommand sees itself as argv[0], so getopt's indices start at its first option. */
    return c->run(argc - 1, argv + 1);
}
