/* A minimal assertion harness for the C test programs.
 *
 * CHECK(cond, fmt, ...) counts one assertion; a failure prints file:line, the condition and a
 * message, and the program goes on so that one run shows every failure. SKIP(fmt, ...) counts a
 * check this machine cannot run (a missing file or tool), printed as "skip: <why>" so that
 * tests/run.sh shows the reason under the final line. check_done() prints "<name>: N passed,
 * N failed[, N skipped]" and returns the exit status; tests/run.sh adds the programs up. */
#ifndef SB_TESTS_CHECK_H
#define SB_TESTS_CHECK_H

#include <stdio.h>

static unsigned check_passed, check_failed, check_skipped;

#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        if (cond) {                                                                        \
            check_passed++;                                                                \
        } else {                                                                           \
            check_failed++;                                                                \
            fprintf(stderr, "%s:%d: FAIL: %s: ", __FILE__, __LINE__, #cond);               \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fputc('\n', stderr);                                                           \
        }                                                                                  \
    } while (0)

#define SKIP(...)                                                                          \
    do {                                                                                   \
        check_skipped++;                                                                   \
        printf("skip: ");                                                                  \
        printf(__VA_ARGS__);                                                               \
        putchar('\n');                                                                     \
    } while (0)

static inline int check_done(const char *name)
{
    if (check_skipped)
        printf("%s: %u passed, %u failed, %u skipped\n", name, check_passed, check_failed,
               check_skipped);
    else
        printf("%s: %u passed, %u failed\n", name, check_passed, check_failed);
    return check_failed ? 1 : 0;
}

#endif
