/* output.c -- record formats: TSV (stable for awk/cut), JSON Lines, curl-style -w. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "acrawl/error.h"
#include "crawl/frontier.h"
#include "kind.h"
#include "output.h"
#include "util/alloc.h"
#include "util/buf.h"

void acr_output_init(acr_output *o, int fd, acr_format fmt, const char *wfmt)
{
    memset(o, 0, sizeof *o);
    o->fd = fd;
    o->fmt = fmt;
    o->wfmt = wfmt;
}

int acr_output_flush(acr_output *o)
{
    size_t off = 0;
    while (off < o->len && o->fd >= 0 && !o->broken) {
        ssize_t n = write(o->fd, o->buf + off, o->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            o->broken = true;
            o->error = n < 0 ? errno : ENOSPC;
            break;
        }
        off += (size_t)n;
        o->flushed += (uint64_t)n;
    }
    o->len = 0;
    return o->broken ? -o->error : 0;
}

static void put(acr_output *o, const char *s, size_t n)
{
    if (o->sink) {
        acr_buf_add(o->sink, s, n);
        return;
    }
    while (n > 0) {
        if (o->len == sizeof o->buf)
            acr_output_flush(o);
        size_t k = sizeof o->buf - o->len;
        if (k > n)
            k = n;
        memcpy(o->buf + o->len, s, k);
        o->len += k;
        s += k;
        n -= k;
    }
}

static void puts_(acr_output *o, const char *s) { put(o, s, strlen(s)); }

static void printf_(acr_output *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void printf_(acr_output *o, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        put(o, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Text fields never contain a tab or newline: they are replaced by spaces. */
static void put_field(acr_output *o, const char *s)
{
    for (; *s; s++) {
        char c = (*s == '\t' || *s == '\n' || *s == '\r') ? ' ' : *s;
        put(o, &c, 1);
    }
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0. Stops at the NUL of a short string. */
static size_t utf8_len(const unsigned char *p)
{
    unsigned lo = 0x80, hi = 0xbf;
    size_t n;
    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        n = 2;
    else if (p[0] >= 0xe0 && p[0] <= 0xef)
        n = 3;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
        n = 4;
    else
        return 0;
    if (p[0] == 0xe0)
        lo = 0xa0;
    else if (p[0] == 0xed)
        hi = 0x9f;
    else if (p[0] == 0xf0)
        lo = 0x90;
    else if (p[0] == 0xf4)
        hi = 0x8f;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++) {
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    }
    return n;
}

static bool json_plain(unsigned char c) { return c >= 0x20 && c != '"' && c != '\\' && c < 0x80; }

/* One byte or sequence that is not plain ASCII; returns the bytes it took. */
static size_t put_json_special(acr_output *o, const unsigned char *p)
{
    size_t n = utf8_len(p);
    if (*p == '"' || *p == '\\') {
        char e[2] = {'\\', (char)*p};
        put(o, e, 2);
    } else if (*p < 0x20) {
        printf_(o, "\\u%04x", *p);
    } else if (n > 1) {
        put(o, (const char *)p, n);
        return n;
    } else {
        puts_(o, "\\ufffd");
    }
    return 1;
}

/* A JSON string that is valid whatever the bytes: quotes, backslashes and control
 * characters escaped, well-formed UTF-8 kept, and every other byte (invalid UTF-8)
 * replaced by U+FFFD, so no raw byte of a URL or a header ever breaks a record. */
static void put_json_str(acr_output *o, const char *s)
{
    if (!s) {
        puts_(o, "null");
        return;
    }
    put(o, "\"", 1);
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t run = 0;
        while (json_plain(p[run]))
            run++;
        put(o, (const char *)p, run);
        p += run;
        if (*p)
            p += put_json_special(o, p);
    }
    put(o, "\"", 1);
}

static double ms(int64_t ns) { return (double)ns / 1e6; }

static void text_record(acr_output *o, const acr_record *r)
{
    printf_(o, "%llu\t", (unsigned long long)r->line);
    if (r->error)
        puts_(o, "ERR");
    else
        printf_(o, "%d", r->status);
    printf_(o, "\t%llu\t%.1f\t", (unsigned long long)r->body_bytes, ms(r->t.total));
    put_field(o, r->url);
    if (r->error) {
        printf_(o, "\t%s\t", acr_error_kind(r->error));
        put_field(o, r->message);
    }
    put(o, "\n", 1);
}

