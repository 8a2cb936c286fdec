/* url.c -- RFC 3986 parsing, normalisation and reference resolution for http(s). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acrawl/error.h"
#include "acrawl/url.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/errf.h"
#include "util/fmt.h"

/* Generic split of a URI reference (RFC 3986 appendix B); fragment ignored. */
struct parts {
    const char *scheme, *auth, *path, *query;
    size_t scheme_n, auth_n, path_n, query_n;
    bool has_scheme, has_auth, has_query;
};

static void split(const char *s, struct parts *p)
{
    memset(p, 0, sizeof *p);
    const char *c = s;
    if (isalpha((unsigned char)*c)) {
        const char *e = c;
        while (isalnum((unsigned char)*e) || *e == '+' || *e == '-' || *e == '.')
            e++;
        if (*e == ':') {
            p->has_scheme = true;
            p->scheme = c;
            p->scheme_n = (size_t)(e - c);
            c = e + 1;
        }
    }
    if (c[0] == '/' && c[1] == '/') {
        c += 2;
        p->has_auth = true;
        p->auth = c;
        p->auth_n = strcspn(c, "/?#");
        c += p->auth_n;
    }
    p->path = c;
    p->path_n = strcspn(c, "?#");
    c += p->path_n;
    if (*c == '?') {
        c++;
        p->has_query = true;
        p->query = c;
        p->query_n = strcspn(c, "#");
    }
}

static bool starts(const char *s, size_t left, const char *pre)
{
    size_t n = strlen(pre);
    return left >= n && !memcmp(s, pre, n);
}

static bool equals(const char *s, size_t left, const char *str)
{
    return left == strlen(str) && !memcmp(s, str, left);
}

/* Drops the last segment and its "/" from o. */
static void pop_segment(acr_buf *o)
{
    while (o->len > 0 && o->p[o->len - 1] != '/')
        o->len--;
    if (o->len > 0)
        o->len--;
    if (o->p)
        o->p[o->len] = 0;
}

/* RFC 3986 §5.2.4 on a path of n bytes; appends the result to out. Rules A-E as
 * in the RFC; "replace the prefix with /" is done by rewriting in place. */
static void remove_dot_segments(acr_buf *out, const char *path, size_t n)
{
    /* Rules A to D all need a segment starting with '.': without one, E copies the
     * path as it is (most paths; no allocation then). */
    bool dots = false;
    for (size_t k = 0; k < n && !dots; k++)
        dots = path[k] == '.' && (k == 0 || path[k - 1] == '/');
    if (!dots) {
        acr_buf_add(out, path, n);
        return;
    }
    char *in = acr_strndup(path, n);
    acr_buf o = {0};
    if (!in) {
        out->oom = true;
        return;
    }
    size_t i = 0;
    while (i < n) {
        const char *s = in + i;
        size_t left = n - i;
        if (starts(s, left, "../")) {
            i += 3;
        } else if (starts(s, left, "./")) {
            i += 2;
        } else if (starts(s, left, "/./")) {
            i += 2;
        } else if (equals(s, left, "/.")) {
            i += 1;
            in[i] = '/';
        } else if (starts(s, left, "/../")) {
            i += 3;
            pop_segment(&o);
        } else if (equals(s, left, "/..")) {
            i += 2;
            in[i] = '/';
            pop_segment(&o);
        } else if (equals(s, left, ".") || equals(s, left, "..")) {
            i += left;
        } else {
            size_t j = s[0] == '/' ? 1 : 0;
            while (j < left && s[j] != '/')
                j++;
            acr_buf_add(&o, s, j);
            i += j;
        }
    }
    if (o.p)
        acr_buf_add(out, o.p, o.len);
    out->oom |= o.oom;
    free(o.p);
    free(in);
}

/* Appends path or query bytes, percent-encoding spaces and non-ASCII as browsers do.
 * Control characters are refused. */
static int add_encoded(acr_buf *b, const char *s, size_t n, char *err, size_t errlen)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return acr__errf(err, errlen, ACR_EBADURL, "control character in URL");
        if (c == ' ' || c >= 0x80 || c == '"' || c == '<' || c == '>' || c == '`') {
            char enc[3] = {'%', hex[c >> 4], hex[c & 15]};
            acr_buf_add(b, enc, 3);
        } else {
            acr_buf_putc(b, (char)c);
        }
    }
    return 0;
}

