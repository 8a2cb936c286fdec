/* output.c -- record formats: TSV (stable for awk/cut), JSON Lines, curl-style -w. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "acrawl/error.h"
#include "output.h"

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
            break;
        }
        off += (size_t)n;
    }
    o->len = 0;
    return o->broken ? -EPIPE : 0;
}

static void put(acr_output *o, const char *s, size_t n)
{
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
        printf_(o, "\t%s\t", acr_errname(r->error));
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
        printf_(o, ",\"error\":{\"kind\":\"%s\",\"message\":", acr_errname(r->error));
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
    puts_(o, "}\n");
}

static const char *or_empty(const char *s) { return s ? s : ""; }

/* curl's names where curl has them; times in seconds like curl, cumulative from the
 * start of the request as curl's are. */
static bool writeout_var(acr_output *o, const char *name, size_t n, const acr_record *r)
{
#define IS(s) (n == sizeof(s) - 1 && !memcmp(name, s, n))
    double s_dns = (double)r->t.dns / 1e9, s_conn = s_dns + (double)r->t.connect / 1e9;
    if (IS("http_code") || IS("response_code"))
        printf_(o, "%03d", r->error ? 0 : r->status);
    else if (IS("time_total"))
        printf_(o, "%.6f", (double)r->t.total / 1e9);
    else if (IS("time_namelookup"))
        printf_(o, "%.6f", s_dns);
    else if (IS("time_connect"))
        printf_(o, "%.6f", s_conn);
    else if (IS("time_appconnect"))
        printf_(o, "%.6f", r->t.tls ? s_conn + (double)r->t.tls / 1e9 : 0.0);
    else if (IS("time_starttransfer"))
        printf_(o, "%.6f", (double)r->t.ttfb / 1e9);
    else if (IS("time_queue"))
        printf_(o, "%.6f", (double)r->t.queue / 1e9);
    else if (IS("size_download"))
        printf_(o, "%llu", (unsigned long long)r->body_bytes);
    else if (IS("size_raw"))
        printf_(o, "%llu", (unsigned long long)r->raw_bytes);
    else if (IS("url"))
        puts_(o, or_empty(r->url));
    else if (IS("url_effective"))
        puts_(o, or_empty(r->final_url ? r->final_url : r->url));
    else if (IS("num_redirects"))
        printf_(o, "%u", r->redirects);
    else if (IS("errormsg"))
        puts_(o, r->error ? r->message : "");
    else if (IS("line"))
        printf_(o, "%llu", (unsigned long long)r->line);
    else if (IS("error_kind"))
        puts_(o, r->error ? acr_errname(r->error) : "");
    else if (IS("attempt"))
        printf_(o, "%u", r->attempt);
    else if (IS("filename_effective"))
        puts_(o, r->saved ? r->saved : "");
    else
        return false;
    return true;
#undef IS
}

/* Walks a -w template; with o NULL only checks it. Returns the first unknown name. */
static const char *writeout(acr_output *o, const char *f, const acr_record *r, char *bad, size_t badlen)
{
    static const acr_record blank;
    acr_output sink;
    if (!o) {
        acr_output_init(&sink, -1, ACR_FMT_WRITEOUT, f);
        o = &sink;
        r = &blank;
    }
    while (*f) {
        if (f[0] == '%' && f[1] == '{') {
            const char *end = strchr(f + 2, '}');
            if (end && writeout_var(o, f + 2, (size_t)(end - f - 2), r)) {
                f = end + 1;
                continue;
            }
            if (end && bad) {
                snprintf(bad, badlen, "%.*s", (int)(end - f - 2), f + 2);
                return bad;
            }
        } else if (f[0] == '%' && f[1] == '%') {
            put(o, "%", 1);
            f += 2;
            continue;
        } else if (f[0] == '\\' && (f[1] == 'n' || f[1] == 't' || f[1] == 'r' || f[1] == '\\')) {
            char c = f[1] == 'n' ? '\n' : f[1] == 't' ? '\t' : f[1] == 'r' ? '\r' : '\\';
            put(o, &c, 1);
            f += 2;
            continue;
        }
        put(o, f, 1);
        f++;
    }
    if (o == &sink)
        sink.len = 0;
    return NULL;
}

const char *acr_output_check_writeout(const char *fmt, char *buf, size_t len)
{
    return writeout(NULL, fmt, NULL, buf, len);
}

int acr_output_record(acr_output *o, const acr_record *r)
{
    if (o->fd < 0)
        return 0;
    if (o->fmt == ACR_FMT_JSON)
        json_record(o, r);
    else if (o->fmt == ACR_FMT_WRITEOUT)
        writeout(o, o->wfmt, r, NULL, 0);
    else
        text_record(o, r);
    return o->broken ? -EPIPE : 0;
}
