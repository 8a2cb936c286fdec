/* redis.c -- a Redis client on the runtime: hiredis formats commands and parses
 * replies, acrawl's streams move the bytes, one batch per write behind a FIFO lock. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acrawl/error.h"
#include "acrawl/sync.h"
#include "acrawl/task.h"
#include "redis/redis.h"
#include "transport/dns.h"
#include "util/alloc.h"
#include "util/fmt.h"

#define DEFAULT_PORT 6379
#define READ_CHUNK (64 * 1024)

struct acr_redis {
    acr_redis_addr a;
    char where[300];            /* "host:port" for messages */
    acr_dns *dns;
    acr_sem *lock;              /* one batch on the wire at a time */
    acr_stream s;               /* fd -1 while disconnected */
    redisReader *rd;            /* a fresh one per connection */
    redisReplyObjectFunctions fns; /* hiredis's, with createArray bounded */
    void *(*create_array)(const redisReadTask *, int);
    bool too_large;             /* the reader failed on our bound, not on memory */
    size_t pending;             /* bytes fed since the last whole reply ended: the
                                 * reply in progress, and any after it */
    size_t max_reply;
    char *rbuf;                 /* READ_CHUNK bytes, off the task's stack */
    bool opened;                /* connected once: later connects are reconnects */
    acr_redis_stats st;
};

struct acr_redis_batch {
    char *out;                  /* the commands, encoded back to back */
    size_t len, cap;
    size_t n;                   /* commands */
    redisReply **replies;       /* n slots once exec ran */
    size_t nreplies, rcap;
};

/* ---- URLs ---- */

/* %-decodes p[0..n) into out (size cap, NUL-terminated). */
static int decode_part(const char *p, size_t n, char *out, size_t cap, const char *what, char *err, size_t errlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)p[i];
        if (c == '%') {
            int hi = i + 2 < n ? acr_hexval(p[i + 1]) : -1;
            int lo = i + 2 < n ? acr_hexval(p[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                snprintf(err, errlen, "redis URL: bad %%-escape in the %s", what);
                return -EINVAL;
            }
            c = hi * 16 + lo;
            i += 2;
        } else if (c < 0x21 || c == 0x7f) {
            snprintf(err, errlen, "redis URL: a space or control character in the %s", what);
            return -EINVAL;
        }
        if (o + 1 >= cap) {
            snprintf(err, errlen, "redis URL: the %s is longer than %zu bytes", what, cap - 1);
            return -EINVAL;
        }
        out[o++] = (char)c;
    }
    out[o] = 0;
    return 0;
}

/* Digits only, value in [lo, hi]. */
static int parse_number(const char *p, size_t n, unsigned long lo, unsigned long hi, unsigned *out)
{
    if (n == 0 || n > 10)
        return -EINVAL;
    unsigned long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -EINVAL;
        v = v * 10 + (unsigned long)(p[i] - '0');
    }
    if (v < lo || v > hi)
        return -EINVAL;
    *out = (unsigned)v;
    return 0;
}

static int parse_userinfo(const char *p, size_t n, acr_redis_addr *out, char *err, size_t errlen)
{
    const char *colon = memchr(p, ':', n);
    if (!colon)
        return decode_part(p, n, out->password, sizeof out->password, "password", err, errlen);
    int rc = decode_part(p, (size_t)(colon - p), out->user, sizeof out->user, "user", err, errlen);
    if (rc != 0)
        return rc;
    size_t un = (size_t)(colon - p) + 1;
    return decode_part(colon + 1, n - un, out->password, sizeof out->password, "password", err, errlen);
}