static int parse_host(acr_url *u, const char *a, size_t n, char *err, size_t errlen)
{
    if (n == 0)
        return acr__errf(err, errlen, ACR_EBADURL, "empty host");
    if (a[0] == '[') {
        const char *close = memchr(a, ']', n);
        if (!close || close != a + n - 1)
            return acr__errf(err, errlen, ACR_EBADURL, "unterminated IPv6 address");
        size_t hn = (size_t)(close - a - 1);
        char tmp[64];
        if (hn == 0 || hn >= sizeof tmp)
            return acr__errf(err, errlen, ACR_EBADURL, "bad IPv6 address");
        memcpy(tmp, a + 1, hn);
        tmp[hn] = 0;
        struct in6_addr a6;
        if (inet_pton(AF_INET6, tmp, &a6) != 1)
            return acr__errf(err, errlen, ACR_EBADURL, "bad IPv6 address '%s'", tmp);
        char norm[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, &a6, norm, sizeof norm);
        u->host = acr_strdup(norm);
        u->ipv6 = true;
        return u->host ? 0 : -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)a[i];
        if (c >= 0x80)
            return acr__errf(err, errlen, ACR_EBADURL, "non-ASCII host (use its punycode form)");
        if (!isalnum(c) && c != '-' && c != '.' && c != '_' && c != '~')
            return acr__errf(err, errlen, ACR_EBADURL, "invalid character '%c' in host", c);
    }
    u->host = acr_strndup(a, n);
    if (!u->host)
        return -ENOMEM;
    for (char *p = u->host; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return 0;
}

static int parse_authority(acr_url *u, const char *a, size_t n, char *err, size_t errlen)
{
    if (memchr(a, '@', n))
        return acr__errf(err, errlen, ACR_EBADURL, "credentials in URLs are not supported");
    const char *port = NULL;
    const char *hend = a + n;
    if (n > 0 && a[0] == '[') {
        const char *close = memchr(a, ']', n);
        if (close && close + 1 < a + n) {
            if (close[1] != ':')
                return acr__errf(err, errlen, ACR_EBADURL, "junk after IPv6 address");
            port = close + 2;
            hend = close + 1;
        }
    } else {
        const char *colon = memchr(a, ':', n);
        if (colon) {
            port = colon + 1;
            hend = colon;
        }
    }
    int rc = parse_host(u, a, (size_t)(hend - a), err, errlen);
    if (rc != 0)
        return rc;
    u->port = u->tls ? 443 : 80;
    if (port && port < a + n) {
        long v = 0;
        for (const char *p = port; p < a + n; p++) {
            if (!isdigit((unsigned char)*p) || v > 65535)
                return acr__errf(err, errlen, ACR_EBADURL, "bad port");
            v = v * 10 + (*p - '0');
        }
        if (v < 1 || v > 65535)
            return acr__errf(err, errlen, ACR_EBADURL, "port out of range");
        u->port = (uint16_t)v;
    }
    return 0;
}

static int build(acr_url *u, const struct parts *p, char *err, size_t errlen)
{
    acr_buf t = {0};
    int rc = 0;
    if (p->path_n == 0)
        acr_buf_putc(&t, '/');
    else
        rc = add_encoded(&t, p->path, p->path_n, err, errlen);
    if (rc == 0 && p->has_query) {
        acr_buf_putc(&t, '?');
        rc = add_encoded(&t, p->query, p->query_n, err, errlen);
    }
    if (rc != 0 || t.oom) {
        free(t.p);
        return rc ? rc : -ENOMEM;
    }
    /* Dot-segments go from the path only, after encoding. */
    size_t plen = strcspn(t.p, "?");
    acr_buf tgt = {0};
    remove_dot_segments(&tgt, t.p, plen);
    if (tgt.len == 0 || tgt.p[0] != '/') {
        acr_buf fix = {0};
        acr_buf_putc(&fix, '/');
        if (tgt.p)
            acr_buf_add(&fix, tgt.p, tgt.len);
        fix.oom |= tgt.oom; /* an empty tgt may be empty because memory ran out */
        free(tgt.p);
        tgt = fix;
    }
    acr_buf_puts(&tgt, t.p + plen);
    free(t.p);
    u->target = tgt.p;

    bool defport = u->port == (u->tls ? 443 : 80);
    acr_buf o = {0}, h = {0};
    char portbuf[24];
    acr_utoa(portbuf, u->port);
    acr_buf_puts(&o, u->scheme);
    acr_buf_puts(&o, "://");
    if (u->ipv6)
        acr_buf_putc(&o, '[');
    acr_buf_puts(&o, u->host);
    if (u->ipv6)
        acr_buf_putc(&o, ']');
    acr_buf_add(&h, o.p ? o.p : "", o.len);
    if (!defport) {
        acr_buf_putc(&h, ':');
        acr_buf_puts(&h, portbuf);
    }
    acr_buf_puts(&h, u->target ? u->target : "/");
    acr_buf_putc(&o, ':');
    acr_buf_puts(&o, portbuf);
    u->origin = o.p;
    u->href = h.p;
    if (tgt.oom || o.oom || h.oom)
        return -ENOMEM;
    return 0;
}

static int parse_parts(acr_url *u, const struct parts *p, char *err, size_t errlen)
{
    memset(u, 0, sizeof *u);
    if (!p->has_scheme)
        return acr__errf(err, errlen, ACR_EBADURL, "no scheme (expected http:// or https://)");
    if (p->scheme_n == 4 && !strncasecmp(p->scheme, "http", 4)) {
        u->scheme = "http";
    } else if (p->scheme_n == 5 && !strncasecmp(p->scheme, "https", 5)) {
        u->scheme = "https";
        u->tls = true;
    } else {
        return acr__errf(err, errlen, ACR_EBADURL, "unsupported scheme '%.*s'",
                         (int)(p->scheme_n > 20 ? 20 : p->scheme_n), p->scheme);
    }
    if (!p->has_auth)
        return acr__errf(err, errlen, ACR_EBADURL, "missing '//' and host");
    int rc = parse_authority(u, p->auth, p->auth_n, err, errlen);
    if (rc == 0)
        rc = build(u, p, err, errlen);
    if (rc != 0)
        acr_url_release(u);
    return rc;
}

