/* fetch.c -- one URL to one response record: pool or dns → connect → tls, the
 * request, the response; redirects, the stale-connection retry, timings. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <llhttp.h>
#include <zlib.h>

#include "acrawl/error.h"
#include "acrawl/http.h"
#include "acrawl/url.h"
#include "http1.h"
#include "pool.h"
#include "transport/dns.h"
#include "transport/tls.h"
#include "util/alloc.h"

struct acr_client {
    acr_client_opts o;
    int tls_rc;             /* context set-up result, once tried */
    char tls_err[200];
    char ua[64];
    acr_dns *dns;
    acr_tls_ctx *tls;
    acr_pool pool;
    acr_http1_limits lim;
    acr_client_stats st;
};

/* One request/response exchange, the URL already parsed. */
struct hop {
    const char *method;
    const acr_url *u;
    const acr_header *h;
    size_t nh;
    const void *body;
    size_t body_len;
    acr_header *own;        /* h once credentials were stripped (freed by acr_fetch) */
};

int acr_client_new(acr_client **out, const acr_client_opts *o, char *err, size_t errlen)
{
    acr_client *c = acr_calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->o = *o;
    snprintf(c->ua, sizeof c->ua, "acrawl/%s", ACRAWL_VERSION);
    c->lim.max_header = o->max_header_bytes ? o->max_header_bytes : 64 * 1024;
    c->lim.max_body = o->max_body_bytes;
    c->lim.max_ratio = o->max_decode_ratio ? o->max_decode_ratio : 1000;
    int rc = acr_dns_new(&c->dns, o->dns_servers, err, errlen);
    for (size_t i = 0; rc == 0 && i < o->nresolve; i++)
        rc = acr_dns_add_override(c->dns, o->resolve[i], err, errlen);
    if (rc == 0 && o->cacert && access(o->cacert, R_OK) != 0) {
        snprintf(err, errlen, "cannot read CA file %s: %s", o->cacert, strerror(errno));
        rc = ACR_ETLSCONFIG;
    }
    if (rc == 0)
        rc = acr_pool_init(&c->pool, o->max_idle ? o->max_idle : 256, o->per_origin,
                           o->idle_timeout ? o->idle_timeout : 30 * ACR_SEC);
    if (rc != 0) {
        acr_client_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void acr_client_free(acr_client *c)
{
    if (!c)
        return;
    if (c->pool.origins.buckets)
        acr_pool_release(&c->pool);
    acr_tls_ctx_free(c->tls);
    acr_dns_free(c->dns);
    free(c);
}

const char *acr_client_versions(void)
{
    static char line[200];
    if (!line[0])
        snprintf(line, sizeof line, "c-ares %s, %s, llhttp %d.%d.%d, zlib %s", acr_dns_version(), acr_tls_version(),
                 LLHTTP_VERSION_MAJOR, LLHTTP_VERSION_MINOR, LLHTTP_VERSION_PATCH, zlibVersion());
    return line;
}

void acr_client_stats_get(const acr_client *c, acr_client_stats *out)
{
    *out = c->st;
    out->dns_lookups = acr_dns_lookups(c->dns);
}

void acr_response_release(acr_response *r)
{
    free(r->final_url);
    for (size_t i = 0; i < r->nchain; i++)
        free(r->chain[i]);
    free(r->chain);
    acr_headers_release(&r->headers);
    free(r->body);
    memset(r, 0, sizeof *r);
}

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* dns → connect → tls, stamping the timings. */
static int open_conn(acr_client *c, acr_origin *o, const acr_url *u, int64_t deadline, acr_response *resp,
                     acr_conn **out)
{
    acr_addrs addrs;
    int64_t t0 = acr_now();
    int64_t cdl = c->o.connect_timeout ? min64(deadline, acr_deadline_in(c->o.connect_timeout)) : deadline;
    int rc = acr_dns_resolve(c->dns, u->host, u->port, cdl, &addrs, resp->message, sizeof resp->message);
    int64_t t1 = acr_now();
    resp->t.dns += t1 - t0;
    if (rc == 0)
        resp->t.phases |= ACR_PHASE_DNS;
    if (rc == ACR_ETIMEOUT && cdl < deadline)
        rc = ACR_ECONNECT; /* the connect timeout covers the lookup too, as in curl */
    if (rc != 0)
        return rc;
    acr_conn *conn = acr_calloc(1, sizeof *conn);
    if (!conn)
        return -ENOMEM;
    conn->origin = o;
    rc = acr_tcp_connect(&conn->s, &addrs, cdl, deadline, resp->message, sizeof resp->message);
    int64_t t2 = acr_now();
    resp->t.connect += t2 - t1;
    if (rc == 0)
        resp->t.phases |= ACR_PHASE_CONNECT;
    if (rc == 0 && u->tls && !c->tls && c->tls_rc == 0) {
        /* Built on the first https URL: loading the system CA store costs tens of
         * milliseconds that a plain-http run should not pay. */
        c->tls_rc = acr_tls_ctx_new(&c->tls, c->o.insecure, c->o.cacert, c->tls_err, sizeof c->tls_err);
    }
    if (rc == 0 && u->tls && !c->tls) {
        snprintf(resp->message, sizeof resp->message, "%s", c->tls_err);
        rc = c->tls_rc;
    }
    if (rc == 0 && u->tls) {
        bool resumed = false;
        rc = acr_tls_connect(c->tls, &conn->s, u->host, &o->tls, deadline, &resumed, resp->message,
                             sizeof resp->message);
        resp->t.tls += acr_now() - t2;
        if (rc == 0)
            resp->t.phases |= ACR_PHASE_TLS;
        resp->tls_resumed = resumed;
        if (resumed)
            c->st.tls_resumed++;
    }
    if (rc != 0) {
        acr_conn_close(conn);
        return rc;
    }
    c->st.connections++;
    *out = conn;
    return 0;
}

static bool idempotent(const char *m)
{
    static const char *const ok[] = {"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        if (!strcmp(m, ok[i]))
            return true;
    }
    return false;
}

/* Forget an attempt's or a redirect's response before the next exchange. The status
 * stays: it is the last one received, as curl's http_code, until another arrives. */
static void reset_partial(acr_response *resp)
{
    acr_headers_release(&resp->headers);
    resp->raw_bytes = resp->body_bytes = 0;
    resp->message[0] = 0;
}

/* Where the connection goes, as curl's remote_ip and remote_port: asked of the
 * kernel once per connection, not once per request. */
static void note_peer(acr_conn *conn, bool tls, acr_response *resp)
{
    acr_sockaddr *a = &conn->peer;
    socklen_t len = sizeof *a;
    if (a->sa.sa_family == 0 && getpeername(conn->s.fd, &a->sa, &len) != 0)
        a->sa.sa_family = AF_UNSPEC;
    resp->scheme = tls ? "HTTPS" : "HTTP";
    if (a->sa.sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &a->in6.sin6_addr, resp->remote_ip, sizeof resp->remote_ip);
        resp->remote_port = ntohs(a->in6.sin6_port);
    } else if (a->sa.sa_family == AF_INET) {
        inet_ntop(AF_INET, &a->in.sin_addr, resp->remote_ip, sizeof resp->remote_ip);
        resp->remote_port = ntohs(a->in.sin_port);
    }
}

static int exchange(acr_client *c, acr_conn *conn, const struct hop *h, const acr_request *req, int64_t deadline,
                    int64_t start, acr_response *resp, acr_http1_result *res)
{
    acr_buf head = {0};
    int rc = acr_http1_request(&head, h->method, h->u, h->h, h->nh, c->ua, req->decode, h->body_len,
                               resp->message, sizeof resp->message);
    const acr_tap *tap = req->tap;
    if (rc == 0 && tap && tap->request) {
        tap->request(req->tap_arg, head.p, head.len);
        if (h->body_len)
            tap->request(req->tap_arg, h->body, h->body_len);
    }
    if (rc == 0)
        rc = acr_stream_write(&conn->s, head.p, head.len, deadline);
    bool unsent = rc != 0;
    if (rc == 0 && h->body_len)
        rc = acr_stream_write(&conn->s, h->body, h->body_len, deadline);
    acr_buf_release(&head);
    memset(res, 0, sizeof *res);
    res->unsent = unsent;
    if (rc != 0) {
        if (!resp->message[0])
            snprintf(resp->message, sizeof resp->message, "sending the request: %s", acr_strerror(rc));
        return rc;
    }
    acr_http1_read rd = {.method = h->method, .decode = req->decode, .keep_body = req->keep_body,
                         .sink = req->sink, .sink_arg = req->sink_arg, .follow = req->follow, .lim = &c->lim,
                         .tap = req->tap, .tap_arg = req->tap_arg};
    rc = acr_http1_response(&conn->s, &rd, deadline, resp, res);
    if (res->got_bytes)
        resp->t.ttfb = res->first_byte - start;
    return rc;
}

static int do_hop(acr_client *c, const struct hop *h, const acr_request *req, int64_t deadline, int64_t start,
                  acr_response *resp)
{
    acr_origin *o = acr_pool_origin(&c->pool, h->u->origin);
    if (!o)
        return -ENOMEM;
    if (o->cap) {
        int rc = acr_sem_acquire(o->cap, deadline);
        if (rc != 0)
            return rc;
    }
    int rc = 0;
    const acr_tap *tap = req->tap;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (tap && tap->begin)
            tap->begin(req->tap_arg, h->u->href);
        acr_conn *conn = attempt == 0 ? acr_pool_take(&c->pool, o) : NULL;
        resp->reused = conn != NULL;
        if (!conn)
            rc = open_conn(c, o, h->u, deadline, resp, &conn);
        if (!conn) {
            if (tap && tap->end)
                tap->end(req->tap_arg, rc, resp->message[0] ? resp->message : acr_strerror(rc), "", false);
            break;
        }
        if (resp->reused)
            c->st.reused++;
        note_peer(conn, h->u->tls, resp);
        acr_http1_result res;
        rc = exchange(c, conn, h, req, deadline, start, resp, &res);
        conn->served++;
        if (rc == 0 && res.keep_alive)
            acr_pool_put(&c->pool, conn);
        else
            acr_conn_close(conn);
        /* A pooled connection the server had closed: nothing came back, so the
         * request can go again on a fresh one, once, if idempotent or if its head
         * never fully left (RFC 9112 §9.3.1, as Go's transport does). */
        bool stale = rc == ACR_ERESET && resp->reused && !res.got_bytes;
        bool again = stale && (idempotent(h->method) || res.unsent);
        if (tap && tap->end)
            tap->end(req->tap_arg, rc, rc == 0 ? "" : resp->message[0] ? resp->message : acr_strerror(rc),
                     resp->remote_ip, again);
        if (!again)
            break;
        resp->retries++;
        reset_partial(resp);
    }
    if (o->cap)
        acr_sem_release(o->cap);
    return rc;
}

