/* heap.h -- private: a binary min-heap of pointers, ordered by the caller's less().
 * An optional moved() hook learns each item's index, so items can be removed from
 * the middle (the loop's timers). Used by the scheduler and by --ordered output. */
#ifndef ACR_UTIL_HEAP_H
#define ACR_UTIL_HEAP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct acr__heap {
    void **v;
    size_t len, cap;
    bool (*less)(const void *a, const void *b);
    void (*moved)(void *item, size_t idx);  /* may be NULL */
} acr__heap;

/* Sets up an empty heap; allocates nothing. */
void acr__heap_init(acr__heap *h, bool (*less)(const void *, const void *), void (*moved)(void *, size_t));
/* Frees the array; the items are the caller's. */
void acr__heap_release(acr__heap *h);
/* 0 or -ENOMEM (the heap is unchanged). */
int acr__heap_push(acr__heap *h, void *item);
/* The least item, or NULL when empty. */
static inline void *acr__heap_top(const acr__heap *h) { return h->len ? h->v[0] : NULL; }
/* Removes and returns the least item, or NULL when empty. */
void *acr__heap_pop(acr__heap *h);
/* Removes the item at idx (as told by moved()). */
void acr__heap_remove(acr__heap *h, size_t idx);

#endif
