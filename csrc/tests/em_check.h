/* em_check.h -- the check macro shared by the C test programs of csrc/tests.
 *
 * CHECK(cond, fmt, ...) counts a pass, or counts a failure and prints where
 * and why; each program prints "N passed, M failed" from n_pass and n_fail
 * at the end and exits non-zero if M > 0.
 *
 * urand(): splitmix64 uniform deviates in (0, 1), for the programs that
 * define EM_TEST_SEED (their own stream) before including this header.
 */
#ifndef EM_CHECK_H
#define EM_CHECK_H

#include <stdint.h>
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

#ifdef EM_TEST_SEED
static uint64_t rng_state = EM_TEST_SEED;
static double urand(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}
#endif

#endif /* EM_CHECK_H */
