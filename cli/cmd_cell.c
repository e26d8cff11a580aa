/* `sealbench cell TASK`: one child of an experiment's cell x repetition (experiments/cell.h). */
#include <stdio.h>

#include "cli/cli.h"
#include "experiments/cell.h"

static int run(int argc, char **argv);

const sb_command sb_cmd_cell = {
    .name = "cell",
    .summary = "run one cell of an experiment from its task file (the runner's child)",
    .help =
        "usage: sealbench cell TASK\n\n"
        "What 'sealbench run' starts for every cell x repetition, in a fresh process: TASK is\n"
        "the JSON file the runner wrote (results/<run>/logs/<cell>.r<N>[-gateway].task.json):\n"
        "the role (pair, gateway or device), its settings, and where its report and samples\n"
        "go. Runs the role, writes its report (the JSON 'sealbench pair|gateway|device' print)\n"
        "and samples there, and prints the cells.csv columns it measured as one JSON object\n"
        "{\"columns\": {...}, \"error\": \"...\"} on stdout; a gateway first prints a\n"
        "line 'ready' once it is subscribed, and runs until SIGINT.\n\n"
        "Run by hand, it repeats that measurement, overwriting its report and samples; a run's\n"
        "private broker and keys file end with the run, so point the task's broker and keys at\n"
        "live ones first.\n\n"
        "Exit status: 0 measured in full, 1 the role failed (why on stderr), 2 an unreadable task.\n",
    .run = run,
};

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {0}};
    int c, code = -1;
    while ((c = cli_getopt(&sb_cmd_cell, argc, argv, "", longopts, &code)) != -1)
        if (code >= 0)
            return code;
    if (optind + 1 != argc)
        return cli_usage_error("cell", "expected one task file");
    return sb_cell_child(argv[optind]);
}
