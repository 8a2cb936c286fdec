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
/* A chunk-size line with its extensions, at most (curl and llhttp set none; a line
 * that never ends must not grow a buffer without bound). */
#define MAX_CHUNK_LINE 8192

struct rp {
    llhttp_t p;
    acr_response *resp;
    const acr_http1_limits *lim;
    acr_buf field, value;
    bool in_value;
    size_t header_bytes;
    bool head, decode, keep_body, complete, follow;
    acr_body_sink *sink;
    void *sink_arg;
    acr_decoder dec;
    acr_buf body;
    int error;
    unsigned interim;       /* 1xx responses skipped so far */
    bool chunk_line;        /* llhttp is paused where a chunk-size line starts */
    bool last_chunk;        /* the 0-size chunk was seen: no more size lines */
    acr_buf line;           /* a chunk-size line split across reads */
    bool interim_done;      /* llhttp is paused after a 1xx response */
    const acr_tap *tap;
    void *tap_arg;
};

/* The tap sees every byte the parser consumed, in order. */
static void tap_bytes(struct rp *r, const char *p, size_t n)
{
    if (r->tap && r->tap->response && n > 0)
        r->tap->response(r->tap_arg, p, n);
}

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

/* Hands control back to the read loop where a chunk-size line starts, so that the
 * loop can judge the line's extensions itself (see chunk_line). */
static int at_chunk_line(struct rp *r)
{
    r->chunk_line = true;
    return HPE_PAUSED;
}

static int on_chunk_header(llhttp_t *p)
{
    struct rp *r = p->data;
    if (p->content_length == 0)
        r->last_chunk = true;
    return 0;
}

/* llhttp calls this after each chunk's data, and after the trailers for the last. */
static int on_chunk_complete(llhttp_t *p)
{
    struct rp *r = p->data;
    return r->last_chunk ? 0 : at_chunk_line(r);
}

static int on_headers_complete(llhttp_t *p)
{
    struct rp *r = p->data;
    if (commit_header(r) != 0)
        return -1;
    /* llhttp 8 takes "HTTP/1.1 99 X" and even an empty status as 0; RFC 9112 §4
     * says three digits, and 0 means "no response" to acrawl. */
    if (p->status_code < 100 || p->status_code > 999)
        return fail_cb(r, ACR_EPROTO, "invalid status code %llu (three digits expected)",
                       (unsigned long long)p->status_code);
    r->resp->status = p->status_code;
    if (informational(p->status_code))
        return 0;
    if (r->follow && acr_http1_is_redirect(p->status_code) && acr_headers_get(&r->resp->headers, "Location")) {
        r->keep_body = false; /* only the final response's body is kept or sunk */
        r->sink = NULL;
    }
    if (r->decode && acr_decoder_init(&r->dec, acr_headers_get(&r->resp->headers, "Content-Encoding")) != 0)
        return fail_oom(r);
    /* HEAD, 204 and 304 responses have no body, whatever Content-Length says
     * (RFC 9110 §6.4.1); llhttp leaves that to its caller. */
    int st = p->status_code;
    if (r->head || st == 204 || st == 304)
        return 1;
    return p->flags & F_CHUNKED ? at_chunk_line(r) : 0;
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
    if (!r->sink)
        return 0;
    int rc = r->sink(r->sink_arg, p, n, resp->message, sizeof resp->message);
    if (rc == 0)
        return 0;
    r->error = rc;
    return -1;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
    struct rp *r = p->data;
    r->resp->raw_bytes += len;
    if (r->tap && r->tap->payload)
        r->tap->payload(r->tap_arg, at, len);
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
        if (!r->tap)
            return 0;
        r->interim_done = true; /* the tap is told where the 1xx response ends */
        return HPE_PAUSED;
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
        s.on_chunk_header = on_chunk_header;
        s.on_chunk_complete = on_chunk_complete;
        ready = true;
    }
    return &s;
}

/* ---- chunk-size lines ----
 * llhttp 8.1 rejects "6;a=b;c=d" (a token value followed by another extension),
 * which RFC 9112 §7.1.1 allows and curl accepts; it was fixed upstream after 8.1.
 * So the read loop stops llhttp where each chunk-size line starts, checks the
 * extensions against the RFC grammar here, and gives llhttp the size digits and
 * the line ending only. llhttp still judges the size and the framing. */

static bool tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static size_t token_len(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && tchar((unsigned char)p[i]))
        i++;
    return i;
}

/* HTAB, SP, VCHAR, obs-text: what may follow a backslash in a quoted-string. */
static bool pair_char(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

static bool qdtext(unsigned char c) { return pair_char(c) && c != '"' && c != '\\'; }

/* Length of the quoted-string at p (both quotes included), or 0 if there is none. */
static size_t quoted_len(const char *p, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '"')
            return i + 1;
        if (c == '\\' && i + 1 < n && pair_char((unsigned char)p[i + 1]))
            i++;
        else if (!qdtext(c))
            return 0;
    }
    return 0;
}

static size_t bws_len(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    return i;
}

/* chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ) */
static bool chunk_ext_valid(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        i += bws_len(p + i, n - i);
        if (i == n || p[i] != ';')
            return false;
        i++;
        i += bws_len(p + i, n - i);
        size_t name = token_len(p + i, n - i);
        if (name == 0)
            return false;
        i += name;
        size_t eq = i + bws_len(p + i, n - i);
        if (eq == n || p[eq] != '=')
            continue;
        i = eq + 1;
        i += bws_len(p + i, n - i);
        size_t val = i < n && p[i] == '"' ? quoted_len(p + i, n - i) : token_len(p + i, n - i);
        if (val == 0)
            return false;
        i += val;
    }
    return true;
}

static int parse_error(struct rp *r, llhttp_errno_t e)
{
    if (r->error)
        return r->error;
    const char *why = llhttp_get_error_reason(&r->p);
    snprintf(r->resp->message, sizeof r->resp->message, "invalid HTTP response: %s",
             why ? why : llhttp_errno_name(e));
    return ACR_EPROTO;
}

static bool hexdig(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A whole chunk-size line, without its line ending: the size digits go to llhttp,
 * the extensions are checked and dropped. */
static int chunk_size(struct rp *r, const char *line, size_t len)
{
    size_t hex = 0;
    while (hex < len && hexdig((unsigned char)line[hex]))
        hex++;
    if (hex < len && !chunk_ext_valid(line + hex, len - hex)) {
        /* The line itself stays out of the message: it may hold tabs, and records are tab-separated. */
        snprintf(r->resp->message, sizeof r->resp->message, "invalid HTTP response: invalid chunk extension");
        return ACR_EPROTO;
    }
    llhttp_errno_t e = hex ? llhttp_execute(&r->p, line, hex) : HPE_OK;
    return e == HPE_OK ? 0 : parse_error(r, e);
}

/* Takes bytes of a chunk-size line up to (not including) its CR or LF; *used says
 * how many. The line is copied only when a read splits it. */
static int chunk_line(struct rp *r, const char *buf, size_t n, size_t *used)
{
    size_t k = 0;
    while (k < n && buf[k] != '\r' && buf[k] != '\n')
        k++;
    *used = k;
    if (r->line.len + k > MAX_CHUNK_LINE) {
        snprintf(r->resp->message, sizeof r->resp->message, "invalid HTTP response: chunk-size line over %d bytes",
                 MAX_CHUNK_LINE);
        return ACR_EPROTO;
    }
    if (k == n || r->line.len > 0)
        acr_buf_add(&r->line, buf, k);
    if (r->line.oom)
        return fail_oom(r);
    if (k == n)
        return 0; /* the rest of the line is in the next read */
    r->chunk_line = false;
    bool copied = r->line.len > 0;
    int rc = chunk_size(r, copied ? r->line.p : buf, copied ? r->line.len : k);
    r->line.len = 0;
    return rc;
}

/* Runs llhttp over n bytes, stepping in at each chunk-size line. 0: more bytes
 * wanted; 1: the response is complete; or an error code with the message set. */
static int feed(struct rp *r, const char *buf, size_t n, acr_http1_result *res)
{
    while (n > 0) {
        if (r->chunk_line) {
            size_t used = 0;
            int rc = chunk_line(r, buf, n, &used);
            tap_bytes(r, buf, used);
            if (rc != 0)
                return rc;
            buf += used;
            n -= used;
            continue;
        }
        llhttp_errno_t e = llhttp_execute(&r->p, buf, n);
        if (e == HPE_OK) {
            tap_bytes(r, buf, n);
            return 0;
        }
        const char *pos = llhttp_get_error_pos(&r->p);
        tap_bytes(r, buf, pos && pos >= buf && pos <= buf + n ? (size_t)(pos - buf) : 0);
        if (e != HPE_PAUSED)
            return parse_error(r, e);
        if (r->interim_done) {
            r->interim_done = false;
            if (r->tap->interim)
                r->tap->interim(r->tap_arg);
        }
        if (r->complete) {
            /* Bytes past the response on a connection we did not pipeline: unsafe to reuse. */
            res->keep_alive = pos == buf + n && llhttp_should_keep_alive(&r->p);
            return 1;
        }
        llhttp_resume(&r->p); /* paused at a chunk-size line */
        n -= (size_t)(pos - buf);
        buf = pos;
    }
    return 0;
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
        rc = feed(r, buf, (size_t)n, res);
        if (rc != 0)
            return rc > 0 ? 0 : rc;
        /* A read that finds data never parks: a peer that always has more (endless
         * 1xx, an endless body) meets the deadline and the cancel here, and the
         * other tasks get their turn. One clock read per read(), not per byte. */
        rc = acr_checkpoint(deadline);
        if (rc != 0)
            return read_error(r, rc, res);
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
                   .keep_body = rd->keep_body, .sink = rd->sink, .sink_arg = rd->sink_arg, .follow = rd->follow,
                   .tap = rd->tap, .tap_arg = rd->tap_arg};
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
    acr_buf_release(&r.line);
    return rc;
}
