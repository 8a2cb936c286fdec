/* test_heap.c -- util/heap: order, equal keys, removal from the middle via the index hook. */
#include <stdlib.h>

#include "helpers.h"
#include "util/heap.h"

struct item {
    int key;
    size_t idx;
};

static bool less(const void *a, const void *b) { return ((const struct item *)a)->key < ((const struct item *)b)->key; }
static void moved(void *it, size_t idx) { ((struct item *)it)->idx = idx; }

Test(heap, pops_in_order_and_removes_from_the_middle)
{
    enum { N = 1000 };
    static struct item items[N];
    acr__heap h;
    acr__heap_init(&h, less, moved);
    srand(42);
    for (int i = 0; i < N; i++) {
        items[i].key = rand() % 500; /* many equal keys */
        cr_assert_eq(acr__heap_push(&h, &items[i]), 0);
    }
    /* Remove every third item wherever it sits; the hook says where. */
    size_t left = N;
    for (int i = 0; i < N; i += 3) {
        cr_assert_eq(h.v[items[i].idx], &items[i], "index hook out of date for item %d", i);
        acr__heap_remove(&h, items[i].idx);
        items[i].key = -1;
        left--;
    }
    int last = -1;
    size_t popped = 0;
    for (struct item *it = acr__heap_pop(&h); it; it = acr__heap_pop(&h)) {
        cr_assert_neq(it->key, -1, "a removed item came out");
        cr_assert_geq(it->key, last, "out of order: %d after %d", it->key, last);
        last = it->key;
        popped++;
    }
    cr_assert_eq(popped, left);
    cr_assert_null(acr__heap_top(&h));
    acr__heap_release(&h);
}
