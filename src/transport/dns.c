/* dns.c -- c-ares on the runtime: its sockets sit in the loop's epoll (socket-state
 * callback), a pump task drives ares_process_fd under ares_timeout, and waiters park
 * on the cache entry of the name they want. Callbacks only set fields and wake tasks. */
#include <arpa/inet.h>
#include <ares.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acrawl/error.h"
#include "acrawl/sync.h"
#include "acrawl/task.h"
#include "dns.h"
#include "runtime/check.h"
#include "runtime/list.h"
#include "util/alloc.h"
#include "util/strmap.h"

#define NEG_TTL (5 * ACR_SEC)      /* failures are remembered this long */
#define MIN_TTL (1 * ACR_SEC)
#define HOSTS_TTL (60 * ACR_SEC)   /* /etc/hosts answers carry no TTL */
#define MAX_SOCKS 16

/* A cache entry outlives every query and waiter that points at it: c-ares holds
 * it as the callback argument of a pending query until the callback runs (from
 * ares_process_fd, or with ARES_EDESTRUCTION from ares_destroy), and entries are
 * freed only after ares_destroy in acr_dns_free. Waiters park on `ready`, never
 * hand c-ares anything of their own: a waiter that times out or is cancelled just
 * leaves, and the query goes on to fill the cache. */
struct entry {
    acr__strmap_node node;      /* keyed by host */
    struct acr_dns *dns;
    char *host;
    bool pending;
    int64_t expires;
    int status;                 /* 0 or ACR_EDNS */
    char msg[96];
    acr_addrs addrs;            /* port 0 */
    acr_cond *ready;
};

struct override {
    char *host;
    uint16_t port;
    acr_addrs addrs;
    struct override *next;
};

struct sock {
    ares_socket_t fd;
    acr_io *io;
};

struct acr_dns {
    ares_channel ch;
    acr__strmap cache;          /* struct entry by host name */
    struct override *overrides;
    struct sock socks[MAX_SOCKS];
    size_t nsocks;
    size_t inflight;            /* queries c-ares is working on */
    acr_task *pump;             /* alive while set; see pump_main */
    size_t lookups;
    int sock_error;
};

/* ---- c-ares callbacks: set fields, wake tasks ---- */

static void sock_state_cb(void *data, ares_socket_t fd, int readable, int writable)
{
    acr_dns *d = data;
    size_t i = 0;
    while (i < d->nsocks && d->socks[i].fd != fd)
        i++;
    if (!readable && !writable) {
        if (i < d->nsocks) {
            acr_io_detach(d->socks[i].io); /* c-ares closes the fd itself */
            d->socks[i] = d->socks[--d->nsocks];
        }
        return;
    }
    if (i < d->nsocks)
        return; /* registered once; the edge-triggered registration covers both ways */
    if (d->nsocks == MAX_SOCKS || acr_io_open(&d->socks[i].io, fd) != 0) {
        d->sock_error = 1;
        return;
    }
    d->socks[i].fd = fd;
    d->nsocks++;
    if (d->pump)
        acr_io_set_watcher(d->socks[i].io, d->pump);
}

static int64_t ttl_of(const struct ares_addrinfo *ai)
{
    int ttl = -1;
    for (const struct ares_addrinfo_node *n = ai->nodes; n; n = n->ai_next) {
        if (ttl < 0 || n->ai_ttl < ttl)
            ttl = n->ai_ttl;
    }
    if (ttl <= 0)
        return HOSTS_TTL;
    int64_t t = (int64_t)ttl * ACR_SEC;
    return t < MIN_TTL ? MIN_TTL : t;
}

/* RFC 8305 §4: alternate families, starting with the first one listed. */
static void interleave(acr_addrs *out, const struct ares_addrinfo *ai)
{
    const struct ares_addrinfo_node *v6[ACR_MAX_ADDRS], *v4[ACR_MAX_ADDRS];
    size_t n6 = 0, n4 = 0;
    int first = 0;
    for (const struct ares_addrinfo_node *n = ai->nodes; n; n = n->ai_next) {
        if (!first)
            first = n->ai_family;
        if (n->ai_family == AF_INET6 && n6 < ACR_MAX_ADDRS)
            v6[n6++] = n;
        else if (n->ai_family == AF_INET && n4 < ACR_MAX_ADDRS)
            v4[n4++] = n;
    }
    size_t i6 = 0, i4 = 0;
    out->n = 0;
    bool six = first == AF_INET6;
    while (out->n < ACR_MAX_ADDRS && (i6 < n6 || i4 < n4)) {
        const struct ares_addrinfo_node *n = NULL;
        if (six && i6 < n6)
            n = v6[i6++];
        else if (!six && i4 < n4)
            n = v4[i4++];
        else
            n = i6 < n6 ? v6[i6++] : v4[i4++];
        memset(&out->a[out->n], 0, sizeof out->a[0]);
        if (n->ai_addrlen > sizeof out->a[0])
            continue;
        memcpy(&out->a[out->n], n->ai_addr, n->ai_addrlen);
        out->n++;
        six = !six;
    }
}

