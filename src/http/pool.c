/* pool.c -- keep-alive pool: a hash of origins, each with a LIFO list of idle
 * connections (the most recently used is the least likely to have been closed). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acrawl/loop.h"
#include "pool.h"

static unsigned long hash(const char *s)
{
    unsigned long h = 5381;
    while (*s)
        h = h * 33 + (unsigned char)*s++;
    return h;
}

int acr_pool_init(acr_pool *p, unsigned max_idle, unsigned per_origin, int64_t idle_timeout)
{
    memset(p, 0, sizeof *p);
    p->nbuckets = 64;
    p->buckets = calloc(p->nbuckets, sizeof *p->buckets);
    p->max_idle = max_idle;
    p->per_origin = per_origin;
    p->idle_timeout = idle_timeout;
    return p->buckets ? 0 : -ENOMEM;
}

void acr_conn_close(acr_conn *c)
{
    acr_stream_close(&c->s);
    free(c);
}

void acr_pool_release(acr_pool *p)
{
    for (size_t i = 0; i < p->nbuckets; i++) {
        acr_origin *o = p->buckets[i];
        while (o) {
            acr_origin *next = o->next;
            while (o->idle) {
                acr_conn *c = o->idle;
                o->idle = c->next;
                acr_conn_close(c);
            }
            acr_tls_session_release(&o->tls);
            acr_sem_free(o->cap);
            free(o->key);
            free(o);
            o = next;
        }
    }
    free(p->buckets);
    memset(p, 0, sizeof *p);
}

static void grow(acr_pool *p)
{
    size_t nb = p->nbuckets * 2;
    acr_origin **b = calloc(nb, sizeof *b);
    if (!b)
        return;
    for (size_t i = 0; i < p->nbuckets; i++) {
        for (acr_origin *o = p->buckets[i], *next; o; o = next) {
            next = o->next;
            size_t h = hash(o->key) % nb;
            o->next = b[h];
            b[h] = o;
        }
    }
    free(p->buckets);
    p->buckets = b;
    p->nbuckets = nb;
}

acr_origin *acr_pool_origin(acr_pool *p, const char *key)
{
    for (acr_origin *o = p->buckets[hash(key) % p->nbuckets]; o; o = o->next) {
        if (!strcmp(o->key, key))
            return o;
    }
    if (p->norigins >= p->nbuckets)
        grow(p);
    acr_origin *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->key = strdup(key);
    if (p->per_origin)
        o->cap = acr_sem_new(p->per_origin);
    if (!o->key || (p->per_origin && !o->cap)) {
        free(o->key);
        acr_sem_free(o->cap);
        free(o);
        return NULL;
    }
    size_t h = hash(key) % p->nbuckets;
    o->next = p->buckets[h];
    p->buckets[h] = o;
    p->norigins++;
    return o;
}

acr_conn *acr_pool_take(acr_pool *p, acr_origin *o)
{
    int64_t now = acr_now();
    while (o->idle) {
        acr_conn *c = o->idle;
        o->idle = c->next;
        o->nidle--;
        c->next = NULL;
        if (now - c->idle_since < p->idle_timeout && !acr_stream_dead(&c->s))
            return c;
        acr_conn_close(c);
    }
    return NULL;
}

void acr_pool_put(acr_pool *p, acr_conn *c)
{
    acr_origin *o = c->origin;
    if (o->nidle >= p->max_idle) {
        acr_conn_close(c);
        return;
    }
    c->idle_since = acr_now();
    c->next = o->idle;
    o->idle = c;
    o->nidle++;
}
