/* server.c -- acrawl's test server, on acrawl's own runtime: loopback only, plain and
 * TLS listeners, routes for every behaviour the client must handle. Stops by itself. */
#include <arpa/inet.h>
#include <errno.h>
#include <llhttp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <zlib.h>

#include "acrawl/error.h"
#include "acrawl/loop.h"
#include "acrawl/task.h"
#include "util/buf.h"
#include "transport/net.h"
#include "transport/tls.h"
#include "sites.h"

#define MAX_LISTENERS 16
#define MAX_REQ_HEADERS 100
#define IDLE_TIMEOUT (30 * ACR_SEC)
#define MAX_DELAY_MS 120000L

static struct {
    unsigned long connections, requests, inflight, peak;
} stats;

struct listener {
    int fd;
    acr_io *io;
    SSL_CTX *tls;
    int port;
};

struct req {
    llhttp_t p;
    acr_buf url, field, value;
    bool in_value;
    char *hname[MAX_REQ_HEADERS], *hvalue[MAX_REQ_HEADERS];
    int nh;
    unsigned long body_len;
    bool complete;
};

struct conn {
    acr_stream s;
    SSL_CTX *tls;
    bool drop_next;     /* /close-after: read the next request, then hang up silently */
};

/* ---- request parsing ---- */

static void req_commit(struct req *r)
{
    if (!r->in_value)
        return;
    r->in_value = false;
    if (r->nh < MAX_REQ_HEADERS) {
        r->hname[r->nh] = strdup(r->field.p ? r->field.p : "");
        r->hvalue[r->nh] = strdup(r->value.p ? r->value.p : "");
        r->nh++;
    }
    r->field.len = r->value.len = 0;
    if (r->field.p)
        r->field.p[0] = 0;
    if (r->value.p)
        r->value.p[0] = 0;
}

static int on_url(llhttp_t *p, const char *at, size_t n)
{
    acr_buf_add(&((struct req *)p->data)->url, at, n);
    return 0;
}

static int on_hfield(llhttp_t *p, const char *at, size_t n)
{
    struct req *r = p->data;
    req_commit(r);
    acr_buf_add(&r->field, at, n);
    return 0;
}

static int on_hvalue(llhttp_t *p, const char *at, size_t n)
{
    struct req *r = p->data;
    r->in_value = true;
    acr_buf_add(&r->value, at, n);
    return 0;
}

static int on_hdone(llhttp_t *p)
{
    req_commit(p->data);
    return 0;
}

static int on_rbody(llhttp_t *p, const char *at, size_t n)
{
    (void)at;
    ((struct req *)p->data)->body_len += n;
    return 0;
}

static int on_rdone(llhttp_t *p)
{
    ((struct req *)p->data)->complete = true;
    return HPE_PAUSED;
}

static void req_reset(struct req *r)
{
    for (int i = 0; i < r->nh; i++) {
        free(r->hname[i]);
        free(r->hvalue[i]);
    }
    r->nh = 0;
    r->url.len = 0;
    if (r->url.p)
        r->url.p[0] = 0;
    r->body_len = 0;
    r->complete = false;
    r->in_value = false;
}

/* Value of query parameter name in the URL, copied into buf (percent-decoded). */
static const char *query(const struct req *r, const char *name, char *buf, size_t len)
{
    const char *q = r->url.p ? strchr(r->url.p, '?') : NULL;
    size_t nl = strlen(name);
    while (q) {
        q++;
        if (!strncmp(q, name, nl) && q[nl] == '=') {
            const char *v = q + nl + 1;
            size_t o = 0;
            while (*v && *v != '&' && o + 1 < len) {
                if (*v == '%' && v[1] && v[2]) {
                    char hex[3] = {v[1], v[2], 0};
                    buf[o++] = (char)strtol(hex, NULL, 16);
                    v += 3;
                } else {
                    buf[o++] = *v++;
                }
            }
            buf[o] = 0;
            return buf;
        }
        q = strchr(q, '&');
    }
    return NULL;
}

/* ---- responses ---- */

