/* curlengine.c -- list mode through libcurl multi: up to -c easy handles in flight,
 * each finished transfer turned into an acrawl record. */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acrawl/error.h"
#include "acrawl/loop.h"
#include "acrawl/url.h"
#include "curlengine.h"
#include "runtime/check.h"
#include "util/alloc.h"

struct xfer {
    CURL *easy;
    acr_record *rec;
    uint64_t bytes;
    char errbuf[CURL_ERROR_SIZE];
    struct xfer *next;          /* free list */
    struct xfer *all;           /* every transfer, for stop and free */
};

struct acr_curl_engine {
    acr_job_opts o;
    acr_input *in;
    CURLM *multi;
    struct curl_slist *headers, *resolve;
    struct xfer *xfers, *free;
    unsigned active;
    bool input_done, stopping;
    char input_error[256];      /* why input could not be read to the end, or "" */
    /* Finished records not yet handed out: a ring of 2 x concurrency, allocated once.
     * refill adds while fewer than concurrency wait, and a reap or a stop adds at most
     * one per transfer in flight, so it never fills (and pushing never allocates). */
    acr_record **ready;
    size_t head, nready, capready;
    acr_record_src src;         /* the records, one per input line */
    char ua[64];
};

static size_t on_write(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    struct xfer *x = arg;
    x->bytes += size * n;
    return size * n;
}

static void push_ready(acr_curl_engine *e, acr_record *r)
{
    ACR_ASSERT(e->nready < e->capready, "the ready ring holds 2 x concurrency records at most");
    e->ready[(e->head + e->nready++) % e->capready] = r;
}

static acr_record *shift_ready(acr_curl_engine *e)
{
    acr_record *r = e->ready[e->head];
    e->head = (e->head + 1) % e->capready;
    e->nready--;
    return r;
}

static int kind_of(CURLcode c, long oserr)
{
    switch (c) {
    case CURLE_OK: return 0;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL: return ACR_EBADURL;
    case CURLE_COULDNT_RESOLVE_HOST: return ACR_EDNS;
    case CURLE_COULDNT_CONNECT: return oserr == ECONNREFUSED ? ACR_EREFUSED : ACR_ECONNECT;
    case CURLE_OPERATION_TIMEDOUT: return ACR_ETIMEOUT;
    case CURLE_PEER_FAILED_VERIFICATION: return ACR_ETLSVERIFY;
    case CURLE_SSL_CONNECT_ERROR: return ACR_ETLSHANDSHAKE;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING: return ACR_ERESET;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING: return ACR_EPROTO;
    case CURLE_TOO_MANY_REDIRECTS: return ACR_EREDIRLOOP;
    case CURLE_FILESIZE_EXCEEDED: return ACR_ETOOLARGE;
    default: return ACR_EPROTO;
    }
}

static int64_t info_us(CURL *h, CURLINFO what)
{
    curl_off_t v = 0;
    curl_easy_getinfo(h, what, &v);
    return (int64_t)v * 1000;
}

/* The last response's headers, for -w templates that show them. */
static void keep_headers(CURL *h, acr_record *r)
{
    acr_headers hs = {0};
    struct curl_header *prev = NULL, *hd;
    while ((hd = curl_easy_nextheader(h, CURLH_HEADER, -1, prev)) != NULL) {
        if (acr_headers_add(&hs, hd->name, strlen(hd->name), hd->value, strlen(hd->value)) != 0)
            break;
        prev = hd;
    }
    acr_record_set_headers(r, &hs);
    acr_headers_release(&hs);
}

/* Where the last connection went, and which phases completed (libcurl leaves the
 * time of a phase that did not happen at 0). */
static void connection_info(CURL *h, acr_record *r, int64_t dns, int64_t conn, int64_t app)
{
    char *ip = NULL, *scheme = NULL;
    long port = 0;
    curl_easy_getinfo(h, CURLINFO_PRIMARY_IP, &ip);
    curl_easy_getinfo(h, CURLINFO_PRIMARY_PORT, &port);
    curl_easy_getinfo(h, CURLINFO_SCHEME, &scheme);
    acr_record_set_remote(r, ip, (unsigned)port);
    if (scheme)
        r->scheme = strcasecmp(scheme, "https") ? "HTTP" : "HTTPS";
    r->t.phases = (dns > 0 ? ACR_PHASE_DNS : 0) | (conn > 0 ? ACR_PHASE_CONNECT : 0) | (app > 0 ? ACR_PHASE_TLS : 0);
    r->t.redirect = info_us(h, CURLINFO_REDIRECT_TIME_T);
}