static void json_record(acr_output *o, const acr_record *r)
{
    printf_(o, "{\"line\":%llu,\"url\":", (unsigned long long)r->line);
    put_json_str(o, r->url);
    puts_(o, ",\"final_url\":");
    put_json_str(o, r->final_url);
    if (r->error == 0)
        printf_(o, ",\"status\":%d", r->status);
    else
        puts_(o, ",\"status\":null");
    printf_(o, ",\"bytes\":{\"raw\":%llu,\"decoded\":%llu},\"redirects\":%u",
            (unsigned long long)r->raw_bytes, (unsigned long long)r->body_bytes, r->redirects);
    printf_(o, ",\"timings\":{\"queue\":%.3f,\"dns\":%.3f,\"connect\":%.3f,\"tls\":%.3f,\"ttfb\":%.3f,\"total\":%.3f}",
            ms(r->t.queue), ms(r->t.dns), ms(r->t.connect), ms(r->t.tls), ms(r->t.ttfb), ms(r->t.total));
    if (r->error) {
        printf_(o, ",\"error\":{\"kind\":\"%s\",\"message\":", acr_error_kind(r->error));
        put_json_str(o, r->message);
        puts_(o, "}");
    } else {
        puts_(o, ",\"error\":null");
    }
    printf_(o, ",\"attempt\":%u", r->attempt);
    if (r->saved) {
        puts_(o, ",\"saved\":");
        put_json_str(o, r->saved);
    }
    if (r->crawl) {
        printf_(o, ",\"depth\":%u,\"via\":\"%s\",\"links\":%u,\"parent\":", r->depth, acr_via_name(r->via),
                r->links);
        put_json_str(o, r->parent);
    }
    puts_(o, "}\n");
}

/* ---- -w templates ---- */

/* A -w variable's value. Strings may be NULL: "" in a template, null in %{json}. */
typedef struct wval {
    enum { W_INT, W_CODE, W_SECS, W_STR } kind;
    long long i;
    double secs;
    const char *s;
} wval;

typedef void wget(const acr_record *r, wval *v);

static void set_int(wval *v, long long i) { *v = (wval){.kind = W_INT, .i = i}; }
static void set_secs(wval *v, int64_t ns) { *v = (wval){.kind = W_SECS, .secs = (double)ns / 1e9}; }
static void set_str(wval *v, const char *s) { *v = (wval){.kind = W_STR, .s = s}; }

/* curl's exit code for an error kind, as curl would have ended this transfer. */
static int curl_exitcode(int error)
{
    static const struct { int code, curl; } map[] = {
        {ACR_EBADURL, 3}, {ACR_EDNS, 6}, {ACR_ECONNECT, 7}, {ACR_EREFUSED, 7}, {ACR_ERESET, 56},
        {ACR_ETLSHANDSHAKE, 35}, {ACR_ETLSVERIFY, 60}, {ACR_ETIMEOUT, 28}, {ACR_EPROTO, 8},
        {ACR_ETOOLARGE, 63}, {ACR_EREDIRLOOP, 47}, {ACR_ECANCELED, 42}, {-ENOMEM, 27},
    };
    if (error == 0)
        return 0;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (map[i].code == error)
            return map[i].curl;
    }
    return 23; /* another system error: in acrawl, almost always the -o file */
}

/* Phase times are cumulative from the start, as curl's; a phase that never
 * completed is 0, as in curl (time_connect on a reused connection, time_appconnect
 * on plain http or after a failed handshake). */
static int64_t upto_dns(const acr_record *r) { return r->t.phases & ACR_PHASE_DNS ? r->t.dns : 0; }
static int64_t upto_connect(const acr_record *r) { return r->t.dns + r->t.connect; }

