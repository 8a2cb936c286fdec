/* http1.c -- HTTP/1.1 request heads and llhttp response parsing. The llhttp
 * callbacks only fill the parse state; the read loop above them decides. */
#include <errno.h>
#include <llhttp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "acrawl/error.h"
#include "decode.h"
#include "http1.h"

/* ---- request ---- */

static bool has_crlf(const char *s) { return strpbrk(s, "\r\n") != NULL; }

static const acr_header *find_custom(const acr_header *h, size_t nh, const char *name)
{
    for (size_t i = 0; i < nh; i++) {
        if (!strcasecmp(h[i].name, name))
            return &h[i];
    }
    return NULL;
}

static void add_header(acr_buf *b, const char *name, const char *value)
{
    acr_buf_puts(b, name);
    acr_buf_add(b, ": ", 2);
    acr_buf_puts(b, value);
    acr_buf_add(b, "\r\n", 2);
}

/* A default header, unless the caller gave one of that name (empty: drop it). */
static void add_default(acr_buf *b, const acr_header *h, size_t nh, const char *name, const char *value)
{
    if (!find_custom(h, nh, name))
        add_header(b, name, value);
}

int acr_http1_request(acr_buf *out, const char *method, const acr_url *u, const acr_header *h, size_t nh,
                      const char *ua, bool decode, size_t body_len, char *err, size_t errlen)
{
    for (size_t i = 0; i < nh; i++) {
        if (has_crlf(h[i].name) || has_crlf(h[i].value) || !h[i].name[0] || strchr(h[i].name, ':')) {
            snprintf(err, errlen, "invalid request header '%.40s'", h[i].name);
            return ACR_EPROTO;
        }
    }
    acr_buf_puts(out, method);
    acr_buf_add(out, " ", 1);
    acr_buf_puts(out, u->target);
    acr_buf_puts(out, " HTTP/1.1\r\n");
    if (!find_custom(h, nh, "Host")) {
        acr_buf_puts(out, "Host: ");
        acr_buf_puts(out, u->ipv6 ? "[" : "");
        acr_buf_puts(out, u->host);
        acr_buf_puts(out, u->ipv6 ? "]" : "");
        if (u->port != (u->tls ? 443 : 80)) {
            char port[24] = ":";
            acr_utoa(port + 1, u->port);
            acr_buf_puts(out, port);
        }
        acr_buf_puts(out, "\r\n");
    }
    add_default(out, h, nh, "User-Agent", ua);
    add_default(out, h, nh, "Accept", "*/*");
    if (decode)
        add_default(out, h, nh, "Accept-Encoding", "gzip, deflate");
    if (body_len > 0 || !strcmp(method, "POST") || !strcmp(method, "PUT") || !strcmp(method, "PATCH")) {
        char len[24];
        acr_utoa(len, body_len);
        add_default(out, h, nh, "Content-Length", len);
    }
    for (size_t i = 0; i < nh; i++) {
        if (h[i].value[0])
            add_header(out, h[i].name, h[i].value);
    }
    acr_buf_add(out, "\r\n", 2);
    return out->oom ? -ENOMEM : 0;
}

/* ---- response ---- */

/* Interim responses before the final one, at most: a peer that sends them forever
 * would otherwise hold the request without ever tripping a size limit (Go allows 5,
 * CPython 100; curl bounds the header lines of the whole transfer). */
#define MAX_INTERIM 16

struct rp {
    llhttp_t p;
    acr_response *resp;
    const acr_http1_limits *lim;
    acr_buf field, value;
    bool in_value;
    size_t header_bytes;
    bool head, decode, keep_body, complete, follow;
    int body_fd;
    acr_decoder dec;
    acr_buf body;
    int error;
    unsigned interim;       /* 1xx responses skipped so far */
};

static int fail_oom(struct rp *r)
{
    r->error = -ENOMEM;
    snprintf(r->resp->message, sizeof r->resp->message, "out of memory");
    return -1;
}

static int fail_cb(struct rp *r, int code, const char *fmt, unsigned long long a)
{
    r->error = code;
    snprintf(r->resp->message, sizeof r->resp->message, fmt, a);
    return -1;
}

static int count_header(struct rp *r, size_t len)
{
    r->header_bytes += len;
    if (r->header_bytes > r->lim->max_header)
        return fail_cb(r, ACR_ETOOLARGE, "response headers exceed %llu bytes",
                       (unsigned long long)r->lim->max_header);
    return 0;
}