static const char *reason(int code)
{
    switch (code) {
    case 200: return "OK";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

static bool body_allowed(int code) { return code >= 200 && code != 204 && code != 304; }

/* Writes status, extra header lines (each ending CRLF) and a body with its length. */
static int respond(struct conn *c, const struct req *r, int code, const char *extra, const void *body, size_t len)
{
    acr_buf b = {0};
    char line[256];
    snprintf(line, sizeof line, "HTTP/1.1 %d %s\r\nServer: acrawl-testserver\r\n", code, reason(code));
    acr_buf_puts(&b, line);
    if (body_allowed(code)) {
        snprintf(line, sizeof line, "Content-Length: %zu\r\n", len);
        acr_buf_puts(&b, line);
    }
    if (!llhttp_should_keep_alive(&r->p))
        acr_buf_puts(&b, "Connection: close\r\n");
    if (extra)
        acr_buf_puts(&b, extra);
    acr_buf_puts(&b, "\r\n");
    bool head = r->p.method == HTTP_HEAD;
    if (body_allowed(code) && !head && len < 65536)
        acr_buf_add(&b, body, len); /* one write for small responses */
    int rc = acr_stream_write(&c->s, b.p, b.len, acr_deadline_in(IDLE_TIMEOUT));
    if (rc == 0 && body_allowed(code) && !head && len >= 65536)
        rc = acr_stream_write(&c->s, body, len, acr_deadline_in(IDLE_TIMEOUT));
    acr_buf_release(&b);
    return rc;
}

static int respond_text(struct conn *c, const struct req *r, int code, const char *text)
{
    return respond(c, r, code, "Content-Type: text/plain\r\n", text, strlen(text));
}

static long path_num(const char *path, const char *prefix, long dflt, long max)
{
    size_t n = strlen(prefix);
    if (strncmp(path, prefix, n) != 0)
        return -1;
    const char *p = path + n;
    long v = *p >= '0' && *p <= '9' ? strtol(p, NULL, 10) : dflt;
    return v > max ? max : v;
}

static int send_bytes(struct conn *c, const struct req *r, long n)
{
    char *body = malloc((size_t)n + 1);
    if (!body)
        return -ENOMEM;
    for (long i = 0; i < n; i++)
        body[i] = (char)('a' + i % 26);
    int rc = respond(c, r, 200, "Content-Type: application/octet-stream\r\n", body, (size_t)n);
    free(body);
    return rc;
}

static int send_chunked(struct conn *c, long n)
{
    acr_buf b = {0};
    acr_buf_puts(&b, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Trailer\r\n\r\n");
    char chunk[4096], head[32];
    memset(chunk, 'c', sizeof chunk);
    for (long left = n; left > 0;) {
        long k = left > 1000 ? 1000 : left;
        snprintf(head, sizeof head, "%lx;ext=1\r\n", k);
        acr_buf_puts(&b, head);
        acr_buf_add(&b, chunk, (size_t)k);
        acr_buf_puts(&b, "\r\n");
        left -= k;
    }
    acr_buf_puts(&b, "0\r\nX-Trailer: done\r\n\r\n");
    int rc = acr_stream_write(&c->s, b.p, b.len, acr_deadline_in(IDLE_TIMEOUT));
    acr_buf_release(&b);
    return rc;
}

/* wbits: 16+15 gzip, 15 zlib ("deflate"), -15 raw deflate. */
static int send_compressed(struct conn *c, const struct req *r, long n, int wbits, const char *enc, char fill)
{
    char *in = malloc((size_t)n + 1);
    uLong cap = compressBound((uLong)n) + 64;
    unsigned char *out = malloc(cap);
    int rc = -ENOMEM;
    if (in && out) {
        for (long i = 0; i < n; i++)
            in[i] = fill ? fill : (char)("the quick brown fox "[i % 20]);
        z_stream z = {0};
        deflateInit2(&z, 6, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY);
        z.next_in = (Bytef *)in;
        z.avail_in = (uInt)n;
        z.next_out = out;
        z.avail_out = (uInt)cap;
        deflate(&z, Z_FINISH);
        size_t olen = z.total_out;
        deflateEnd(&z);
        char extra[128];
        snprintf(extra, sizeof extra, "Content-Encoding: %s\r\nContent-Type: text/plain\r\n", enc);
        rc = respond(c, r, 200, extra, out, olen);
    }
    free(in);
    free(out);
    return rc;
}

static int send_headers_echo(struct conn *c, const struct req *r)
{
    acr_buf b = {0};
    char line[128];
    snprintf(line, sizeof line, "{\"method\":\"%s\",\"body_length\":%lu,\"headers\":{",
             llhttp_method_name((llhttp_method_t)r->p.method), r->body_len);
    acr_buf_puts(&b, line);
    for (int i = 0; i < r->nh; i++) {
        acr_buf_puts(&b, i ? ",\"" : "\"");
        acr_buf_puts(&b, r->hname[i]);
        acr_buf_puts(&b, "\":\"");
        for (const char *v = r->hvalue[i]; *v; v++) {
            if (*v == '"' || *v == '\\')
                acr_buf_add(&b, "\\", 1);
            acr_buf_add(&b, v, 1);
        }
        acr_buf_puts(&b, "\"");
    }
    acr_buf_puts(&b, "}}\n");
    int rc = respond(c, r, 200, "Content-Type: application/json\r\n", b.p, b.len);
    acr_buf_release(&b);
    return rc;
}

static int send_drip(struct conn *c, const struct req *r)
{
    char v[32];
    long n = query(r, "n", v, sizeof v) ? atol(v) : 10;
    long ms = query(r, "ms", v, sizeof v) ? atol(v) : 100;
    if (n > 10000)
        n = 10000;
    char head[128];
    snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %ld\r\n\r\n", n);
    int rc = acr_stream_write(&c->s, head, strlen(head), acr_deadline_in(IDLE_TIMEOUT));
    for (long i = 0; rc == 0 && i < n; i++) {
        rc = acr_sleep_for(ms * ACR_MSEC);
        if (rc == 0)
            rc = acr_stream_write(&c->s, "d", 1, acr_deadline_in(IDLE_TIMEOUT));
    }
    return rc;
}

/* Waits until the client goes away (bounded): a response that never comes. */
static int stall(struct conn *c)
{
    char buf[256];
    int64_t dl = acr_deadline_in(60 * ACR_SEC);
    while (acr_stream_read(&c->s, buf, sizeof buf, dl) > 0)
        ;
    return ACR_ECLOSED;
}

static int send_reset(struct conn *c)
{
    static char body[1000];
    memset(body, 'r', sizeof body);
    const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n";
    acr_stream_write(&c->s, head, strlen(head), acr_deadline_in(IDLE_TIMEOUT));
    acr_stream_write(&c->s, body, sizeof body, acr_deadline_in(IDLE_TIMEOUT));
    acr_sleep_for(10 * ACR_MSEC);
    struct linger lg = {.l_onoff = 1, .l_linger = 0}; /* close() then sends RST */
    setsockopt(c->s.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    return ACR_ECLOSED;
}

static int send_truncated(struct conn *c)
{
    const char *msg = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789";
    acr_stream_write(&c->s, msg, strlen(msg), acr_deadline_in(IDLE_TIMEOUT));
    return ACR_ECLOSED;
}

/* /eof/N: N bytes (as /bytes/N) whose end is the end of the connection: no
 * Content-Length, no chunking (RFC 9112 §6.3, item 8). */
static int send_until_close(struct conn *c, long n)
{
    acr_buf b = {0};
    acr_buf_puts(&b, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n");
    for (long i = 0; i < n; i++)
        acr_buf_putc(&b, (char)('a' + i % 26));
    if (!b.oom)
        acr_stream_write(&c->s, b.p, b.len, acr_deadline_in(IDLE_TIMEOUT));
    acr_buf_release(&b);
    return ACR_ECLOSED;
}

static int send_garbage(struct conn *c)
{
    const char *msg = "HELLO THIS IS NOT HTTP\r\n\r\n";
    acr_stream_write(&c->s, msg, strlen(msg), acr_deadline_in(IDLE_TIMEOUT));
    return ACR_ECLOSED;
}

static int send_huge_headers(struct conn *c, const struct req *r)
{
    char v[32];
    long kb = query(r, "kb", v, sizeof v) ? atol(v) : 100;
    acr_buf h = {0};
    char pad[1001];
    memset(pad, 'h', 1000);
    pad[1000] = 0;
    char line[1100];
    for (long i = 0; i < kb; i++) {
        snprintf(line, sizeof line, "X-Pad-%ld: %s\r\n", i, pad);
        acr_buf_puts(&h, line);
    }
    int rc = respond(c, r, 200, h.p, "big\n", 4);
    acr_buf_release(&h);
    return rc;
}

static int send_informational(struct conn *c, const struct req *r)
{
    const char *pre = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\n";
    int rc = acr_stream_write(&c->s, pre, strlen(pre), acr_deadline_in(IDLE_TIMEOUT));
    return rc ? rc : respond_text(c, r, 200, "after 1xx\n");
}

/* A response, then FIN (shutdown of our write side) with the socket left open and
 * unread for a while: a keep-alive connection that died while idle in the pool.
 * Corked, so the FIN rides in the response's segment and the client sees one
 * readiness edge for both (the case an edge-only liveness check misses). */
static int send_then_halfclose(struct conn *c, const struct req *r)
{
    int one = 1;
    setsockopt(c->s.fd, IPPROTO_TCP, TCP_CORK, &one, sizeof one);
    int rc = respond_text(c, r, 200, "ok; then FIN\n");
    if (rc != 0)
        return rc;
    shutdown(c->s.fd, SHUT_WR);
    acr_sleep_for(10 * ACR_SEC); /* bounded: the connection is closed after that */
    return ACR_ECLOSED;
}

/* A response, then, 200 ms later and without reading what came meanwhile, a reset
 * (SO_LINGER 0): a pooled connection that dies under a request being written. */
static int send_then_reset_idle(struct conn *c, const struct req *r)
{
    int rc = respond_text(c, r, 200, "ok; reset in 200 ms\n");
    if (rc != 0)
        return rc;
    acr_sleep_for(200 * ACR_MSEC);
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(c->s.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    return ACR_ECLOSED;
}

/* Endless "100 Continue" responses and never a final one, until the client goes
 * (the write fails) or 30 s pass. Yields between writes so a fast reader cannot
 * starve the server's other connections. */
static int send_1xx_flood(struct conn *c)
{
    static const char one[] = "HTTP/1.1 100 Continue\r\n\r\n";
    char batch[64 * (sizeof one - 1)];
    for (size_t i = 0; i < 64; i++)
        memcpy(batch + i * (sizeof one - 1), one, sizeof one - 1);
    int64_t end = acr_deadline_in(30 * ACR_SEC);
    int rc = 0;
    while (rc == 0 && acr_now() < end) {
        rc = acr_stream_write(&c->s, batch, sizeof batch, end);
        if (rc == 0)
            rc = acr_yield();
    }
    return ACR_ECLOSED;
}

static int send_links(struct conn *c, const struct req *r, const char *path)
{
    long n = 0, i = 0;
    if (sscanf(path, "/links/%ld/%ld", &n, &i) < 1 || n <= 0)
        return respond_text(c, r, 404, "not found\n");
    if (n > 100000)
        n = 100000;
    acr_buf b = {0};
    char line[160];
    snprintf(line, sizeof line, "<html><head><title>page %ld</title></head><body>\n", i);
    acr_buf_puts(&b, line);
    for (long k = 1; k <= 3; k++) {
        long j = (i * 3 + k) % n;
        snprintf(line, sizeof line, "<a href=\"/links/%ld/%ld\">page %ld</a>\n", n, j, j);
        acr_buf_puts(&b, line);
    }
    acr_buf_puts(&b, "<a href=\"#top\">top</a> <a href=\"mailto:x@y\">mail</a></body></html>\n");
    int rc = respond(c, r, 200, "Content-Type: text/html\r\n", b.p, b.len);
    acr_buf_release(&b);
    return rc;
}

static int send_stats(struct conn *c, const struct req *r, bool reset)
{
    char body[256];
    snprintf(body, sizeof body, "{\"connections\":%lu,\"requests\":%lu,\"inflight\":%lu,\"peak\":%lu}\n",
             stats.connections, stats.requests, stats.inflight, stats.peak);
    if (reset) {
        stats.peak = stats.inflight;
        stats.requests = 0;
        stats.connections = 0;
    }
    return respond(c, r, 200, "Content-Type: application/json\r\n", body, strlen(body));
}

/* 0 to keep the connection, non-zero to close it. */
static int route(struct conn *c, const struct req *r)
{
    char path[2048], v[1024];
    snprintf(path, sizeof path, "%s", r->url.p ? r->url.p : "/");
    path[strcspn(path, "?")] = 0;
    long n;
    if (!strcmp(path, "/") || !strcmp(path, "/ok"))
        return respond_text(c, r, 200, "ok\n");
    if ((n = path_num(path, "/delay/", 0, MAX_DELAY_MS)) >= 0) {
        int rc = acr_sleep_for(n * ACR_MSEC);
        return rc ? rc : respond_text(c, r, 200, "ok\n");
    }
    if ((n = path_num(path, "/status/", 200, 999)) >= 0) {
        char extra[64] = "";
        if (query(r, "retry-after", v, 16))
            snprintf(extra, sizeof extra, "Retry-After: %.16s\r\n", v);
        char body[32];
        snprintf(body, sizeof body, "status %ld\n", n);
        return respond(c, r, (int)n, extra, body, strlen(body));
    }
    if ((n = path_num(path, "/bytes/", 0, 1L << 30)) >= 0)
        return send_bytes(c, r, n);
    if ((n = path_num(path, "/chunked/", 0, 1L << 30)) >= 0)
        return send_chunked(c, n);
    if ((n = path_num(path, "/eof/", 0, 1L << 26)) >= 0)
        return send_until_close(c, n);
    if ((n = path_num(path, "/gzip/", 0, 1L << 28)) >= 0)
        return send_compressed(c, r, n, 16 + MAX_WBITS, "gzip", 0);
    if ((n = path_num(path, "/deflate/", 0, 1L << 28)) >= 0)
        return send_compressed(c, r, n, MAX_WBITS, "deflate", 0);
    if ((n = path_num(path, "/rawdeflate/", 0, 1L << 28)) >= 0)
        return send_compressed(c, r, n, -MAX_WBITS, "deflate", 0);
    if ((n = path_num(path, "/bomb/", 10, 1024)) >= 0)
        return send_compressed(c, r, n << 20, 16 + MAX_WBITS, "gzip", '0');
    if ((n = path_num(path, "/redirect/", 1, 1000)) >= 0) {
        char loc[64];
        snprintf(loc, sizeof loc, "Location: %s%ld\r\n", n > 1 ? "/redirect/" : "/ok", n > 1 ? n - 1 : 0L);
        if (n <= 1)
            snprintf(loc, sizeof loc, "Location: /ok\r\n");
        return respond(c, r, 302, loc, "redirect\n", 9);
    }
    if (!strcmp(path, "/redirect-to")) {
        char st[16], loc[1100];
        int code = query(r, "status", st, sizeof st) ? atoi(st) : 302;
        snprintf(loc, sizeof loc, "Location: %s\r\n", query(r, "url", v, sizeof v) ? v : "/");
        return respond(c, r, code, loc, "redirect\n", 9);
    }
    if (!strcmp(path, "/loop"))
        return respond(c, r, 302, "Location: /loop\r\n", "", 0);
    if (!strcmp(path, "/headers"))
        return send_headers_echo(c, r);
    if (!strcmp(path, "/drip"))
        return send_drip(c, r);
    if (!strcmp(path, "/stall"))
        return stall(c);
    if (!strcmp(path, "/reset"))
        return send_reset(c);
    if (!strcmp(path, "/truncate"))
        return send_truncated(c);
    if (!strcmp(path, "/garbage"))
        return send_garbage(c);
    if (!strcmp(path, "/huge-headers"))
        return send_huge_headers(c, r);
    if (!strcmp(path, "/1xx"))
        return send_informational(c, r);
    if (!strcmp(path, "/halfclose"))
        return send_then_halfclose(c, r);
    if (!strcmp(path, "/reset-idle"))
        return send_then_reset_idle(c, r);
    if (!strcmp(path, "/1xx-flood"))
        return send_1xx_flood(c);
    if (!strcmp(path, "/close-after")) {
        c->drop_next = true;
        return respond_text(c, r, 200, "ok; the next request on this connection is dropped\n");
    }
    if (!strncmp(path, "/links/", 7))
        return send_links(c, r, path);
    if (!strcmp(path, "/stats") || !strcmp(path, "/stats/reset"))
        return send_stats(c, r, path[6] == '/');
    if (sites_match(path))
        return sites_serve(&c->s, &(struct site_req){.path = path, .target = r->url.p, .hname = r->hname,
            .hvalue = r->hvalue, .nh = r->nh, .keep_alive = llhttp_should_keep_alive(&r->p),
            .head = r->p.method == HTTP_HEAD, .tls = c->tls != NULL});
    return respond_text(c, r, 404, "not found\n");
}

/* ---- connections ---- */

static int serve_requests(struct conn *c)
{
    llhttp_settings_t st;
    llhttp_settings_init(&st);
    st.on_url = on_url;
    st.on_header_field = on_hfield;
    st.on_header_value = on_hvalue;
    st.on_headers_complete = on_hdone;
    st.on_body = on_rbody;
    st.on_message_complete = on_rdone;
    struct req r = {0};
    llhttp_init(&r.p, HTTP_REQUEST, &st);
    r.p.data = &r;
    char buf[16384];
    size_t have = 0;
    int rc = 0;
    for (unsigned served = 0; rc == 0 && served < 1000000; served++) {
        while (!r.complete) {
            if (have == 0) {
                ssize_t n = acr_stream_read(&c->s, buf, sizeof buf, acr_deadline_in(IDLE_TIMEOUT));
                if (n <= 0)
                    goto out;
                have = (size_t)n;
            }
            llhttp_errno_t e = llhttp_execute(&r.p, buf, have);
            if (e == HPE_PAUSED) {
                const char *pos = llhttp_get_error_pos(&r.p);
                size_t used = (size_t)(pos - buf);
                memmove(buf, pos, have - used); /* pipelined bytes wait for the next round */
                have -= used;
                llhttp_resume(&r.p);
            } else if (e != HPE_OK) {
                const char *bad = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
                acr_stream_write(&c->s, bad, strlen(bad), acr_deadline_in(ACR_SEC));
                goto out;
            } else {
                have = 0;
            }
        }
        if (c->drop_next)
            goto out;
        stats.requests++;
        bool counted = strncmp(r.url.p ? r.url.p : "", "/stats", 6) != 0;
        if (counted && ++stats.inflight > stats.peak)
            stats.peak = stats.inflight;
        rc = route(c, &r);
        if (counted)
            stats.inflight--;
        if (!llhttp_should_keep_alive(&r.p))
            rc = 1;
        req_reset(&r);
    }
out:
    req_reset(&r);
    acr_buf_release(&r.url);
    acr_buf_release(&r.field);
    acr_buf_release(&r.value);
    return 0;
}

static int conn_main(void *arg)
{
    struct conn *c = arg;
    acr_task_set_name(acr_task_self(), "server-conn");
    stats.connections++;
    if (!c->tls || acr_tls_accept(c->tls, &c->s, acr_deadline_in(10 * ACR_SEC)) == 0)
        serve_requests(c);
    acr_stream_close(&c->s);
    free(c);
    return 0;
}

static int accept_main(void *arg)
{
    struct listener *l = arg;
    acr_task_set_name(acr_task_self(), "server-accept");
    for (;;) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) {
                if (acr_io_wait(l->io, ACR_READABLE, ACR_FOREVER) != 0)
                    return 0;
            } else if (errno == EMFILE || errno == ENFILE) {
                acr_sleep_for(10 * ACR_MSEC); /* out of descriptors: back off */
            } else {
                perror("accept");
                return -errno;
            }
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = calloc(1, sizeof *c);
        if (!c || acr_io_open(&c->s.io, fd) != 0) {
            close(fd);
            free(c);
            continue;
        }
        c->s.fd = fd;
        c->tls = l->tls;
        if (acr_spawn(NULL, NULL, conn_main, c) != 0) {
            acr_stream_close(&c->s);
            free(c);
        }
    }
}

/* ---- setup ---- */

static int listen_on(const char *host, int port, struct listener *l)
{
    struct sockaddr_storage ss = {0};
    socklen_t len;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        len = sizeof *s6;
    } else if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        len = sizeof *s4;
    } else {
        fprintf(stderr, "testserver: --host must be an address\n");
        return -1;
    }
    /* Loopback only: this server exists for tests and benchmarks on this machine. */
    if ((ss.ss_family == AF_INET && (ntohl(s4->sin_addr.s_addr) >> 24) != 127) ||
        (ss.ss_family == AF_INET6 && !IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))) {
        fprintf(stderr, "testserver: refusing to listen on a non-loopback address\n");
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ss.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 4096) != 0) {
        perror("testserver: listen");
        return -1;
    }
    getsockname(fd, (struct sockaddr *)&ss, &len);
    l->fd = fd;
    l->port = ntohs(ss.ss_family == AF_INET6 ? s6->sin6_port : s4->sin_port);
    return acr_io_open(&l->io, fd);
}