static int push_chain(acr_response *resp, const char *url)
{
    char **v = acr_realloc(resp->chain, (resp->nchain + 1) * sizeof *v);
    if (!v)
        return -ENOMEM;
    resp->chain = v;
    v[resp->nchain] = acr_strdup(url);
    if (!v[resp->nchain])
        return -ENOMEM;
    resp->nchain++;
    return 0;
}

/* Credentials are not sent to another origin after a redirect (as curl without
 * --location-trusted); once dropped they stay dropped, so the copy is made once. */
static int strip_credentials(struct hop *h)
{
    if (h->own || h->nh == 0)
        return 0;
    h->own = acr_malloc(h->nh * sizeof *h->own);
    if (!h->own)
        return -ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < h->nh; i++) {
        if (strcasecmp(h->h[i].name, "Authorization") && strcasecmp(h->h[i].name, "Cookie"))
            h->own[n++] = h->h[i];
    }
    h->h = h->own;
    h->nh = n;
    return 0;
}

/* Sets up the next hop from a redirect response. 0, or an error with a message. */
static int next_hop(acr_response *resp, const acr_request *req, acr_url *cur, struct hop *h)
{
    unsigned max = req->max_redirs ? req->max_redirs : 10;
    if (resp->redirects >= max) {
        snprintf(resp->message, sizeof resp->message, "too many redirects (more than %u)", max);
        return ACR_EREDIRLOOP;
    }
    const char *loc = acr_headers_get(&resp->headers, "Location");
    acr_url next;
    char why[128] = "";
    int rc = acr_url_resolve(&next, cur, loc, why, sizeof why);
    if (rc != 0) {
        snprintf(resp->message, sizeof resp->message, "bad redirect location '%.100s': %s", loc, why);
        return rc;
    }
    bool seen = !strcmp(next.href, cur->href);
    for (size_t i = 0; i < resp->nchain && !seen; i++)
        seen = !strcmp(resp->chain[i], next.href);
    if (seen && resp->status != 303) {
        snprintf(resp->message, sizeof resp->message, "redirect loop: %.200s", next.href);
        acr_url_release(&next);
        return ACR_EREDIRLOOP;
    }
    rc = push_chain(resp, cur->href);
    if (rc != 0) {
        acr_url_release(&next);
        return rc;
    }
    resp->redirects++;
    int s = resp->status;
    if ((s == 303 && strcmp(h->method, "HEAD")) || ((s == 301 || s == 302) && !strcmp(h->method, "POST"))) {
        h->method = "GET";
        h->body = NULL;
        h->body_len = 0;
    }
    if (strcmp(next.origin, cur->origin) && strip_credentials(h) != 0) {
        acr_url_release(&next);
        return -ENOMEM;
    }
    acr_url_release(cur);
    *cur = next;
    reset_partial(resp);
    return 0;
}

