/* test_fpset.c -- util/fpset: membership across growth, the zero fingerprint, the hash. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"
#include "util/fpset.h"

Test(fpset, members_stay_members_across_growth)
{
    acr__fpset s;
    acr__fpset_init(&s);
    cr_assert_not(acr__fpset_has(&s, 7));
    for (uint64_t i = 0; i < 100000; i++)
        cr_assert_eq(acr__fpset_add(&s, i * 0x9e3779b97f4a7c15ull), 1);
    for (uint64_t i = 0; i < 100000; i++) {
        cr_assert(acr__fpset_has(&s, i * 0x9e3779b97f4a7c15ull));
        cr_assert_eq(acr__fpset_add(&s, i * 0x9e3779b97f4a7c15ull), 0);
    }
    cr_assert_eq(acr__fpset_len(&s), 100000);
    cr_assert_leq(s.cap * 8, 24 * acr__fpset_len(&s), "at most 24 bytes a member");
    acr__fpset_release(&s);
}

Test(fpset, zero_is_a_fingerprint_like_any_other)
{
    acr__fpset s;
    acr__fpset_init(&s);
    cr_assert_eq(acr__fpset_add(&s, 0), 1);
    cr_assert(acr__fpset_has(&s, 0));
    cr_assert_eq(acr__fpset_add(&s, 0), 0);
    acr__fpset_release(&s);
}

Test(fpset, hash_spreads_similar_urls)
{
    acr__fpset low; /* distinct low 16 bits across 10 000 near-identical URLs */
    acr__fpset_init(&low);
    char url[64];
    for (int i = 0; i < 10000; i++) {
        snprintf(url, sizeof url, "http://example.test/page/%d", i);
        acr__fpset_add(&low, acr__hash64(url, strlen(url)) & 0xffff);
    }
    cr_assert_gt(acr__fpset_len(&low), 8500, "only %zu distinct low-16-bit values", acr__fpset_len(&low));
    cr_assert_neq(acr__hash64("a", 1), acr__hash64("b", 1));
    /* every length of the tail, and a trailing NUL, count */
    const char u[] = "http://example.test/abcdefghijklmnopq";
    for (size_t n = 1; n < sizeof u - 1; n++)
        cr_assert_neq(acr__hash64(u, n), acr__hash64(u, n + 1), "length %zu", n);
    cr_assert_neq(acr__hash64("ab", 2), acr__hash64("ab\0", 3));
    acr__fpset_release(&low);
}

Test(fpset, reserve_sizes_the_table_once_and_keeps_members)
{
    acr__fpset s;
    acr__fpset_init(&s);
    cr_assert_eq(acr__fpset_add(&s, 42), 1);
    cr_assert_eq(acr__fpset_reserve(&s, 100000), 0);
    size_t cap = s.cap;
    cr_assert_geq(cap * 3, (size_t)100000 * 4, "three quarters full at most with 100 000 members");
    cr_assert(acr__fpset_has(&s, 42));
    for (uint64_t i = 1; i < 100000; i++)
        cr_assert_eq(acr__fpset_add(&s, i * 0x9e3779b97f4a7c15ull + 1), 1);
    cr_assert_eq(s.cap, cap, "no growth after the reserve");
    cr_assert_eq(acr__fpset_reserve(&s, (size_t)-1), -ENOMEM);
    cr_assert_eq(s.cap, cap);
    acr__fpset_release(&s);
}
