/* pool.c -- keep-alive pool: a hash of origins, each with a LIFO list of idle
 * connections (the most recently used is the least likely to have been closed). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acrawl/loop.h"
#include "pool.h"
#include "runtime/list.h"
#include "util/alloc.h"

int acr_pool_init(acr_pool *p, unsigned max_idle, unsigned per_origin, int64_t idle_timeout)
{
    memset(p, 0, sizeof *p);
    p->max_idle = max_idle;
    p->per_origin = per_origin;
    p->idle_timeout = idle_timeout;
    return acr__strmap_init(&p->origins);
}

void acr_conn_close(acr_conn *c)
{
    acr_stream_close(&c->s);
    free(c);
}

void acr_pool_release(acr_pool *p)
{
    for (acr__strmap_node *n = acr__strmap_shift(&p->origins); n; n = acr__strmap_shift(&p->origins)) {
        acr_origin *o = acr__container_of(n, acr_origin, node);
        while (o->idle) {
            acr_conn *c = o->idle;
            o->idle = c->next;
            acr_conn_close(c);
        }
        acr_tls_session_release(&o->tls);
        acr_sem_free(o->cap);
        free(o->key);
        free(o);
    }
    acr__strmap_release(&p->origins);
    memset(p, 0, sizeof *p);
}

acr_origin *acr_pool_origin(acr_pool *p, const char *key)
{
    acr__strmap_node *n = acr__strmap_get(&p->origins, key);
    if (n)
        return acr__container_of(n, acr_origin, node);
    acr_origin *o = acr_calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->key = acr_strdup(key);
    if (p->per_origin)
        o->cap = acr_sem_new(p->per_origin);
    if (!o->key || (p->per_origin && !o->cap)) {
        free(o->key);
        acr_sem_free(o->cap);
        free(o);
        return NULL;
    }
    o->node.key = o->key;
    acr__strmap_put(&p->origins, &o->node);
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