/* host[:port] or [v6][:port] */
static int parse_hostport(const char *p, size_t n, acr_redis_addr *out, char *err, size_t errlen)
{
    const char *host = p, *port = NULL;
    size_t hn = n;
    const char *colon = memchr(p, ':', n);
    if (n > 0 && p[0] != '[' && colon && memchr(colon + 1, ':', n - (size_t)(colon - p) - 1)) {
        snprintf(err, errlen, "redis URL: an IPv6 address wants brackets: [addr]:port");
        return -EINVAL;
    }
    if (n > 0 && p[0] == '[') {
        const char *close = memchr(p, ']', n);
        if (!close) {
            snprintf(err, errlen, "redis URL: '[' without ']' around the IPv6 address");
            return -EINVAL;
        }
        host = p + 1;
        hn = (size_t)(close - host);
        const char *after = close + 1;
        if (after < p + n && *after != ':') {
            snprintf(err, errlen, "redis URL: junk after the IPv6 address");
            return -EINVAL;
        }
        if (after < p + n)
            port = after + 1;
    } else {
        if (colon) {
            hn = (size_t)(colon - p);
            port = colon + 1;
        }
    }
    if (hn == 0) {
        snprintf(err, errlen, "redis URL: no host");
        return -EINVAL;
    }
    if (hn >= sizeof out->host) {
        snprintf(err, errlen, "redis URL: the host is longer than %zu bytes", sizeof out->host - 1);
        return -EINVAL;
    }
    for (size_t i = 0; i < hn; i++) {
        unsigned char c = (unsigned char)host[i];
        if (!isalnum(c) && c != '.' && c != '-' && c != '_' && c != ':') {
            snprintf(err, errlen, "redis URL: bad character '%c' in the host", isprint(c) ? c : '?');
            return -EINVAL;
        }
    }
    memcpy(out->host, host, hn);
    out->host[hn] = 0;
    out->port = DEFAULT_PORT;
    if (port && parse_number(port, (size_t)(p + n - port), 1, 65535, &out->port) != 0) {
        snprintf(err, errlen, "redis URL: the port must be 1-65535 in digits");
        return -EINVAL;
    }
    return 0;
}

static int parse_scheme(const char *url, const char **rest, char *err, size_t errlen)
{
    if (!strncasecmp(url, "redis://", 8)) {
        *rest = url + 8;
        return 0;
    }
    if (!strncasecmp(url, "rediss://", 9))
        snprintf(err, errlen, "redis URL: rediss:// (TLS) is not supported: use redis:// (a TLS tunnel "
                              "such as stunnel can carry it)");
    else if (!strncasecmp(url, "unix://", 7) || !strncasecmp(url, "redis+unix://", 13))
        snprintf(err, errlen, "redis URL: Unix sockets are not supported: use redis://host:port");
    else
        snprintf(err, errlen, "redis URL: wants redis://[[user]:password@]host[:port][/db]");
    return -EINVAL;
}

int acr_redis_parse_url(const char *url, acr_redis_addr *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *p;
    int rc = parse_scheme(url, &p, err, errlen);
    if (rc != 0)
        return rc;
    if (strpbrk(p, "?#")) {
        snprintf(err, errlen, "redis URL: query strings and fragments are not supported");
        return -EINVAL;
    }
    /* The db is digits, so the last '@' ends the userinfo even when a password
     * holds an unencoded '@'. */
    const char *at = strrchr(p, '@');
    if (at) {
        rc = parse_userinfo(p, (size_t)(at - p), out, err, errlen);
        if (rc != 0)
            return rc;
        p = at + 1;
    }
    const char *slash = strchr(p, '/');
    size_t hpn = slash ? (size_t)(slash - p) : strlen(p);
    rc = parse_hostport(p, hpn, out, err, errlen);
    if (rc != 0)
        return rc;
    if (slash && slash[1] && parse_number(slash + 1, strlen(slash + 1), 0, 2147483647, &out->db) != 0) {
        snprintf(err, errlen, "redis URL: the db must be a number (redis://host:port/0)");
        return -EINVAL;
    }
    return 0;
}

/* ---- batches ---- */

acr_redis_batch *acr_redis_batch_new(void) { return acr_calloc(1, sizeof(acr_redis_batch)); }

static void drop_replies(acr_redis_batch *b)
{
    for (size_t i = 0; i < b->nreplies; i++)
        freeReplyObject(b->replies[i]);
    b->nreplies = 0;
}

void acr_redis_batch_clear(acr_redis_batch *b)
{
    drop_replies(b);
    b->len = 0;
    b->n = 0;
}

void acr_redis_batch_free(acr_redis_batch *b)
{
    if (!b)
        return;
    drop_replies(b);
    free(b->replies);
    free(b->out);
    free(b);
}

size_t acr_redis_count(const acr_redis_batch *b) { return b->n; }

const redisReply *acr_redis_reply(const acr_redis_batch *b, size_t i)
{
    return i < b->nreplies ? b->replies[i] : NULL;
}

/* Takes cmd (hiredis's malloc'd encoding of len bytes) into the batch. */
static int append_cmd(acr_redis_batch *b, char *cmd, size_t len)
{
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + len)
            cap *= 2;
        char *out = acr_realloc(b->out, cap);
        if (!out) {
            redisFreeCommand(cmd);
            return -ENOMEM;
        }
        b->out = out;
        b->cap = cap;
    }
    memcpy(b->out + b->len, cmd, len);
    b->len += len;
    b->n++;
    redisFreeCommand(cmd);
    return 0;
}