static void finish(acr_curl_engine *e, struct xfer *x, CURLcode code)
{
    acr_record *r = x->rec;
    long status = 0, oserr = 0, redirs = 0;
    char *eff = NULL;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &oserr);
    curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_COUNT, &redirs);
    curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &eff);
    int64_t dns = info_us(x->easy, CURLINFO_NAMELOOKUP_TIME_T);
    int64_t conn = info_us(x->easy, CURLINFO_CONNECT_TIME_T);
    int64_t app = info_us(x->easy, CURLINFO_APPCONNECT_TIME_T);
    r->t.dns = dns;
    r->t.connect = conn > dns ? conn - dns : 0;
    r->t.tls = app > conn ? app - conn : 0;
    r->t.ttfb = info_us(x->easy, CURLINFO_STARTTRANSFER_TIME_T);
    r->t.total = info_us(x->easy, CURLINFO_TOTAL_TIME_T);
    connection_info(x->easy, r, dns, conn, app);
    r->end = acr_now();
    r->redirects = (unsigned)redirs;
    r->final_url = eff ? acr_strdup(eff) : NULL;
    curl_off_t raw = 0; /* as received, before content decoding; x->bytes is after */
    curl_easy_getinfo(x->easy, CURLINFO_SIZE_DOWNLOAD_T, &raw);
    r->raw_bytes = (uint64_t)raw;
    r->body_bytes = x->bytes;
    if (e->o.keep_headers)
        keep_headers(x->easy, r);
    r->attempt = 1;
    r->status = (int)status;
    if (code != CURLE_OK) {
        acr_record_fail(r, kind_of(code, oserr), x->errbuf[0] ? x->errbuf : curl_easy_strerror(code));
        if (code == CURLE_ABORTED_BY_CALLBACK)
            acr_record_fail(r, ACR_ECANCELED, "cancelled");
    }
    curl_multi_remove_handle(e->multi, x->easy);
    x->rec = NULL;
    x->next = e->free;
    e->free = x;
    e->active--;
    push_ready(e, r);
}

static void setup_easy(acr_curl_engine *e, struct xfer *x)
{
    CURL *h = x->easy;
    const acr_job_opts *o = &e->o;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, x->rec->url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, e->ua);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(o->timeout / ACR_MSEC));
    if (o->client.connect_timeout)
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(o->client.connect_timeout / ACR_MSEC));
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, o->req.follow ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)(o->req.max_redirs ? o->req.max_redirs : 10));
    if (o->req.decode)
        curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "gzip, deflate");
    if (o->client.insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (o->client.cacert)
        curl_easy_setopt(h, CURLOPT_CAINFO, o->client.cacert);
    if (o->client.max_body_bytes)
        curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->client.max_body_bytes);
    if (e->headers)
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, e->headers);
    if (e->resolve)
        curl_easy_setopt(h, CURLOPT_RESOLVE, e->resolve);
    if (o->req.method)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, o->req.method);
    if (o->req.method && !strcmp(o->req.method, "HEAD"))
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    if (o->req.body_len) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, o->req.body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->req.body_len);
    }
    x->bytes = 0;
    x->errbuf[0] = 0;
}

/* Starts the transfer for r, or fails r with -ENOMEM. */
static void start(acr_curl_engine *e, acr_record *r)
{
    struct xfer *x = e->free;
    if (x) {
        e->free = x->next;
    } else {
        x = acr_calloc(1, sizeof *x);
        if (!x || !(x->easy = curl_easy_init())) {
            free(x);
            acr_record_fail(r, -ENOMEM, "out of memory: cannot start a transfer");
            push_ready(e, r);
            return;
        }
        x->all = e->xfers;
        e->xfers = x;
    }
    x->rec = r;
    r->start = acr_now();
    setup_easy(e, x);
    curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
    curl_multi_add_handle(e->multi, x->easy);
    e->active++;
}

/* One input line to its record: a transfer, or at once bad-url, out of memory, or
 * (once stopping) cancelled. */
static void take_line(acr_curl_engine *e, uint64_t line, const char *text, int read_rc)
{
    acr_record *r = acr_record_src_next(&e->src, line, text);
    if (!r)
        return; /* counted in src.lost */
    if (r->error) {
        push_ready(e, r);
        return;
    }
    acr_url u;
    char msg[256];
    int bad = acr_input_url(line, text, read_rc, &u, msg, sizeof msg);
    if (bad != 0) {
        acr_record_fail(r, bad, msg);
        push_ready(e, r);
        return;
    }
    acr_url_release(&u);
    if (e->stopping) {
        acr_record_fail(r, ACR_ECANCELED, "cancelled before it started");
        push_ready(e, r);
        return;
    }
    start(e, r);
}

/* Reads input until -c transfers are in flight or -c records wait. Once stopping,
 * finite input is still read to the end (a cancelled record per line, -c at a
 * time); a pipe or terminal is left unread. */