int acr_fetch(acr_client *c, const acr_request *req, int64_t deadline, acr_response *resp)
{
    memset(resp, 0, sizeof *resp);
    int64_t start = acr_now();
    acr_url cur;
    int rc = acr_url_parse(&cur, req->url, resp->message, sizeof resp->message);
    if (rc != 0) {
        resp->error = rc;
        return rc;
    }
    struct hop h = {.method = req->method ? req->method : "GET", .u = &cur, .h = req->headers,
                    .nh = req->nheaders, .body = req->body, .body_len = req->body_len};
    while (rc == 0) {
        h.u = &cur;
        if (resp->redirects)
            resp->t.redirect = acr_now() - start;
        rc = do_hop(c, &h, req, deadline, start, resp);
        if (rc != 0 || !req->follow || !acr_http1_is_redirect(resp->status) ||
            !acr_headers_get(&resp->headers, "Location"))
            break;
        rc = next_hop(resp, req, &cur, &h);
    }
    if (rc == ACR_ETIMEOUT && !resp->message[0])
        snprintf(resp->message, sizeof resp->message, "deadline elapsed");
    if (rc != 0 && !resp->message[0])
        snprintf(resp->message, sizeof resp->message, "%s", acr_strerror(rc));
    resp->final_url = acr_strdup(cur.href);
    resp->error = rc;
    resp->t.total = acr_now() - start;
    acr_url_release(&cur);
    free(h.own);
    return rc;
}
