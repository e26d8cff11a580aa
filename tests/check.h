/* A minimal assertion harness for the C test programs.
 *
 * CHECK(cond, fmt, ...) counts one assertion; a failure prints file:line, the condition and a
 * message, and the program goes on so that one run shows every failure. check_done() prints
 * "<name>: N passed, N failed" and returns the exit status; tests/run.sh adds the programs up. */
#ifndef SB_TESTS_CHECK_H
#define SB_TESTS_CHECK_H

#include <stdio.h>

static unsigned check_passed, check_failed;

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

static inline int check_done(const char *name)
{
    printf("%s: %u passed, %u failed\n", name, check_passed, check_failed);
    return check_failed ? 1 : 0;
}

#endif