int acr_redis_add(acr_redis_batch *b, int argc, const char *const *argv, const size_t *lens)
{
    if (argc < 1)
        return -EINVAL;
    char *cmd = NULL;
    /* hiredis takes const char ** and only reads through it. */
    int len = redisFormatCommandArgv(&cmd, argc, (const char **)argv, lens);
    if (len < 0)
        return -ENOMEM;
    return append_cmd(b, cmd, (size_t)len);
}

int acr_redis_addf(acr_redis_batch *b, const char *fmt, ...)
{
    char *cmd = NULL;
    va_list ap;
    va_start(ap, fmt);
    int len = redisvFormatCommand(&cmd, fmt, ap);
    va_end(ap);
    if (len == -2)
        return -EINVAL; /* hiredis: a bad format */
    if (len < 0)
        return -ENOMEM;
    if (len <= 4) { /* "*0\r\n": a format without any argument */
        redisFreeCommand(cmd);
        return -EINVAL;
    }
    return append_cmd(b, cmd, (size_t)len);
}

/* ---- the connection ---- */

/* The one place a connection ends: every later exec reconnects first. */
static void conn_drop(acr_redis *r)
{
    acr_stream_close(&r->s);
    if (r->rd)
        redisReaderFree(r->rd);
    r->rd = NULL;
    r->pending = 0;
}

/* hiredis allocates an array's element pointers as soon as it reads the count: a
 * count from a broken server must not reach calloc (hiredis 0.14 aborts on OOM). */
static void *bounded_array(const redisReadTask *task, int elements)
{
    acr_redis *r = task->privdata;
    if (elements < 0 || (size_t)elements > r->max_reply / sizeof(void *)) {
        r->too_large = true;
        return NULL; /* the reader fails with "out of memory": we know better */
    }
    return r->create_array(task, elements);
}

static int reader_new(acr_redis *r)
{
    r->rd = redisReaderCreate();
    if (!r->rd)
        return -ENOMEM;
    r->fns = *r->rd->fn;
    r->create_array = r->fns.createArray;
    r->fns.createArray = bounded_array;
    r->rd->fn = &r->fns;
    r->rd->privdata = r;
    r->too_large = false;
    r->pending = 0;
    return 0;
}

