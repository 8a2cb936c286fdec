/* fuzz.h -- helpers shared by the libFuzzer harnesses: a check that aborts with the
 * broken rule (libFuzzer keeps the input), and split points derived from the input. */
#ifndef ACR_FUZZ_H
#define ACR_FUZZ_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Not assert(): NDEBUG must not turn the harness's invariants off. */
#define FUZZ_CHECK(cond, rule)                                                                 \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "fuzz invariant broken: %s (%s at %s:%d)\n", rule, #cond, __FILE__, \
                    __LINE__);                                                                 \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

/* Harnesses tolerate known, unfixed src/ bugs while fuzzing, so a run can look past
 * them; FUZZ_STRICT=1 (make fuzz-regress) turns the tolerance off, so the reproducers
 * under regressions/ fail until src/ is fixed. */
static inline bool fuzz_strict(void)
{
    static int strict = -1;
    if (strict < 0) {
        const char *e = getenv("FUZZ_STRICT");
        strict = e && !strcmp(e, "1");
    }
    return strict;
}

/* xorshift32: chunk sizes that depend only on the input, so a crash replays. */
static inline uint32_t fuzz_rand(uint32_t *s)
{
    uint32_t x = *s ? *s : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

/* A chunk of 1..max bytes, and never more than left. */
static inline size_t fuzz_chunk(uint32_t *s, size_t max, size_t left)
{
    size_t n = 1 + fuzz_rand(s) % max;
    return n < left ? n : left;
}

#endif