static void refill(acr_curl_engine *e)
{
    while (!e->input_done && e->nready < e->o.concurrency && (e->stopping || e->active < e->o.concurrency)) {
        if (e->stopping && !acr_input_finite(e->in)) {
            e->input_done = true;
            break;
        }
        uint64_t line;
        const char *text;
        char err[256];
        int rc = acr_input_next(e->in, &line, &text, err, sizeof err);
        if (rc == 0 || (rc < 0 && rc != ACR_ETOOLARGE)) {
            if (rc < 0)
                snprintf(e->input_error, sizeof e->input_error, "%s", err);
            e->input_done = true;
            break;
        }
        take_line(e, line, text, rc);
    }
}

static void reap(acr_curl_engine *e)
{
    int left;
    CURLMsg *m;
    while ((m = curl_multi_info_read(e->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct xfer *x;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        finish(e, x, m->data.result);
    }
}

int acr_curl_engine_next(acr_curl_engine *e, int64_t deadline, volatile sig_atomic_t *stop, acr_record **rec)
{
    for (;;) {
        if (e->nready > 0) {
            *rec = shift_ready(e);
            return 1;
        }
        refill(e);
        if (e->nready > 0)
            continue;
        if (e->active == 0 && (e->input_done || e->stopping))
            return 0;
        int running;
        curl_multi_perform(e->multi, &running);
        reap(e);
        if (e->nready > 0)
            continue;
        int64_t now = acr_now();
        if ((stop && *stop) || now >= deadline)
            return 2;
        int64_t wait = deadline - now;
        int ms = wait > 100 * ACR_MSEC ? 100 : (int)(wait / ACR_MSEC) + 1;
        curl_multi_poll(e->multi, NULL, 0, ms, NULL);
    }
}

void acr_curl_engine_stop(acr_curl_engine *e)
{
    if (e->stopping)
        return;
    e->stopping = true;
    for (struct xfer *x = e->xfers; x; x = x->all) {
        if (!x->rec)
            continue;
        snprintf(x->errbuf, sizeof x->errbuf, "cancelled");
        finish(e, x, CURLE_ABORTED_BY_CALLBACK);
    }
}

/* "Name: value", or curl's "Name;" for an empty value; any length (-A can be long). */
static struct curl_slist *append_header(struct curl_slist *list, const acr_header *hd)
{
    size_t n = strlen(hd->name) + strlen(hd->value) + 3;
    char *line = acr_malloc(n);
    if (!line)
        return list;
    snprintf(line, n, hd->value[0] ? "%s: %s" : "%s;", hd->name, hd->value);
    struct curl_slist *out = curl_slist_append(list, line); /* copies line */
    free(line);
    return out ? out : list;
}

int acr_curl_engine_new(acr_curl_engine **out, const acr_job_opts *o, acr_input *in, char *err, size_t errlen)
{
    static bool global;
    if (!global && curl_global_init(CURL_GLOBAL_ALL) == CURLE_OK)
        global = true;
    acr_curl_engine *e = acr_calloc(1, sizeof *e);
    if (!e)
        return -ENOMEM;
    e->o = *o;
    if (e->o.concurrency == 0)
        e->o.concurrency = 1;
    e->in = in;
    e->capready = 2 * (size_t)e->o.concurrency;
    e->ready = acr_calloc(e->capready, sizeof *e->ready);
    e->multi = curl_multi_init();
    if (!e->ready || !e->multi || acr_record_src_init(&e->src) != 0) {
        if (e->multi)
            curl_multi_cleanup(e->multi);
        free(e->ready);
        free(e);
        snprintf(err, errlen, "libcurl engine: out of memory");
        return -ENOMEM;
    }
    curl_multi_setopt(e->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)e->o.concurrency);
    if (o->client.per_origin)
        curl_multi_setopt(e->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)o->client.per_origin);
    snprintf(e->ua, sizeof e->ua, "acrawl/%s (libcurl)", ACRAWL_VERSION);
    /* A User-Agent among them wins over CURLOPT_USERAGENT, so e->ua stays the default. */
    for (size_t i = 0; i < o->req.nheaders; i++)
        e->headers = append_header(e->headers, &o->req.headers[i]);
    for (size_t i = 0; i < o->client.nresolve; i++)
        e->resolve = curl_slist_append(e->resolve, o->client.resolve[i]);
    *out = e;
    return 0;
}

void acr_curl_engine_free(acr_curl_engine *e)
{
    if (!e)
        return;
    while (e->xfers) {
        struct xfer *x = e->xfers;
        e->xfers = x->all;
        if (x->rec) {
            curl_multi_remove_handle(e->multi, x->easy);
            acr_record_free(x->rec);
        }
        curl_easy_cleanup(x->easy);
        free(x);
    }
    while (e->nready > 0)
        acr_record_free(shift_ready(e));
    free(e->ready);
    acr_record_src_release(&e->src);
    curl_multi_cleanup(e->multi);
    curl_slist_free_all(e->headers);
    curl_slist_free_all(e->resolve);
    free(e);
}

const char *acr_curl_version(void) { return curl_version(); }

const char *acr_curl_engine_input_error(const acr_curl_engine *e)
{
    return e->input_error[0] ? e->input_error : NULL;
}