static int fail(acr_redis *r, int rc, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* err = "redis host:port: " + the message; returns rc. */
static int fail(acr_redis *r, int rc, char *err, size_t errlen, const char *fmt, ...)
{
    int n = snprintf(err, errlen, "redis %s: ", r->where);
    if (n >= 0 && (size_t)n < errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static const char *io_words(int rc)
{
    switch (rc) {
    case ACR_ETIMEOUT:
        return "no answer by the deadline";
    case ACR_ERESET:
        return "connection reset";
    case ACR_ECANCELED:
        return "cancelled";
    default:
        return acr_strerror(rc);
    }
}

/* Feeds n bytes of rbuf to the reader and moves whole replies into b. */
static int take_replies(acr_redis *r, acr_redis_batch *b, size_t n, char *err, size_t errlen)
{
    if (redisReaderFeed(r->rd, r->rbuf, n) != REDIS_OK)
        return fail(r, -ENOMEM, err, errlen, "out of memory for replies");
    r->pending += n;
    while (b->nreplies < b->n) {
        void *reply = NULL;
        if (redisReaderGetReply(r->rd, &reply) != REDIS_OK) {
            if (r->too_large)
                return fail(r, -EPROTO, err, errlen, "an array reply of more elements than the %zu-byte limit allows",
                            r->max_reply);
            return fail(r, -EPROTO, err, errlen, "bad reply: %s", r->rd->errstr);
        }
        if (!reply)
            break;
        b->replies[b->nreplies++] = reply;
        size_t rest = r->rd->len - r->rd->pos; /* later replies' bytes */
        if (r->pending - rest > r->max_reply)
            return fail(r, -EPROTO, err, errlen, "a reply larger than the %zu-byte limit", r->max_reply);
        r->pending = rest;
    }
    if (r->pending > r->max_reply)
        return fail(r, -EPROTO, err, errlen, "a reply larger than the %zu-byte limit", r->max_reply);
    if (b->nreplies == b->n && r->rd->len > r->rd->pos)
        return fail(r, -EPROTO, err, errlen, "bytes after the last reply (SUBSCRIBE or MONITOR in a batch?)");
    return 0;
}

/* Writes b->out and reads b->n replies, both as far as the socket allows, until
 * every reply is in: the server works on the first commands while the rest are on
 * their way, and nothing waits on a full buffer in either direction. */
static int transfer(acr_redis *r, acr_redis_batch *b, int64_t deadline, char *err, size_t errlen)
{
    size_t off = 0;
    while (b->nreplies < b->n) {
        if (off < b->len) {
            ssize_t w = acr_stream_write_some(&r->s, b->out + off, b->len - off, ACR_NOWAIT);
            if (w < 0 && w != -EAGAIN)
                return fail(r, (int)w, err, errlen, "sending: %s", io_words((int)w));
            if (w > 0) {
                off += (size_t)w;
                r->st.bytes_out += (uint64_t)w;
            }
        }
        ssize_t n = acr_stream_read(&r->s, r->rbuf, READ_CHUNK, ACR_NOWAIT);
        if (n == 0)
            return fail(r, ACR_ERESET, err, errlen, "connection closed by the server after %zu of %zu replies",
                        b->nreplies, b->n);
        if (n < 0 && n != -EAGAIN)
            return fail(r, (int)n, err, errlen, "after %zu of %zu replies: %s", b->nreplies, b->n, io_words((int)n));
        int rc;
        if (n > 0) {
            r->st.bytes_in += (uint64_t)n;
            rc = take_replies(r, b, (size_t)n, err, errlen);
            if (rc != 0)
                return rc;
            if (b->nreplies == b->n)
                break;
            rc = acr_checkpoint(deadline); /* a busy socket must not starve the loop */
        } else {
            unsigned ev = off < b->len ? ACR_READABLE | ACR_WRITABLE : ACR_READABLE;
            rc = acr_stream_wait(&r->s, ev, deadline);
        }
        if (rc != 0)
            return fail(r, rc, err, errlen, "after %zu of %zu replies: %s", b->nreplies, b->n, io_words(rc));
    }
    return 0;
}

/* Makes room for b's replies (dropping those of an earlier exec). */
static int reply_slots(acr_redis_batch *b)
{
    drop_replies(b);
    if (b->rcap >= b->n)
        return 0;
    redisReply **rs = acr_realloc(b->replies, b->n * sizeof *rs);
    if (!rs)
        return -ENOMEM;
    b->replies = rs;
    b->rcap = b->n;
    return 0;
}

/* A hello answer that is an error: which code, and the words for it. */
static int hello_error(acr_redis *r, const char *step, const redisReply *rep, char *err, size_t errlen)
{
    const char *s = rep->str;
    int rc = -EPROTO;
    if (!strncmp(s, "WRONGPASS", 9) || !strncmp(s, "NOAUTH", 6) || !strncmp(s, "NOPERM", 6) ||
        !strncmp(s, "DENIED", 6) || strstr(s, "invalid password") || strstr(s, "without any password"))
        rc = -EACCES;
    else if (!strncmp(s, "LOADING", 7) || !strncmp(s, "BUSY", 4) || !strncmp(s, "MASTERDOWN", 10) ||
             strstr(s, "max number of clients"))
        rc = -EAGAIN;
    else if (!strcmp(step, "SELECT"))
        rc = -EINVAL;
    return fail(r, rc, err, errlen, "%s refused: %s", step, s);
}

/* AUTH, SELECT and PING in one write; each answer checked in that order. */
static int hello(acr_redis *r, int64_t deadline, char *err, size_t errlen)
{
    acr_redis_batch b = {0};
    const char *steps[3];
    size_t n = 0;
    int rc = 0;
    if (r->a.user[0]) {
        rc = acr_redis_addf(&b, "AUTH %s %s", r->a.user, r->a.password);
        steps[n++] = "AUTH";
    } else if (r->a.password[0]) {
        rc = acr_redis_addf(&b, "AUTH %s", r->a.password);
        steps[n++] = "AUTH";
    }
    if (rc == 0 && r->a.db != 0) {
        rc = acr_redis_addf(&b, "SELECT %u", r->a.db);
        steps[n++] = "SELECT";
    }
    if (rc == 0) {
        rc = acr_redis_addf(&b, "PING");
        steps[n++] = "PING";
    }
    if (rc == 0)
        rc = reply_slots(&b);
    if (rc != 0) {
        fail(r, rc, err, errlen, "%s", acr_strerror(rc));
        goto out;
    }
    rc = transfer(r, &b, deadline, err, errlen);
    if (rc == ACR_ETIMEOUT)
        fail(r, rc, err, errlen, "no answer to %s by the deadline (is it Redis?)", steps[n - 1]);
    else if (rc == ACR_ERESET)
        fail(r, rc, err, errlen, "closed by the server before answering %s", steps[0]);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const redisReply *rep = b.replies[i];
        if (rep->type == REDIS_REPLY_ERROR)
            rc = hello_error(r, steps[i], rep, err, errlen);
        else if (rep->type != REDIS_REPLY_STATUS)
            rc = fail(r, -EPROTO, err, errlen, "%s: an answer of the wrong type (not Redis?)", steps[i]);
    }
    if (rc == 0 && strcmp(b.replies[n - 1]->str, "PONG") != 0)
        rc = fail(r, -EPROTO, err, errlen, "PING answered '%.40s' (not Redis?)", b.replies[n - 1]->str);
out:
    drop_replies(&b);
    free(b.replies);
    free(b.out);
    return rc;
}

/* Resolves, connects and says hello; on failure the connection stays closed. */
static int conn_open(acr_redis *r, int64_t deadline, char *err, size_t errlen)
{
    char msg[200] = "";
    acr_addrs addrs;
    int rc = acr_dns_resolve(r->dns, r->a.host, (uint16_t)r->a.port, deadline, &addrs, msg, sizeof msg);
    if (rc == 0)
        rc = acr_tcp_connect(&r->s, &addrs, deadline, deadline, msg, sizeof msg);
    if (rc != 0)
        return fail(r, rc, err, errlen, "%s", msg[0] ? msg : acr_strerror(rc));
    rc = reader_new(r);
    if (rc == 0)
        rc = hello(r, deadline, err, errlen);
    else
        fail(r, rc, err, errlen, "%s", acr_strerror(rc));
    if (rc != 0) {
        conn_drop(r);
        return rc;
    }
    if (r->opened)
        r->st.reconnects++;
    r->opened = true;
    return 0;
}

int acr_redis_open(acr_redis **out, const acr_redis_addr *a, int64_t deadline, char *err, size_t errlen)
{
    if (!acr_task_self())
        return ACR_ENOTASK;
    acr_redis *r = acr_calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->a = *a;
    if (r->a.port == 0)
        r->a.port = DEFAULT_PORT;
    bool v6 = strchr(a->host, ':') != NULL;
    snprintf(r->where, sizeof r->where, v6 ? "[%s]:%u" : "%s:%u", r->a.host, r->a.port);
    r->s = (acr_stream){.fd = -1};
    r->max_reply = ACR_REDIS_MAX_REPLY;
    r->lock = acr_sem_new(1);
    r->rbuf = acr_malloc(READ_CHUNK);
    int rc = r->lock && r->rbuf ? 0 : -ENOMEM;
    char msg[200] = "";
    if (rc == 0)
        rc = acr_dns_new(&r->dns, NULL, msg, sizeof msg);
    if (rc != 0) {
        fail(r, rc, err, errlen, "%s", msg[0] ? msg : acr_strerror(rc));
        acr_redis_close(r);
        return rc;
    }
    rc = conn_open(r, deadline, err, errlen);
    if (rc != 0) {
        acr_redis_close(r);
        return rc;
    }
    *out = r;
    return 0;
}

void acr_redis_close(acr_redis *r)
{
    if (!r)
        return;
    conn_drop(r);
    acr_dns_free(r->dns);
    acr_sem_free(r->lock);
    free(r->rbuf);
    free(r);
}

void acr_redis_set_max_reply(acr_redis *r, size_t max) { r->max_reply = max; }

int acr_redis_connected(const acr_redis *r) { return r->s.fd >= 0; }

void acr_redis_stats_get(const acr_redis *r, acr_redis_stats *out) { *out = r->st; }

/* With the lock held: a live connection, reopened when a failure closed it or the
 * server closed it while idle (nothing is lost: nothing was sent on it). */
static int conn_ready(acr_redis *r, int64_t deadline, char *err, size_t errlen)
{
    if (r->s.fd >= 0 && acr_stream_dead(&r->s))
        conn_drop(r);
    if (r->s.fd >= 0)
        return 0;
    return conn_open(r, deadline, err, errlen);
}

int acr_redis_exec(acr_redis *r, acr_redis_batch *b, int64_t deadline, char *err, size_t errlen)
{
    if (!acr_task_self())
        return ACR_ENOTASK;
    if (errlen > 0)
        err[0] = 0;
    int rc = reply_slots(b);
    if (rc != 0)
        return fail(r, rc, err, errlen, "%s", acr_strerror(rc));
    if (b->n == 0)
        return 0;
    rc = acr_sem_acquire(r->lock, deadline);
    if (rc != 0)
        return fail(r, rc, err, errlen, "waiting for the connection: %s", io_words(rc));
    rc = conn_ready(r, deadline, err, errlen);
    if (rc == 0) {
        r->st.batches++;
        r->st.commands += b->n;
        rc = transfer(r, b, deadline, err, errlen);
        if (rc != 0)
            conn_drop(r); /* the rest of the replies would answer the next batch */
    }
    acr_sem_release(r->lock);
    return rc;
}
