/* `sealbench list`: the matrix of backend x suite and backend x group, each ok or unavailable
 * with the reason, and the library versions actually loaded. */
#include <stdio.h>
#include <string.h>

#include "ciphers/cipher.h"
#include "cli/cli.h"

static int run(int argc, char **argv);

const sb_command sb_cmd_list = {
    .name = "list",
    .summary = "show which backend offers which suite and group, and library versions",
    .help = "usage: sealbench list [--csv]\n\n"
            "Prints the library versions found at run time, then every backend x suite and\n"
            "backend x group pair: 'ok', or 'unavailable' and why (a library that lacks an\n"
            "algorithm, or a CPU that lacks the instructions it needs).\n\n"
            "Options:\n"
            "  --csv     one row per pair: kind,backend,name,status,reason\n"
            "  --help    this text\n",
    .run = run,
};

static void csv_field(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    putchar('"');
}

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"csv", no_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'}, {0}};
    int csv = 0, c, code = -1;
    while ((c = cli_getopt(&sb_cmd_list, argc, argv, "", longopts, &code)) != -1) {
        if (code >= 0)
            return code;
        csv = c == 'c' ? 1 : csv;
    }
    if (optind < argc)
        return cli_usage_error("list", "unexpected argument '%s'", argv[optind]);

    if (csv)
        puts("kind,backend,name,status,reason");
    else
        puts("Libraries (versions loaded at run time):");
    for (const sb_backend *const *be = sb_backends; *be; be++) {
        if (csv) {
            printf("library,%s,", (*be)->name);
            csv_field((*be)->library);
            printf(",ok,");
            csv_field((*be)->version());
            putchar('\n');
        } else {
            printf("  %-8s %-10s %s\n", (*be)->name, (*be)->library, (*be)->version());
        }
    }
    for (int kind = 0; kind < 2; kind++) {
        if (!csv)
            printf("\n%-8s %-22s %s\n", "backend", kind ? "group" : "suite", "status");
        for (const sb_backend *const *be = sb_backends; *be; be++) {
            unsigned n = kind ? SB_GROUP_COUNT : SB_SUITE_COUNT;
            for (unsigned id = kind ? 1 : 0; id < n; id++) {
                const char *name, *why = NULL;
                int ok;
                if (kind) {
                    const sb_group *g = sb_group_by_id(id);
                    name = g->name;
                    ok = sb_kex_get(*be, g, &why) != NULL;
                } else {
                    const sb_suite *s = sb_suite_by_id(id);
                    sb_cipher cipher;
                    name = s->name;
                    ok = sb_cipher_get(*be, s, &cipher, &why) == SB_OK;
                }
                if (csv) {
                    printf("%s,%s,%s,%s,", kind ? "group" : "suite", (*be)->name, name,
                           ok ? "ok" : "unavailable");
                    csv_field(ok ? "" : why);
                    putchar('\n');
                } else {
                    printf("%-8s %-22s %s%s%s\n", (*be)->name, name, ok ? "ok" : "unavailable",
                           ok ? "" : ": ", ok ? "" : why);
                }
            }
        }
    }
    return 0;
}