static int commit_header(struct rp *r)
{
    if (!r->in_value)
        return 0;
    r->in_value = false;
    int rc = acr_headers_add(&r->resp->headers, r->field.p ? r->field.p : "", r->field.len,
                             r->value.p ? r->value.p : "", r->value.len);
    r->field.len = 0;
    r->value.len = 0;
    if (r->field.p)
        r->field.p[0] = 0;
    if (r->value.p)
        r->value.p[0] = 0;
    r->header_bytes += 4; /* ": " and CRLF */
    return rc == 0 ? 0 : fail_oom(r);
}

static int on_status(llhttp_t *p, const char *at, size_t len)
{
    (void)at;
    return count_header(p->data, len);
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
    struct rp *r = p->data;
    if (commit_header(r) != 0)
        return -1;
    acr_buf_add(&r->field, at, len);
    return count_header(r, len);
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
    struct rp *r = p->data;
    r->in_value = true;
    acr_buf_add(&r->value, at, len);
    return count_header(r, len);
}

static bool informational(int status) { return status >= 100 && status < 200 && status != 101; }

static int on_headers_complete(llhttp_t *p)
{
    struct rp *r = p->data;
    if (commit_header(r) != 0)
        return -1;
    r->resp->status = p->status_code;
    if (informational(p->status_code))
        return 0;
    if (r->follow && acr_http1_is_redirect(p->status_code) && acr_headers_get(&r->resp->headers, "Location")) {
        r->keep_body = false; /* only the final response's body is kept or saved */
        r->body_fd = 0;
    }
    if (r->decode && acr_decoder_init(&r->dec, acr_headers_get(&r->resp->headers, "Content-Encoding")) != 0)
        return fail_oom(r);
    /* HEAD, 204 and 304 responses have no body, whatever Content-Length says
     * (RFC 9110 §6.4.1); llhttp leaves that to its caller. */
    int st = p->status_code;
    return r->head || st == 204 || st == 304 ? 1 : 0;
}