static void w_attempt(const acr_record *r, wval *v) { set_int(v, r->attempt); }
static void w_content_type(const acr_record *r, wval *v) { set_str(v, acr_record_header(r, "Content-Type")); }
static void w_error_kind(const acr_record *r, wval *v) { set_str(v, r->error ? acr_error_kind(r->error) : NULL); }
static void w_errormsg(const acr_record *r, wval *v) { set_str(v, r->error ? r->message : NULL); }
static void w_exitcode(const acr_record *r, wval *v) { set_int(v, curl_exitcode(r->error)); }
static void w_filename(const acr_record *r, wval *v) { set_str(v, r->saved); }
static void w_http_code(const acr_record *r, wval *v) { *v = (wval){.kind = W_CODE, .i = r->status}; }
static void w_line(const acr_record *r, wval *v) { set_int(v, (long long)r->line); }
static void w_depth(const acr_record *r, wval *v) { set_int(v, r->depth); }
static void w_links(const acr_record *r, wval *v) { set_int(v, r->links); }
static void w_parent(const acr_record *r, wval *v) { set_str(v, r->parent); }
static void w_via(const acr_record *r, wval *v) { set_str(v, r->crawl ? acr_via_name(r->via) : NULL); }
static void w_num_redirects(const acr_record *r, wval *v) { set_int(v, r->redirects); }
static void w_remote_ip(const acr_record *r, wval *v)
{
    static char ip[46]; /* lives until the value is written, before the next record */
    set_str(v, acr_record_remote_ip(r, ip, sizeof ip));
}

static void w_remote_port(const acr_record *r, wval *v) { set_int(v, r->remote_port); }
static void w_scheme(const acr_record *r, wval *v) { set_str(v, r->scheme); }
static void w_size_decoded(const acr_record *r, wval *v) { set_int(v, (long long)r->body_bytes); }
static void w_size_download(const acr_record *r, wval *v) { set_int(v, (long long)r->raw_bytes); }
static void w_time_queue(const acr_record *r, wval *v) { set_secs(v, r->t.queue); }
static void w_time_redirect(const acr_record *r, wval *v) { set_secs(v, r->t.redirect); }
static void w_time_starttransfer(const acr_record *r, wval *v) { set_secs(v, r->t.ttfb); }
static void w_time_total(const acr_record *r, wval *v) { set_secs(v, r->t.total); }
static void w_url(const acr_record *r, wval *v) { set_str(v, r->url); }
static void w_url_effective(const acr_record *r, wval *v) { set_str(v, r->final_url ? r->final_url : r->url); }
static void w_urlnum(const acr_record *r, wval *v) { set_int(v, (long long)r->seq); }

static void w_speed_download(const acr_record *r, wval *v)
{
    double s = (double)r->t.total / 1e9;
    set_int(v, s > 0 ? (long long)((double)r->raw_bytes / s) : 0);
}

static void w_time_namelookup(const acr_record *r, wval *v) { set_secs(v, upto_dns(r)); }

static void w_time_connect(const acr_record *r, wval *v)
{
    set_secs(v, r->t.phases & ACR_PHASE_CONNECT ? upto_connect(r) : 0);
}

static void w_time_appconnect(const acr_record *r, wval *v)
{
    set_secs(v, r->t.phases & ACR_PHASE_TLS ? upto_connect(r) + r->t.tls : 0);
}

enum { W_HEADERS = 1, W_ALIAS = 2, W_JSON = 4, W_HEADER_JSON = 8 };

/* Sorted by name: %{json} lists them in this order, as curl does. */
static const struct wvar {
    const char *name;
    wget *get;
    unsigned flags;         /* W_HEADERS: needs the response headers kept */
} wvars[] = {
    {"attempt", w_attempt, 0},
    {"content_type", w_content_type, W_HEADERS},
    {"depth", w_depth, 0},
    {"error_kind", w_error_kind, 0},
    {"errormsg", w_errormsg, 0},
    {"exitcode", w_exitcode, 0},
    {"filename_effective", w_filename, 0},
    {"header_json", NULL, W_HEADERS | W_HEADER_JSON},
    {"http_code", w_http_code, 0},
    {"json", NULL, W_HEADERS | W_JSON},
    {"line", w_line, 0},
    {"links", w_links, 0},
    {"num_redirects", w_num_redirects, 0},
    {"parent", w_parent, 0},
    {"remote_ip", w_remote_ip, 0},
    {"remote_port", w_remote_port, 0},
    {"response_code", w_http_code, 0},
    {"scheme", w_scheme, 0},
    {"size_decoded", w_size_decoded, 0},
    {"size_download", w_size_download, 0},
    {"size_raw", w_size_download, W_ALIAS}, /* before size_download meant raw bytes */
    {"speed_download", w_speed_download, 0},
    {"time_appconnect", w_time_appconnect, 0},
    {"time_connect", w_time_connect, 0},
    {"time_namelookup", w_time_namelookup, 0},
    {"time_queue", w_time_queue, 0},
    {"time_redirect", w_time_redirect, 0},
    {"time_starttransfer", w_time_starttransfer, 0},
    {"time_total", w_time_total, 0},
    {"url", w_url, 0},
    {"url_effective", w_url_effective, 0},
    {"urlnum", w_urlnum, 0},
    {"via", w_via, 0},
};

