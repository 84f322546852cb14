/* em_check.h -- the check macro shared by the C test programs of csrc/tests.
 *
 * CHECK(cond, fmt, ...) counts a pass, or counts a failure and prints where
 * and why; each program prints "N passed, M failed" from n_pass and n_fail
 * at the end and exits non-zero if M > 0.
 */
#ifndef EM_CHECK_H
#define EM_CHECK_H

#include <stdio.h>

static int n_pass = 0, n_fail = 0;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (cond) {                                                        \
            n_pass++;                                                      \
        } else {                                                           \
            n_fail++;                                                      \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                    \
            printf(__VA_ARGS__);                                           \
            printf("\n");                                                  \
        }                                                                  \
    } while (0)

#endif /* EM_CHECK_H */