static void addrinfo_cb(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
    (void)timeouts;
    struct entry *e = arg;
    e->dns->inflight--;
    e->pending = false;
    if (status == ARES_SUCCESS && res && res->nodes) {
        interleave(&e->addrs, res);
        e->status = 0;
        e->expires = acr_deadline_in(ttl_of(res));
    } else {
        e->status = ACR_EDNS;
        snprintf(e->msg, sizeof e->msg, "%s: %s", e->host,
                 status == ARES_SUCCESS ? "no addresses" : ares_strerror(status));
        e->expires = acr_deadline_in(NEG_TTL);
    }
    if (res)
        ares_freeaddrinfo(res);
    acr_cond_broadcast(e->ready);
}

/* ---- the pump ---- */

static void set_watchers(acr_dns *d, acr_task *t)
{
    for (size_t i = 0; i < d->nsocks; i++)
        acr_io_set_watcher(d->socks[i].io, t);
}

/* The pump runs while queries are in flight and clears d->pump when it ends.
 * acr_dns_free cancels a pump still alive and frees d at once; the cancelled pump
 * then returns without touching d. So d is only read after a sleep that was not
 * cancelled, and the cancel is the pump's only news that d is gone. */
static int pump_main(void *arg)
{
    acr_dns *d = arg;
    while (d->inflight > 0) {
        struct timeval tv, *tvp = ares_timeout(d->ch, NULL, &tv);
        int64_t dl = tvp ? acr_deadline_in((int64_t)tv.tv_sec * ACR_SEC + (int64_t)tv.tv_usec * 1000) : ACR_FOREVER;
        /* Woken by any event on a c-ares socket (we are their watcher), or at the
         * c-ares timeout; either way let c-ares look at everything. */
        int rc = acr_sleep_until(dl);
        /* A pump already woken by an event when it was cancelled sleeps "0". */
        if (rc == ACR_ECANCELED || acr_cancelled())
            return 0; /* d may be freed: see above */
        for (size_t i = 0; i < d->nsocks; i++) {
            ares_socket_t fd = d->socks[i].fd;
            ares_process_fd(d->ch, fd, fd);
        }
        ares_process_fd(d->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    }
    set_watchers(d, NULL);
    d->pump = NULL;
    return 0;
}

static int ensure_pump(acr_dns *d)
{
    if (d->pump)
        return 0;
    int rc = acr_spawn(NULL, &d->pump, pump_main, d);
    if (rc != 0)
        return rc;
    acr_task_set_name(d->pump, "dns-pump");
    acr_task_unref(d->pump); /* detached: it clears d->pump when it ends */
    set_watchers(d, d->pump);
    return 0;
}

/* ---- cache ---- */

static struct entry *lookup(acr_dns *d, const char *host)
{
    acr__strmap_node *n = acr__strmap_get(&d->cache, host);
    return n ? acr__container_of(n, struct entry, node) : NULL;
}

static struct entry *insert(acr_dns *d, const char *host)
{
    struct entry *e = acr_calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->dns = d;
    e->host = acr_strdup(host);
    e->ready = acr_cond_new();
    if (!e->host || !e->ready) {
        free(e->host);
        acr_cond_free(e->ready);
        free(e);
        return NULL;
    }
    e->node.key = e->host;
    acr__strmap_put(&d->cache, &e->node);
    return e;
}

static void copy_with_port(acr_addrs *out, const acr_addrs *in, uint16_t port)
{
    *out = *in;
    for (size_t i = 0; i < out->n; i++) {
        if (out->a[i].sa.sa_family == AF_INET6)
            out->a[i].in6.sin6_port = htons(port);
        else
            out->a[i].in.sin_port = htons(port);
    }
}

static bool parse_ip(const char *s, acr_sockaddr *ss)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *s4 = &ss->in;
    struct sockaddr_in6 *s6 = &ss->in6;
    if (inet_pton(AF_INET, s, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, s, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        return true;
    }
    return false;
}

static int start_query(acr_dns *d, struct entry *e)
{
    int rc = ensure_pump(d);
    if (rc != 0)
        return rc;
    e->pending = true;
    e->status = 0;
    d->inflight++;
    d->lookups++;
    struct ares_addrinfo_hints hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    ares_getaddrinfo(d->ch, e->host, NULL, &hints, addrinfo_cb, e);
    return 0;
}

int acr_dns_resolve(acr_dns *d, const char *host, uint16_t port, int64_t deadline, acr_addrs *out,
                    char *err, size_t errlen)
{
    acr_sockaddr ss;
    if (parse_ip(host, &ss)) {
        acr_addrs one = {.n = 1};
        one.a[0] = ss;
        copy_with_port(out, &one, port);
        return 0;
    }
    for (struct override *o = d->overrides; o; o = o->next) {
        if (o->port == port && !strcasecmp(o->host, host)) {
            copy_with_port(out, &o->addrs, port);
            return 0;
        }
    }
    struct entry *e = lookup(d, host);
    if (!e) {
        e = insert(d, host);
        if (!e)
            return -ENOMEM;
    }
    if (!e->pending && acr_now() >= e->expires) {
        int rc = start_query(d, e);
        if (rc != 0)
            return rc;
    }
    while (e->pending) {
        int rc = acr_cond_wait(e->ready, deadline);
        if (rc == ACR_ETIMEOUT)
            snprintf(err, errlen, "DNS lookup of %s timed out", host);
        if (rc != 0)
            return rc; /* the query goes on and fills the cache */
    }
    if (e->status != 0) {
        snprintf(err, errlen, "%s", e->msg);
        return e->status;
    }
    copy_with_port(out, &e->addrs, port);
    return 0;
}

/* ---- setup ---- */

int acr_dns_add_override(acr_dns *d, const char *spec, char *err, size_t errlen)
{
    const char *c1 = strchr(spec, ':');
    const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c1 || !c2 || c1 == spec) {
        snprintf(err, errlen, "resolve override '%s': wants host:port:addr[,addr...]", spec);
        return -EINVAL;
    }
    struct override *o = acr_calloc(1, sizeof *o);
    if (!o)
        return -ENOMEM;
    o->host = acr_strndup(spec, (size_t)(c1 - spec));
    long port = strtol(c1 + 1, NULL, 10);
    o->port = (uint16_t)port;
    const char *p = c2 + 1;
    while (*p && o->addrs.n < ACR_MAX_ADDRS) {
        size_t n = strcspn(p, ",");
        char ip[INET6_ADDRSTRLEN + 2] = "";
        const char *a = p;
        size_t an = n;
        if (an >= 2 && a[0] == '[' && a[an - 1] == ']') {
            a++;
            an -= 2;
        }
        if (an < sizeof ip) {
            memcpy(ip, a, an);
            ip[an] = 0;
        }
        if (!parse_ip(ip, &o->addrs.a[o->addrs.n])) {
            snprintf(err, errlen, "resolve override '%s': bad address '%.*s'", spec, (int)n, p);
            free(o->host);
            free(o);
            return -EINVAL;
        }
        o->addrs.n++;
        p += n;
        if (*p == ',')
            p++;
    }
    if (port < 1 || port > 65535 || o->addrs.n == 0 || !o->host) {
        snprintf(err, errlen, "resolve override '%s': wants host:port:addr[,addr...]", spec);
        free(o->host);
        free(o);
        return -EINVAL;
    }
    o->next = d->overrides;
    d->overrides = o;
    return 0;
}