#define NWVARS (sizeof wvars / sizeof wvars[0])

static const struct wvar *find_wvar(const char *name, size_t n)
{
    for (size_t i = 0; i < NWVARS; i++) {
        if (strlen(wvars[i].name) == n && !memcmp(wvars[i].name, name, n))
            return &wvars[i];
    }
    return NULL;
}

const char *acr_output_writeout_name(size_t i) { return i < NWVARS ? wvars[i].name : NULL; }

static void put_wval_text(acr_output *o, const wval *v)
{
    if (v->kind == W_INT)
        printf_(o, "%lld", v->i);
    else if (v->kind == W_CODE)
        printf_(o, "%03lld", v->i);
    else if (v->kind == W_SECS)
        printf_(o, "%.6f", v->secs);
    else if (v->s)
        puts_(o, v->s);
}

static void put_wval_json(acr_output *o, const wval *v)
{
    if (v->kind == W_INT || v->kind == W_CODE)
        printf_(o, "%lld", v->i);
    else if (v->kind == W_SECS)
        printf_(o, "%.6f", v->secs);
    else
        put_json_str(o, v->s);
}

/* %{json}: every variable but the aliases and the two JSON ones, as one object. */
static void put_all_json(acr_output *o, const acr_record *r)
{
    const char *sep = "{";
    for (size_t i = 0; i < NWVARS; i++) {
        if (!wvars[i].get || (wvars[i].flags & W_ALIAS))
            continue;
        wval v;
        wvars[i].get(r, &v);
        printf_(o, "%s\"%s\":", sep, wvars[i].name);
        put_wval_json(o, &v);
        sep = ",";
    }
    puts_(o, "}");
}

/* A header name as a JSON string in lower case, as curl's header_json keys. */
static void put_json_lower(acr_output *o, const char *name)
{
    put(o, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)name; *p;) {
        char c = (char)tolower(*p);
        if (json_plain(*p)) {
            put(o, &c, 1);
            p++;
        } else {
            p += put_json_special(o, p);
        }
    }
    put(o, "\"", 1);
}

/* True when a header of this name (any case) starts before offset before. */
static bool header_seen(const acr_record *r, size_t before, const char *name)
{
    size_t p = 0;
    const char *n, *v;
    while (p < before && acr_record_header_next(r, &p, &n, &v)) {
        if (!strcasecmp(n, name))
            return true;
    }
    return false;
}

/* The values of every header called name from pos on, as a JSON array. */
static void put_header_values(acr_output *o, const acr_record *r, size_t pos, const char *name)
{
    const char *n, *v, *sep = "[";
    for (size_t p = pos; acr_record_header_next(r, &p, &n, &v);) {
        if (strcasecmp(n, name))
            continue;
        puts_(o, sep);
        put_json_str(o, v);
        sep = ",";
    }
    puts_(o, "]");
}

/* %{header_json}: curl's layout, one name per line, values in arrays in the order
 * received (a name repeated in the response has several). */
static void put_header_json(acr_output *o, const acr_record *r)
{
    const char *sep = "{";
    size_t pos = 0, at = 0;
    const char *n, *v;
    while (acr_record_header_next(r, &pos, &n, &v)) {
        if (!header_seen(r, at, n)) {
            puts_(o, sep);
            put_json_lower(o, n);
            put(o, ":", 1);
            put_header_values(o, r, at, n);
            sep = ",\n";
        }
        at = pos;
    }
    puts_(o, *sep == '{' ? "{}" : "\n}");
}

