/* test_strmap.c -- the string-keyed map under the DNS cache and the connection pool. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "runtime/list.h"
#include "util/strmap.h"

struct item {
    acr__strmap_node node;
    char key[48];
    int value;
};

Test(strmap, put_get_across_growth_then_shift_everything)
{
    enum { N = 5000 };
    acr__strmap m;
    cr_assert_eq(acr__strmap_init(&m), 0);
    struct item *items = calloc(N, sizeof *items);
    for (int i = 0; i < N; i++) {
        snprintf(items[i].key, sizeof items[i].key, "https://host-%d.test:443", i);
        items[i].node.key = items[i].key;
        items[i].value = i;
        acr__strmap_put(&m, &items[i].node);
    }
    cr_assert_eq(m.n, N);
    cr_assert_geq(m.nbuckets, N, "grew with the load");
    for (int i = 0; i < N; i++) {
        char key[48];
        snprintf(key, sizeof key, "https://host-%d.test:443", i);
        acr__strmap_node *n = acr__strmap_get(&m, key);
        cr_assert_not_null(n, "%s", key);
        cr_assert_eq(acr__container_of(n, struct item, node)->value, i);
    }
    cr_assert_null(acr__strmap_get(&m, "https://host-5000.test:443"));
    int seen = 0;
    while (acr__strmap_shift(&m))
        seen++;
    cr_assert_eq(seen, N);
    cr_assert_eq(m.n, 0);
    acr__strmap_release(&m);
    free(items);
}
