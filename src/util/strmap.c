/* strmap.c -- the string-keyed hash map behind the DNS cache and the connection pool. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"
#include "util/alloc.h"

static size_t hash(const char *s)
{
    size_t h = 5381; /* djb2 */
    while (*s)
        h = h * 33 + (unsigned char)*s++;
    return h;
}

int acr__strmap_init(acr__strmap *m)
{
    m->n = 0;
    m->scan = 0;
    m->nbuckets = 64;
    m->buckets = acr_calloc(m->nbuckets, sizeof *m->buckets);
    return m->buckets ? 0 : -ENOMEM;
}

void acr__strmap_release(acr__strmap *m)
{
    free(m->buckets);
    memset(m, 0, sizeof *m);
}

acr__strmap_node *acr__strmap_get(const acr__strmap *m, const char *key)
{
    for (acr__strmap_node *n = m->buckets[hash(key) % m->nbuckets]; n; n = n->next) {
        if (!strcmp(n->key, key))
            return n;
    }
    return NULL;
}

static void grow(acr__strmap *m)
{
    size_t nb = m->nbuckets * 2;
    acr__strmap_node **b = acr_calloc(nb, sizeof *b);
    if (!b)
        return; /* longer chains, still correct */
    for (size_t i = 0; i < m->nbuckets; i++) {
        for (acr__strmap_node *n = m->buckets[i], *next; n; n = next) {
            next = n->next;
            size_t h = hash(n->key) % nb;
            n->next = b[h];
            b[h] = n;
        }
    }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = nb;
    m->scan = 0;
}

void acr__strmap_put(acr__strmap *m, acr__strmap_node *node)
{
    if (m->n >= m->nbuckets)
        grow(m);
    size_t h = hash(node->key) % m->nbuckets;
    node->next = m->buckets[h];
    m->buckets[h] = node;
    m->n++;
    if (h < m->scan)
        m->scan = h;
}

/* Scanning from bucket 0 each time made a teardown of n nodes cost n times the
 * bucket count: minutes at exit for a crawl of a few hundred thousand hosts. */
acr__strmap_node *acr__strmap_shift(acr__strmap *m)
{
    for (size_t i = m->scan; i < m->nbuckets; i++) {
        acr__strmap_node *n = m->buckets[i];
        if (n) {
            m->buckets[i] = n->next;
            m->n--;
            m->scan = i;
            return n;
        }
    }
    m->scan = 0;
    return NULL;
}
