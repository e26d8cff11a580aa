/* `sealbench list`: the matrix of backend x suite and backend x group, each ok or unavailable
 * with the reason, and the library versions actually loaded. */
#include <stdio.h>
#include <string.h>

#include "ciphers/cipher.h"
#include "cli/cli.h"
#include "experiments/offer.h"

static int run(int argc, char **argv);

const sb_command sb_cmd_list = {
    .name = "list",
    .summary = "show which backend offers which suite and group, and library versions",
    .help = "usage: sealbench list [--csv]\n\n"
            "Prints every backend of ciphers/backends.txt with the library version found at\n"
            "run time, or 'unavailable' when the backend was left out of this build (make\n"
            "BACKENDS=...), then every backend x suite and backend x group pair: 'ok', or\n"
            "'unavailable' and why (a backend not built, a library that lacks an algorithm\n"
            "or whose OpenSSL fetch of it failed, a CPU that lacks the instructions it needs).\n\n"
            "Options:\n"
            "  --csv     one row per library and per pair:\n"
            "            kind,backend,name,status,reason,wire_id,key_bytes,mac_key_bytes,\n"
            "            nonce_bytes,tag_bytes,header_bytes,overhead_bytes,pub_bytes\n"
            "            kind is library, suite or group; status ok or unavailable; reason\n"
            "            says why not (for a library that is ok: its version). Suite rows give\n"
            "            the suite's wire id and sizes in bytes (overhead = header + tag, the\n"
            "            unpadded bytes a sealed message adds, PROTOCOL.md); group rows the\n"
            "            group's wire id and public key bytes; the rest is empty.\n"
            "  --help    this text\n",
    .run = run,
};

static void text_row(const sb_offer_row *row, void *ctx)
{
    const char **kind = ctx;
    if (!row->suite && !row->group) {
        printf("  %-8s %-10s %s%s\n", row->backend->name, row->name, row->ok ? "" : "unavailable: ",
               row->reason);
        return;
    }
    if (strcmp(*kind, row->kind) != 0) {
        *kind = row->kind;
        printf("\n%-8s %-22s %s\n", "backend", row->kind, "status");
    }
    printf("%-8s %-22s %s%s%s\n", row->backend->name, row->name, row->ok ? "ok" : "unavailable",
           row->ok ? "" : ": ", row->ok ? "" : row->reason);
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
        return sb_offer_write_csv(stdout) == 0 ? 0 : 1;
    const char *kind = "library";
    printf("Libraries (versions loaded at run time; this binary has: %s):\n", sb_backends_built);
    sb_offer_each(text_row, &kind);
    return 0;
}