static SSL_CTX *server_ctx(const char *cert, const char *key)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        fprintf(stderr, "testserver: cannot load %s / %s\n", cert, key);
        ERR_print_errors_fp(stderr);
        exit(2);
    }
    return ctx;
}

struct opts {
    const char *host;
    int port;
    long max_seconds;
    const char *certs[MAX_LISTENERS], *keys[MAX_LISTENERS];
    int ntls;
};

static int lifetime_main(void *arg)
{
    long secs = *(long *)arg;
    acr_sleep_for(secs * ACR_SEC);
    fprintf(stderr, "testserver: --max-seconds reached, exiting\n");
    exit(0);
}

static int server_main(void *arg)
{
    struct opts *o = arg;
    static struct listener ls[MAX_LISTENERS + 1];
    int n = 0;
    if (listen_on(o->host, o->port, &ls[n++]) != 0)
        exit(2);
    for (int i = 0; i < o->ntls; i++) {
        ls[n].tls = server_ctx(o->certs[i], o->keys[i]);
        if (listen_on(o->host, 0, &ls[n++]) != 0)
            exit(2);
    }
    printf("http=%d", ls[0].port);
    for (int i = 1; i < n; i++)
        printf(" https=%d", ls[i].port);
    printf("\n");
    fflush(stdout);
    for (int i = 0; i < n; i++)
        acr_spawn(NULL, NULL, accept_main, &ls[i]);
    acr_spawn(NULL, NULL, lifetime_main, &o->max_seconds);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: acrawl-testserver [--host ADDR] [--port N] [--max-seconds N]\n"
                    "                         [--tls CERT KEY]... [--robots VARIANT]\n"
                    "Serves test routes on loopback; prints 'http=PORT [https=PORT]...' when ready.\n"
                    "/robots.txt variants (default 404): %s\n", sites_robots_names());
    exit(2);
}

int main(int argc, char **argv)
{
    struct opts o = {.host = "127.0.0.1", .max_seconds = 600};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--host") && i + 1 < argc)
            o.host = argv[++i];
        else if (!strcmp(argv[i], "--port") && i + 1 < argc)
            o.port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--max-seconds") && i + 1 < argc)
            o.max_seconds = atol(argv[++i]);
        else if (!strcmp(argv[i], "--tls") && i + 2 < argc && o.ntls < MAX_LISTENERS) {
            o.certs[o.ntls] = argv[++i];
            o.keys[o.ntls++] = argv[++i];
        } else if (!strcmp(argv[i], "--robots") && i + 1 < argc && sites_set_robots(argv[i + 1]) == 0)
            i++;
        else
            usage();
    }
    signal(SIGPIPE, SIG_IGN);
    acr_loop *loop = acr_loop_new(NULL);
    if (!loop)
        return 1;
    acr_spawn(loop, NULL, server_main, &o);
    acr_loop_run(loop);
    return 0;
}