static void put_wvar(acr_output *o, const struct wvar *w, const acr_record *r)
{
    if (w->flags & W_JSON) {
        put_all_json(o, r);
    } else if (w->flags & W_HEADER_JSON) {
        put_header_json(o, r);
    } else {
        wval v;
        w->get(r, &v);
        put_wval_text(o, &v);
    }
}

/* The escape at f ("\n", "%%", ...): its character, or 0 if f holds none. */
static char escape_at(const char *f)
{
    if (f[0] == '%' && f[1] == '%')
        return '%';
    if (f[0] != '\\')
        return 0;
    switch (f[1]) {
    case 'n': return '\n';
    case 't': return '\t';
    case 'r': return '\r';
    case '\\': return '\\';
    default: return 0;
    }
}

/* Walks a -w template: with o, writes r through it; with o NULL, only checks it.
 * Returns the first unknown name (copied into bad) or NULL; ORs into *flags what the
 * variables used need. */
static const char *writeout(acr_output *o, const char *f, const acr_record *r, char *bad, size_t badlen,
                            unsigned *flags)
{
    while (*f) {
        const char *end = f[0] == '%' && f[1] == '{' ? strchr(f + 2, '}') : NULL;
        const struct wvar *w = end ? find_wvar(f + 2, (size_t)(end - f - 2)) : NULL;
        if (end && !w && bad) {
            snprintf(bad, badlen, "%.*s", (int)(end - f - 2), f + 2);
            return bad;
        }
        if (w) {
            if (flags)
                *flags |= w->flags;
            if (o)
                put_wvar(o, w, r);
            f = end + 1;
            continue;
        }
        char c = escape_at(f);
        if (o)
            put(o, c ? &c : f, 1);
        f += c ? 2 : 1;
    }
    return NULL;
}

const char *acr_output_check_writeout(const char *fmt, char *buf, size_t len)
{
    return writeout(NULL, fmt, NULL, buf, len, NULL);
}

bool acr_output_writeout_needs_headers(const char *fmt)
{
    unsigned flags = 0;
    writeout(NULL, fmt, NULL, NULL, 0, &flags);
    return flags & W_HEADERS;
}

/* Reads all of fd into a NUL-terminated string. 0 or -errno. */
static int read_all(int fd, char **out)
{
    size_t len = 0, cap = 4096;
    char *buf = acr_malloc(cap);
    for (;;) {
        if (!buf)
            return -ENOMEM;
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            free(buf);
            return -e;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len + 1 == cap) {
            char *nb = acr_realloc(buf, cap * 2);
            if (!nb)
                free(buf);
            buf = nb;
            cap *= 2;
        }
    }
    buf[len] = 0;
    *out = buf;
    return 0;
}

int acr_output_load_writeout(const char *arg, char **out, char *err, size_t errlen)
{
    *out = NULL;
    if (arg[0] != '@') {
        *out = acr_strdup(arg);
        return *out ? 0 : -ENOMEM;
    }
    const char *path = arg + 1;
    int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
    int rc = fd < 0 ? -errno : read_all(fd, out);
    if (fd > STDIN_FILENO)
        close(fd);
    if (rc != 0)
        snprintf(err, errlen, "cannot read the -w template from %s: %s", strcmp(path, "-") ? path : "stdin",
                 strerror(-rc));
    return rc;
}

int acr_output_record(acr_output *o, const acr_record *r)
{
    if (o->fd < 0)
        return 0;
    if (o->fmt == ACR_FMT_JSON)
        json_record(o, r);
    else if (o->fmt == ACR_FMT_WRITEOUT)
        writeout(o, o->wfmt, r, NULL, 0, NULL);
    else
        text_record(o, r);
    return o->broken ? -o->error : 0;
}

int acr_output_json_line(const acr_record *r, acr_buf *out)
{
    static acr_output o; /* its 64 KiB buffer stays unused: not on a task's stack */
    o.fd = -1;
    o.fmt = ACR_FMT_JSON;
    o.sink = out;
    size_t start = out->len;
    json_record(&o, r);
    if (out->len > start && out->p[out->len - 1] == '\n')
        out->len--;
    return out->oom ? -ENOMEM : 0;
}
