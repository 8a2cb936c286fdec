/* pool.h -- private: keep-alive connections per origin (scheme, host, port), with
 * an optional cap on connections per origin and the origin's TLS session. */
#ifndef ACR_HTTP_POOL_H
#define ACR_HTTP_POOL_H

#include <stdint.h>

#include "acrawl/sync.h"
#include "util/strmap.h"
#include "transport/net.h"
#include "transport/tls.h"

typedef struct acr_origin acr_origin;

typedef struct acr_conn {
    acr_stream s;
    acr_origin *origin;
    int64_t idle_since;
    unsigned served;        /* responses read on it */
    acr_sockaddr peer;      /* asked once per connection (fetch.c), for remote_ip */
    struct acr_conn *next;
} acr_conn;

struct acr_origin {
    acr__strmap_node node;      /* keyed by key */
    char *key;
    acr_conn *idle;         /* most recently used first */
    unsigned nidle;
    acr_sem *cap;           /* NULL: no per-origin cap */
    acr_tls_session_slot tls;
};

typedef struct acr_pool {
    acr__strmap origins;        /* acr_origin by "scheme://host:port" */
    unsigned max_idle;
    unsigned per_origin;
    int64_t idle_timeout;
} acr_pool;

int acr_pool_init(acr_pool *p, unsigned max_idle, unsigned per_origin, int64_t idle_timeout);
void acr_pool_release(acr_pool *p);
/* The origin for key, created on first use; NULL on -ENOMEM. */
acr_origin *acr_pool_origin(acr_pool *p, const char *key);
/* An idle live connection of o, or NULL. Dead and expired ones are closed on the way. */
acr_conn *acr_pool_take(acr_pool *p, acr_origin *o);
/* Returns a connection for reuse (or closes it when the origin has enough). */
void acr_pool_put(acr_pool *p, acr_conn *c);
void acr_conn_close(acr_conn *c);

#endif