int acr_url_parse(acr_url *u, const char *s, char *err, size_t errlen)
{
    struct parts p;
    split(s, &p);
    return parse_parts(u, &p, err, errlen);
}

/* Merge paths (RFC 3986 §5.2.3). */
static void merge(acr_buf *out, const acr_url *base, const struct parts *r)
{
    size_t bpath = strcspn(base->target, "?");
    size_t keep = 0; /* through the last '/' of the base path */
    for (size_t i = 0; i < bpath; i++) {
        if (base->target[i] == '/')
            keep = i + 1;
    }
    if (keep)
        acr_buf_add(out, base->target, keep);
    else
        acr_buf_putc(out, '/');
    acr_buf_add(out, r->path, r->path_n);
}

int acr_url_resolve(acr_url *u, const acr_url *base, const char *ref, char *err, size_t errlen)
{
    struct parts r;
    split(ref, &r);
    if (r.has_scheme)
        return parse_parts(u, &r, err, errlen);
    /* Rebuild "scheme://authority" + path + query as a string, then parse it. */
    acr_buf s = {0};
    acr_buf_puts(&s, base->scheme);
    acr_buf_puts(&s, "://");
    if (r.has_auth) {
        acr_buf_add(&s, r.auth, r.auth_n);
        acr_buf_add(&s, r.path, r.path_n);
        if (r.has_query) {
            acr_buf_putc(&s, '?');
            acr_buf_add(&s, r.query, r.query_n);
        }
    } else {
        const char *bh = strstr(base->href, "://") + 3;
        acr_buf_add(&s, bh, strcspn(bh, "/?"));
        size_t bpath = strcspn(base->target, "?");
        if (r.path_n == 0) {
            acr_buf_add(&s, base->target, bpath);
            if (r.has_query) {
                acr_buf_putc(&s, '?');
                acr_buf_add(&s, r.query, r.query_n);
            } else {
                acr_buf_puts(&s, base->target + bpath);
            }
        } else {
            acr_buf path = {0};
            if (r.path[0] == '/')
                acr_buf_add(&path, r.path, r.path_n);
            else
                merge(&path, base, &r);
            if (path.p)
                remove_dot_segments(&s, path.p, path.len);
            s.oom |= path.oom;
            free(path.p);
            if (r.has_query) {
                acr_buf_putc(&s, '?');
                acr_buf_add(&s, r.query, r.query_n);
            }
        }
    }
    if (s.oom) {
        free(s.p);
        return -ENOMEM;
    }
    int rc = acr_url_parse(u, s.p, err, errlen);
    free(s.p);
    return rc;
}

int acr_url_copy(acr_url *dst, const acr_url *src)
{
    return acr_url_parse(dst, src->href, NULL, 0);
}

void acr_url_release(acr_url *u)
{
    free(u->href);
    free(u->host);
    free(u->target);
    free(u->origin);
    memset(u, 0, sizeof *u);
}

static bool unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* Appends t with its escapes normalised (see acr_url_normalize). */
static void add_normal_escapes(acr_buf *b, const char *t)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; t[i]; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c != '%') {
            acr_buf_putc(b, (char)c);
            continue;
        }
        int hi = acr_hexval((unsigned char)t[i + 1]);
        int lo = hi < 0 ? -1 : acr_hexval((unsigned char)t[i + 2]);
        if (lo < 0) {
            /* A bare "%" as "%25": otherwise "%%36%31" would become "%61" and a
             * second pass would change it again. */
            acr_buf_puts(b, "%25");
            continue;
        }
        unsigned char v = (unsigned char)(hi * 16 + lo);
        if (unreserved(v)) {
            acr_buf_putc(b, (char)v);
        } else {
            char enc[3] = {'%', hex[v >> 4], hex[v & 15]};
            acr_buf_add(b, enc, 3);
        }
        i += 2;
    }
}

int acr_url_normalize(acr_url *u)
{
    size_t tlen = strlen(u->target);
    size_t prefix = strlen(u->href) - tlen; /* href is "scheme://host[:port]" + target */
    acr_buf s = {0};
    acr_buf_add(&s, u->href, prefix);
    add_normal_escapes(&s, u->target);
    if (s.oom) {
        free(s.p);
        return -ENOMEM;
    }
    /* Parsing again removes the dot-segments decoding may have uncovered ("%2E%2E"). */
    acr_url n;
    int rc = acr_url_parse(&n, s.p, NULL, 0);
    free(s.p);
    if (rc != 0)
        return rc; /* -ENOMEM: the input parsed, and decoding yields unreserved bytes only */
    char *href = u->href;
    char *target = u->target;
    u->href = n.href;
    u->target = n.target;
    n.href = href;
    n.target = target;
    acr_url_release(&n);
    return 0;
}