static int sink(struct rp *r, const char *p, size_t n)
{
    acr_response *resp = r->resp;
    resp->body_bytes += n;
    if (r->lim->max_body && resp->body_bytes > r->lim->max_body)
        return fail_cb(r, ACR_ETOOLARGE, "body exceeds %llu bytes", (unsigned long long)r->lim->max_body);
    if (r->dec.active && resp->body_bytes > (1u << 20) && resp->body_bytes / (resp->raw_bytes + 1) > r->lim->max_ratio)
        return fail_cb(r, ACR_ETOOLARGE, "decompression ratio exceeds %llu", (unsigned long long)r->lim->max_ratio);
    if (r->keep_body)
        acr_buf_add(&r->body, p, n);
    while (r->body_fd > 0 && n > 0) {
        ssize_t w = write(r->body_fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return fail_cb(r, -errno, "cannot write body: errno %llu", (unsigned long long)errno);
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
    struct rp *r = p->data;
    r->resp->raw_bytes += len;
    if (!r->dec.active)
        return sink(r, at, len);
    /* Per thread, not per task: decoding never suspends, and a 16 KiB array on
     * every task's stack would cost 16 KiB of RSS per request in flight. */
    static __thread char out[16384];
    size_t outn;
    do {
        size_t before = len;
        int rc = acr_decoder_step(&r->dec, &at, &len, out, sizeof out, &outn, r->resp->message,
                                  sizeof r->resp->message);
        if (rc != 0) {
            r->error = rc;
            return -1;
        }
        if (outn > 0 && sink(r, out, outn) != 0)
            return -1;
        if (outn == 0 && len == before)
            break; /* zlib wants more input */
    } while (len > 0 || outn == sizeof out); /* a full buffer may leave output pending */
    return 0;
}

static int on_message_complete(llhttp_t *p)
{
    struct rp *r = p->data;
    if (informational(r->resp->status)) {
        if (++r->interim > MAX_INTERIM)
            return fail_cb(r, ACR_EPROTO, "too many 1xx responses (more than %llu)", MAX_INTERIM);
        acr_headers_release(&r->resp->headers); /* 100 Continue and friends: skip */
        r->resp->status = 0;
        r->header_bytes = 0;
        return 0;
    }
    r->complete = true;
    return HPE_PAUSED;
}

static int read_error(struct rp *r, int rc, const acr_http1_result *res)
{
    acr_response *resp = r->resp;
    if (rc == ACR_ERESET)
        snprintf(resp->message, sizeof resp->message, "%s",
                 res->got_bytes ? "connection reset by peer during the response"
                                : "connection reset before any response");
    else if (rc == ACR_ETIMEOUT)
        snprintf(resp->message, sizeof resp->message, "%s",
                 res->got_bytes ? "timed out while receiving the response" : "timed out waiting for the response");
    else if (rc == ACR_ECANCELED)
        snprintf(resp->message, sizeof resp->message, "cancelled");
    else if (!resp->message[0])
        snprintf(resp->message, sizeof resp->message, "%s", acr_strerror(rc));
    return rc;
}

static int at_eof(struct rp *r, const acr_http1_result *res)
{
    llhttp_errno_t e = llhttp_finish(&r->p);
    if (r->complete && (e == HPE_OK || e == HPE_PAUSED))
        return 0; /* close-delimited body */
    if (r->error)
        return r->error;
    acr_response *resp = r->resp;
    if (!res->got_bytes)
        snprintf(resp->message, sizeof resp->message, "server closed the connection without a response");
    else
        snprintf(resp->message, sizeof resp->message,
                 "connection closed before the response was complete (%llu body bytes received)",
                 (unsigned long long)resp->raw_bytes);
    return ACR_ERESET;
}

/* Built once: the parser keeps a pointer to it. */
static const llhttp_settings_t *settings(void)
{
    static llhttp_settings_t s;
    static bool ready;
    if (!ready) {
        llhttp_settings_init(&s);
        s.on_status = on_status;
        s.on_header_field = on_header_field;
        s.on_header_value = on_header_value;
        s.on_headers_complete = on_headers_complete;
        s.on_body = on_body;
        s.on_message_complete = on_message_complete;
        ready = true;
    }
    return &s;
}

static int parse_loop(struct rp *r, acr_stream *s, int64_t deadline, acr_http1_result *res)
{
    /* Shared by every task of the thread: bytes are only live between read() and
     * the end of llhttp_execute(), and nothing in between suspends. */
    static __thread char buf[16384];
    /* The response cannot be there yet: wait for it rather than read EAGAIN. */
    int rc = acr_stream_await(s, deadline);
    if (rc != 0)
        return read_error(r, rc, res);
    for (;;) {
        ssize_t n = acr_stream_read(s, buf, sizeof buf, deadline);
        if (n < 0)
            return read_error(r, (int)n, res);
        if (n == 0)
            return at_eof(r, res);
        if (!res->got_bytes) {
            res->got_bytes = true;
            res->first_byte = acr_now();
        }
        llhttp_errno_t e = llhttp_execute(&r->p, buf, (size_t)n);
        if (e == HPE_PAUSED) {
            /* Bytes past the response on a connection we did not pipeline: unsafe to reuse. */
            res->keep_alive = llhttp_get_error_pos(&r->p) == buf + n && llhttp_should_keep_alive(&r->p);
            return 0;
        }
        if (e != HPE_OK) {
            if (r->error)
                return r->error;
            snprintf(r->resp->message, sizeof r->resp->message, "invalid HTTP response: %s",
                     llhttp_get_error_reason(&r->p) ? llhttp_get_error_reason(&r->p) : llhttp_errno_name(e));
            return ACR_EPROTO;
        }
        /* A read that finds data never parks, so never meets the deadline in the
         * runtime: a peer that always has more (endless 1xx, an endless body) must
         * meet it here. One vDSO clock read per read(), not per byte. */
        if (acr_now() >= deadline)
            return read_error(r, ACR_ETIMEOUT, res);
    }
}

bool acr_http1_is_redirect(int status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

int acr_http1_response(acr_stream *s, const acr_http1_read *rd, int64_t deadline, acr_response *resp,
                       acr_http1_result *res)
{
    struct rp r = {.resp = resp, .lim = rd->lim, .head = !strcmp(rd->method, "HEAD"), .decode = rd->decode,
                   .keep_body = rd->keep_body, .body_fd = rd->body_fd, .follow = rd->follow};
    llhttp_init(&r.p, HTTP_RESPONSE, settings());
    r.p.data = &r;
    memset(res, 0, sizeof *res);
    int rc = parse_loop(&r, s, deadline, res);
    if (rc == 0 && r.dec.active)
        rc = acr_decoder_finish(&r.dec, resp->message, sizeof resp->message);
    if (rc == 0 && r.body.oom)
        rc = -ENOMEM;
    if (rc != 0)
        res->keep_alive = false;
    if (rd->keep_body) {
        free(resp->body);
        resp->body = r.body.p;
        resp->body_len = r.body.len;
        r.body.p = NULL;
    }
    acr_decoder_release(&r.dec);
    acr_buf_release(&r.field);
    acr_buf_release(&r.value);
    acr_buf_release(&r.body);
    return rc;
}