int acr_dns_new(acr_dns **out, const char *servers, char *err, size_t errlen)
{
    static bool lib_ready;
    if (!lib_ready && ares_library_init(ARES_LIB_INIT_ALL) == ARES_SUCCESS)
        lib_ready = true;
    acr_dns *d = acr_calloc(1, sizeof *d);
    if (!d)
        return -ENOMEM;
    int init = acr__strmap_init(&d->cache);
    struct ares_options o = {.sock_state_cb = sock_state_cb, .sock_state_cb_data = d,
                             .timeout = 2000, .tries = 3};
    int arc = init == 0 ? ares_init_options(&d->ch, &o, ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES)
                  : ARES_ENOMEM;
    if (arc == ARES_SUCCESS && servers)
        arc = ares_set_servers_ports_csv(d->ch, servers);
    if (arc != ARES_SUCCESS) {
        if (servers && d->ch)
            snprintf(err, errlen, "DNS servers '%s': %s", servers, ares_strerror(arc));
        else
            snprintf(err, errlen, "c-ares: %s", ares_strerror(arc));
        if (d->ch)
            ares_destroy(d->ch);
        acr__strmap_release(&d->cache);
        free(d);
        return ACR_EDNS;
    }
    *out = d;
    return 0;
}

void acr_dns_free(acr_dns *d)
{
    if (!d)
        return;
    if (d->pump) {
        acr_task_cancel(d->pump); /* it ends without touching d (pump_main) */
        set_watchers(d, NULL);
        d->pump = NULL;
    }
    /* ares_destroy runs pending callbacks with ARES_EDESTRUCTION: entries stay
     * valid until after it. Nobody may still wait on them. */
    ares_destroy(d->ch);
    ACR_ASSERT(d->inflight == 0, "ares_destroy ends every query");
    for (size_t i = 0; i < d->nsocks; i++)
        acr_io_detach(d->socks[i].io);
    for (acr__strmap_node *n = acr__strmap_shift(&d->cache); n; n = acr__strmap_shift(&d->cache)) {
        struct entry *e = acr__container_of(n, struct entry, node);
        free(e->host);
        acr_cond_free(e->ready);
        free(e);
    }
    while (d->overrides) {
        struct override *o = d->overrides;
        d->overrides = o->next;
        free(o->host);
        free(o);
    }
    acr__strmap_release(&d->cache);
    free(d);
}

size_t acr_dns_lookups(const acr_dns *d) { return d->lookups; }

const char *acr_dns_version(void) { return ares_version(NULL); }
