/* strmap.h -- private: an intrusive hash map keyed by strings (chained, doubling at a
 * load of one). Callers embed acr__strmap_node in their own entries and own them. */
#ifndef ACR_UTIL_STRMAP_H
#define ACR_UTIL_STRMAP_H

#include <stddef.h>

typedef struct acr__strmap_node {
    struct acr__strmap_node *next;
    const char *key;            /* set by the caller; must outlive the node's membership */
} acr__strmap_node;

typedef struct acr__strmap {
    acr__strmap_node **buckets;
    size_t nbuckets, n;
    size_t scan;                /* shift: every bucket before this one is empty */
} acr__strmap;

/* 0 or -ENOMEM. */
int acr__strmap_init(acr__strmap *m);
/* Frees the bucket array; the nodes are the caller's (take them out with shift first). */
void acr__strmap_release(acr__strmap *m);
acr__strmap_node *acr__strmap_get(const acr__strmap *m, const char *key);
/* Adds node (its key not already present). Never fails: if the table cannot grow,
 * chains get longer. */
void acr__strmap_put(acr__strmap *m, acr__strmap_node *node);
/* Removes and returns some node, or NULL when empty: for tearing the map down (the
 * whole teardown is one pass over the buckets, not one pass per node). */
acr__strmap_node *acr__strmap_shift(acr__strmap *m);

#endif
