/* heap.c -- binary min-heap of pointers (see heap.h). */
#include <errno.h>
#include <stdlib.h>

#include "heap.h"
#include "util/alloc.h"

void acr__heap_init(acr__heap *h, bool (*less)(const void *, const void *), void (*moved)(void *, size_t))
{
    *h = (acr__heap){.less = less, .moved = moved};
}

void acr__heap_release(acr__heap *h)
{
    free(h->v);
    h->v = NULL;
    h->len = h->cap = 0;
}

static void put(acr__heap *h, size_t i, void *item)
{
    h->v[i] = item;
    if (h->moved)
        h->moved(item, i);
}

static void sift_up(acr__heap *h, size_t i)
{
    void *item = h->v[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!h->less(item, h->v[parent]))
            break;
        put(h, i, h->v[parent]);
        i = parent;
    }
    put(h, i, item);
}

static void sift_down(acr__heap *h, size_t i)
{
    void *item = h->v[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->len)
            break;
        if (c + 1 < h->len && h->less(h->v[c + 1], h->v[c]))
            c++;
        if (!h->less(h->v[c], item))
            break;
        put(h, i, h->v[c]);
        i = c;
    }
    put(h, i, item);
}

int acr__heap_push(acr__heap *h, void *item)
{
    if (h->len == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        void **v = acr_realloc(h->v, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        h->v = v;
        h->cap = cap;
    }
    h->v[h->len++] = item;
    sift_up(h, h->len - 1);
    return 0;
}

void acr__heap_remove(acr__heap *h, size_t idx)
{
    h->len--;
    if (idx == h->len)
        return;
    /* The last item fills the hole: it belongs either above it or below it. */
    put(h, idx, h->v[h->len]);
    if (idx > 0 && h->less(h->v[idx], h->v[(idx - 1) / 2]))
        sift_up(h, idx);
    else
        sift_down(h, idx);
}

void *acr__heap_pop(acr__heap *h)
{
    if (h->len == 0)
        return NULL;
    void *top = h->v[0];
    acr__heap_remove(h, 0);
    return top;
}
