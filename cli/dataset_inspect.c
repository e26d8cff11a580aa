/* `sealbench dataset inspect`: what a dataset holds and what its payloads will weigh, before
 * anyone replays it (datasets/inspect.c does the pass; this file prints it). */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "datasets/dataset.h"
#include "datasets/inspect.h"

static int run(int argc, char **argv);

const sb_command sb_cmd_dataset_inspect = {
    .name = "dataset inspect",
    .summary = "rows, columns, types, missing values, ranges and payload sizes of a dataset",
    .help =
        "usage: sealbench dataset inspect FILE [--describe DESC] [--json]\n\n"
        "Reads the whole CSV once (memory stays flat) under its description (DESC, or\n"
        "FILE.dataset beside it when that exists; see datasets/README.md) and prints:\n"
        "rows, records and bad rows (counted, not fatal here: the first error is shown),\n"
        "devices, the time column with its format and span, each sent column with its type,\n"
        "present and missing counts and range, the payload bytes per record for each encoding\n"
        "(json, csv, cbor: min, p50, p90, p99, max, mean; exact), and the problems found.\n\n"
        "  --describe DESC   the dataset description to use\n"
        "  --json            one JSON object instead of the table\n"
        "  --help            this text\n",
    .run = run,
};

static double num(json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

static void print_text(json_t *o)
{
    json_t *v;
    printf("file      %s (%.0f bytes, delimiter '%s')\n", json_string_value(json_object_get(o, "file")),
           num(o, "bytes"), json_string_value(json_object_get(o, "delimiter")));
    printf("rows      %.0f: %.0f records, %.0f bad, %.0f blank lines\n", num(o, "rows"),
           num(o, "records"), num(o, "bad_rows"), num(o, "blank_lines"));
    if ((v = json_object_get(o, "device_column")) && json_is_string(v))
        printf("devices   %.0f (column %s)\n", num(o, "devices"), json_string_value(v));
    else
        printf("devices   1 (no device column)\n");
    if ((v = json_object_get(o, "time_column")) && json_is_string(v))
        printf("time      %s, %s, span %.3f s\n", json_string_value(v),
               json_string_value(json_object_get(o, "time_format")), num(o, "span_s"));
    else
        printf("time      none\n");
    printf("\n%-24s %-5s %10s %10s %14s %14s\n", "column", "type", "present", "missing", "min",
           "max");
    size_t i;
    json_array_foreach(json_object_get(o, "columns"), i, v)
    {
        char mn[32] = "", mx[32] = "";
        if (json_object_get(v, "min")) {
            snprintf(mn, sizeof mn, "%.6g", num(v, "min"));
            snprintf(mx, sizeof mx, "%.6g", num(v, "max"));
        }
        printf("%-24s %-5s %10.0f %10.0f %14s %14s\n", json_string_value(json_object_get(v, "name")),
               json_string_value(json_object_get(v, "type")), num(v, "present"),
               num(v, "missing"), mn, mx);
    }
    printf("\n%-8s %6s %6s %6s %6s %6s %8s   (payload bytes per record)\n", "encoding", "min",
           "p50", "p90", "p99", "max", "mean");
    const char *enc;
    json_object_foreach(json_object_get(o, "payload_bytes"), enc, v)
        printf("%-8s %6.0f %6.0f %6.0f %6.0f %6.0f %8.1f\n", enc, num(v, "min"), num(v, "p50"),
               num(v, "p90"), num(v, "p99"), num(v, "max"), num(v, "mean"));
    json_t *p = json_object_get(o, "problems");
    if (!json_array_size(p)) {
        printf("\nproblems: none found\n");
        return;
    }
    printf("\nproblems:\n");
    json_array_foreach(p, i, v) printf("  - %s\n", json_string_value(v));
}

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {{"describe", required_argument, NULL, 'd'},
                                             {"json", no_argument, NULL, 'j'},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
    const char *describe = NULL;
    int as_json = 0, c, code = -1;
    while ((c = cli_getopt(&sb_cmd_dataset_inspect, argc, argv, "", longopts, &code)) != -1) {
        if (code >= 0)
            return code;
        if (c == 'd')
            describe = optarg;
        else if (c == 'j')
            as_json = 1;
    }
    if (optind + 1 != argc)
        return cli_usage_error("dataset inspect", optind >= argc ? "a CSV file is required"
                                                                 : "one CSV file at a time");
    const char *path = argv[optind];
    char err[512], beside[4096];
    sb_dataset_desc d;
    sb_dataset_desc_init(&d);
    if (!describe) {
        sb_dataset_desc_beside(path, beside, sizeof beside);
        describe = beside[0] ? beside : NULL;
    }
    if (describe && sb_dataset_desc_load(&d, describe, err, sizeof err) != SB_OK) {
        fprintf(stderr, "sealbench dataset inspect: %s\n", err);
        return 1;
    }
    json_t *o;
    if (sb_dataset_inspect(path, &d, &o, err, sizeof err) != SB_OK) {
        fprintf(stderr, "sealbench dataset inspect: %s\n", err);
        return 1;
    }
    if (describe)
        json_object_set_new(o, "description", json_string(describe));
    if (as_json) {
        json_dumpf(o, stdout, JSON_COMPACT);
        fputc('\n', stdout);
    } else {
        print_text(o);
    }
    json_decref(o);
    return 0;
}
