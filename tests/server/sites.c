/* sites.c -- the test server's crawlable sites: a link graph with every form of link,
 * robots.txt variants, sitemaps, crawl traps, non-HTML bodies, slow pages, and a log of
 * request arrival times for politeness tests. All generated on the fly, deterministic.
 *
 * Reachable set of the graph (SITES.md has the full list of links per page): from
 * /site/graph/N/0 (1 <= N <= 100000), the HTML pages are exactly /site/graph/N/i for
 * i in [0, N), each once after RFC 3986 normalisation (case of scheme, dot-segments,
 * fragment removed, %61 -> 'a'); page i links i+1 mod N, so all are reachable. The other
 * same-origin URLs linked are, for i in [0, N): /site/redir/N/i (301 to page i),
 * /site/private/i, /site/private/open/i (HTML, no links), /site/file/i.pdf,
 * /site/data/i.json, /site/img/i.png, /site/img/i-2x.png, and /site/css/site.css,
 * /site/js/site.js. Nothing else on the origin, except /site/never/... which only
 * appears where a crawler must not look (comments, non-HTML bodies). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "acrawl/loop.h"
#include "sites.h"
#include "util/buf.h"

#define GRAPH_MAX 1000000L
#define TRAP_MAX 500            /* deepest /site/trap/a/.../a/ served */
#define CAL_YEAR_MAX 99999L
#define SITEMAP_N 10            /* the graph the sitemaps list */
#define SLOW_MS 2000
#define STALL_MAX (60 * ACR_SEC)
#define LOG_MAX 10000           /* arrivals kept for /site-stats; later ones only counted */
#define WRITE_TIMEOUT (30 * ACR_SEC)

/* ---- the arrival log ---- */

static struct {
    unsigned long requests;
    size_t n;
    int64_t t0, last, min_gap; /* min_gap < 0: fewer than two arrivals */
    int64_t t[LOG_MAX];
    char *path[LOG_MAX];
} arrivals = {.min_gap = -1};

static void log_arrival(const char *target)
{
    int64_t now = acr_now();
    if (arrivals.requests == 0)
        arrivals.t0 = now;
    else if (arrivals.min_gap < 0 || now - arrivals.last < arrivals.min_gap)
        arrivals.min_gap = now - arrivals.last;
    arrivals.last = now;
    arrivals.requests++;
    if (arrivals.n < LOG_MAX) {
        arrivals.t[arrivals.n] = now - arrivals.t0;
        arrivals.path[arrivals.n++] = strdup(target);
    }
}

static void log_reset(void)
{
    for (size_t i = 0; i < arrivals.n; i++)
        free(arrivals.path[i]);
    arrivals.n = 0;
    arrivals.requests = 0;
    arrivals.min_gap = -1;
}

/* ---- helpers ---- */

static void bprintf(acr_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void bprintf(acr_buf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        acr_buf_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void json_string(acr_buf *b, const char *s)
{
    acr_buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            acr_buf_putc(b, '\\');
        if ((unsigned char)*s < 0x20)
            bprintf(b, "\\u%04x", (unsigned char)*s);
        else
            acr_buf_putc(b, *s);
    }
    acr_buf_putc(b, '"');
}

static const char *header(const struct site_req *q, const char *name)
{
    for (int i = 0; i < q->nh; i++)
        if (!strcasecmp(q->hname[i], name))
            return q->hvalue[i];
    return NULL;
}

/* The Host header when it is plain host[:port] text, else NULL (it goes into HTML). */
static const char *host(const struct site_req *q)
{
    const char *h = header(q, "Host");
    if (!h || !*h || strlen(h) > 255 ||
        h[strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.:[]-")])
        return NULL;
    return h;
}

static bool accepts_gzip(const struct site_req *q)
{
    const char *ae = header(q, "Accept-Encoding");
    return ae && strcasestr(ae, "gzip");
}

/* Strict decimal: digits only, no leading zero, <= max; -1 otherwise. *end after it. */
static long number(const char *p, const char **end, long max)
{
    long v = 0;
    const char *d = p;
    while (*d >= '0' && *d <= '9' && d - p < 7)
        v = v * 10 + (*d++ - '0');
    *end = d;
    if (d == p || (*p == '0' && d - p > 1) || v > max)
        return -1;
    return v;
}

/* ---- responses ---- */

static const char *reason(int code)
{
    switch (code) {
    case 200: return "OK";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 404: return "Not Found";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

/* Status, extra header lines (each ending CRLF) and a body with its length, in one write. */
static int reply(acr_stream *s, const struct site_req *q, int code, const char *extra, const void *body,
                 size_t len)
{
    acr_buf b = {0};
    bprintf(&b, "HTTP/1.1 %d %s\r\nServer: acrawl-testserver\r\nContent-Length: %zu\r\n", code, reason(code), len);
    if (!q->keep_alive)
        acr_buf_puts(&b, "Connection: close\r\n");
    if (extra)
        acr_buf_puts(&b, extra);
    acr_buf_puts(&b, "\r\n");
    if (!q->head)
        acr_buf_add(&b, body, len);
    int rc = b.oom ? -ENOMEM : acr_stream_write(s, b.p, b.len, acr_deadline_in(WRITE_TIMEOUT));
    acr_buf_release(&b);
    return rc;
}

static int reply_buf(acr_stream *s, const struct site_req *q, int code, const char *extra, const acr_buf *body)
{
    if (body->oom)
        return -ENOMEM;
    return reply(s, q, code, extra, body->p ? body->p : "", body->len);
}

static int reply_text(acr_stream *s, const struct site_req *q, int code, const char *text)
{
    return reply(s, q, code, "Content-Type: text/plain\r\n", text, strlen(text));
}

static int not_found(acr_stream *s, const struct site_req *q)
{
    return reply_text(s, q, 404, "not found\n");
}

static int redirect(acr_stream *s, const struct site_req *q, int code, const char *location)
{
    char extra[512];
    snprintf(extra, sizeof extra, "Location: %s\r\n", location);
    return reply(s, q, code, extra, "redirect\n", 9);
}

/* gzip of in into out (released by the caller); false on failure. */
static bool gzip(const void *in, size_t len, acr_buf *out)
{
    uLong cap = compressBound((uLong)len) + 64; /* + gzip header and trailer */
    if (!acr_buf_reserve(out, cap))
        return false;
    z_stream z = {0};
    if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return false;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out->p;
    z.avail_out = (uInt)cap;
    int zr = deflate(&z, Z_FINISH);
    out->len = z.total_out;
    deflateEnd(&z);
    return zr == Z_STREAM_END;
}

/* HTML, gzip-encoded when asked for it and the request accepts gzip. */
static int reply_html(acr_stream *s, const struct site_req *q, const acr_buf *html, bool may_gzip)
{
    if (!may_gzip || !accepts_gzip(q))
        return reply_buf(s, q, 200, "Content-Type: text/html; charset=utf-8\r\n", html);
    acr_buf z = {0};
    int rc = -ENOMEM;
    if (!html->oom && gzip(html->p, html->len, &z))
        rc = reply_buf(s, q, 200,
                       "Content-Type: text/html; charset=utf-8\r\nContent-Encoding: gzip\r\n"
                       "Vary: Accept-Encoding\r\n", &z);
    acr_buf_release(&z);
    return rc;
}

/* Waits until the client goes away, bounded: a response that never comes. */
static int stall(acr_stream *s)
{
    char buf[256];
    int64_t dl = acr_deadline_in(STALL_MAX);
    while (acr_stream_read(s, buf, sizeof buf, dl) > 0)
        ;
    return 1;
}

/* ---- 1. the link graph ---- */

static void graph_links(acr_buf *b, const struct site_req *q, long n, long i, bool based)
{
    const char *h = host(q);
    const char *scheme = q->tls ? "https" : "http";
    const char *upper = q->tls ? "HTTPS" : "HTTP";
    /* With <base href="/site/"> relative links are written against /site/. */
    char rel[64], dotdot[64];
    snprintf(rel, sizeof rel, based ? "graph/%ld/" : "", n);
    snprintf(dotdot, sizeof dotdot, based ? "../site/graph/%ld/" : "../../graph/%ld/", n);
    char self[24];
    snprintf(self, sizeof self, "%ld", i);
    long j1 = (i + 1) % n, j2 = (i + 2) % n, j3 = (i + 3) % n, j4 = (i * 7 + 3) % n;
    bprintf(b, "<p><a href=\"%s%ld\">relative</a>\n", rel, j1);
    bprintf(b, "<a href=\"./%s%ld#frag\">dot, fragment</a>\n", rel, j2);
    bprintf(b, "<a href=\"%s%ld\">dot-dot</a>\n", dotdot, j2);
    bprintf(b, "<a href=\"/site/graph/%ld/%ld\">root-relative</a>\n", n, j3);
    if (h) {
        bprintf(b, "<a href=\"%s://%s/site/graph/%ld/%ld\">absolute</a>\n", scheme, h, n, j4);
        bprintf(b, "<a href=\"%s://%s/site/graph/%ld/%ld\">upper-case scheme</a>\n", upper, h, n, j1);
    }
    bprintf(b, "<a href=\"/site/gr%%61ph/%ld/%ld\">percent-encoded</a>\n", n, j2);
    /* "#top" would resolve against the base, /site/: on based pages the self link says so. */
    bprintf(b, "<a href=\"%s%s#top\">top</a> <a href=\"/site/graph/%ld/0\">home</a>\n", rel,
            based ? self : "", n);
    bprintf(b, "<a href=\"/site/redir/%ld/%ld\">redirect</a>\n", n, j3);
    bprintf(b, "<a href=\"http://other.invalid/site/graph/%ld/%ld\">off-site</a>\n", n, j1);
    acr_buf_puts(b, "<a href=\"https://other.invalid/\">off-site tls</a>\n"
                    "<a href=\"mailto:webmaster@other.invalid\">mail</a>\n"
                    "<a href=\"javascript:void(0)\">js</a> <a href=\"tel:+15550100\">tel</a>\n"
                    "<a href=\"data:text/html,%3Ca%20href%3D%22%2Fsite%2Fnever%2Fdata%22%3E\">data</a>\n"
                    "<a name=\"no-href\">anchor without href</a>\n"
                    "<!-- <a href=\"/site/never/comment\">commented out</a> -->\n");
    bprintf(b, "<img src=\"/site/img/%ld.png\" srcset=\"/site/img/%ld.png 1x, /site/img/%ld-2x.png 2x\" alt=\"\">\n",
            i, i, i);
    bprintf(b, "<a href=\"/site/file/%ld.pdf\">pdf</a> <a href=\"/site/data/%ld.json\">json</a>\n", i, i);
    bprintf(b, "<a href=\"/site/private/%ld\">private</a> <a href=\"/site/private/open/%ld\">open</a></p>\n", i, i);
}

static int send_graph(acr_stream *s, const struct site_req *q, const char *rest)
{
    const char *e;
    long n = number(rest, &e, GRAPH_MAX);
    long i = *e == '/' ? number(e + 1, &e, GRAPH_MAX) : -1;
    if (n < 1 || i < 0 || i >= n || *e)
        return not_found(s, q);
    bool based = i % 3 == 1, refresh = i % 5 == 4, gz = i % 4 == 3;
    acr_buf b = {0};
    bprintf(&b, "<!DOCTYPE html>\n<html><head><title>graph %ld page %ld</title>\n", n, i);
    if (based)
        acr_buf_puts(&b, "<base href=\"/site/\">\n");
    if (refresh)
        bprintf(&b, "<meta http-equiv=\"refresh\" content=\"30; url=/site/graph/%ld/%ld\">\n", n, (i + 1) % n);
    acr_buf_puts(&b, "<link rel=\"stylesheet\" href=\"/site/css/site.css\">\n"
                     "<script src=\"/site/js/site.js\"></script>\n</head><body>\n");
    bprintf(&b, "<h1 id=\"top\">graph %ld page %ld</h1>\n", n, i);
    graph_links(&b, q, n, i, based);
    acr_buf_puts(&b, "</body></html>\n");
    int rc = reply_html(s, q, &b, gz);
    acr_buf_release(&b);
    return rc;
}

static int send_redir(acr_stream *s, const struct site_req *q, const char *rest)
{
    const char *e;
    long n = number(rest, &e, GRAPH_MAX);
    long i = *e == '/' ? number(e + 1, &e, GRAPH_MAX) : -1;
    if (n < 1 || i < 0 || i >= n || *e)
        return not_found(s, q);
    char loc[64];
    snprintf(loc, sizeof loc, "/site/graph/%ld/%ld", n, i);
    return redirect(s, q, 301, loc);
}

/* /site/private/I, /site/private/open/I and /site/orphan/I: leaf pages. */
static int send_leaf(acr_stream *s, const struct site_req *q, const char *kind, const char *rest)
{
    const char *e;
    long i = number(rest, &e, GRAPH_MAX);
    if (i < 0 || *e)
        return not_found(s, q);
    acr_buf b = {0};
    bprintf(&b, "<!DOCTYPE html>\n<html><head><title>%s %ld</title></head><body>\n"
                "<h1 id=\"top\">%s %ld</h1><a href=\"#top\">top</a></body></html>\n", kind, i, kind, i);
    int rc = reply_html(s, q, &b, false);
    acr_buf_release(&b);
    return rc;
}

/* ---- 5. non-HTML bodies ---- */

/* A 1x1 transparent PNG. */
static const unsigned char png[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
};

/* /site/file/I.pdf, /site/data/I.json: small bodies that hold link-like text a crawler
 * must not follow (it is not HTML). */
static int send_typed(acr_stream *s, const struct site_req *q, const char *rest, const char *ext)
{
    const char *e;
    long i = number(rest, &e, GRAPH_MAX);
    if (i < 0 || strcmp(e, ext) != 0)
        return not_found(s, q);
    acr_buf b = {0};
    int rc;
    if (!strcmp(ext, ".pdf")) {
        bprintf(&b, "%%PDF-1.4\n%% file %ld <a href=\"/site/never/pdf\">\n%%%%EOF\n", i);
        rc = reply_buf(s, q, 200, "Content-Type: application/pdf\r\n", &b);
    } else {
        bprintf(&b, "{\"i\":%ld,\"html\":\"<a href=\\\"/site/never/json\\\">\"}\n", i);
        rc = reply_buf(s, q, 200, "Content-Type: application/json\r\n", &b);
    }
    acr_buf_release(&b);
    return rc;
}

static int send_img(acr_stream *s, const struct site_req *q, const char *rest)
{
    const char *e;
    long i = number(rest, &e, GRAPH_MAX);
    if (i < 0 || (strcmp(e, ".png") != 0 && strcmp(e, "-2x.png") != 0))
        return not_found(s, q);
    return reply(s, q, 200, "Content-Type: image/png\r\n", png, sizeof png);
}

/* ---- 4. crawl traps ---- */

/* /site/calendar/YYYY/MM: links to the previous and next month, without end. */
static int send_calendar(acr_stream *s, const struct site_req *q, const char *rest)
{
    const char *e;
    long y = strlen(rest) >= 7 ? strtol(rest, (char **)&e, 10) : -1;
    long m = y > 0 && *e == '/' ? strtol(e + 1, (char **)&e, 10) : -1;
    char canon[32];
    snprintf(canon, sizeof canon, "%04ld/%02ld", y, m);
    if (y < 1 || y > CAL_YEAR_MAX || m < 1 || m > 12 || strcmp(canon, rest) != 0)
        return not_found(s, q);
    long py = m == 1 ? y - 1 : y, pm = m == 1 ? 12 : m - 1;
    long ny = m == 12 ? y + 1 : y, nm = m == 12 ? 1 : m + 1;
    acr_buf b = {0};
    bprintf(&b, "<!DOCTYPE html>\n<html><head><title>calendar %s</title></head><body>\n<h1>%s</h1>\n", canon,
            canon);
    if (py >= 1)
        bprintf(&b, "<a href=\"../%04ld/%02ld\">previous month</a>\n", py, pm);
    if (ny <= CAL_YEAR_MAX)
        bprintf(&b, "<a href=\"/site/calendar/%04ld/%02ld\">next month</a>\n", ny, nm);
    acr_buf_puts(&b, "</body></html>\n");
    int rc = reply_html(s, q, &b, false);
    acr_buf_release(&b);
    return rc;
}

/* /site/trap/ followed by k times "a/": links relatively to "a/", one level deeper. */
static int send_trap(acr_stream *s, const struct site_req *q, const char *rest)
{
    size_t k = 0;
    while (!strncmp(rest + 2 * k, "a/", 2))
        k++;
    if (rest[2 * k] || k > TRAP_MAX)
        return not_found(s, q);
    acr_buf b = {0};
    bprintf(&b, "<!DOCTYPE html>\n<html><head><title>trap depth %zu</title></head><body>\n", k);
    if (k < TRAP_MAX)
        acr_buf_puts(&b, "<a href=\"a/\">deeper</a>\n");
    acr_buf_puts(&b, "</body></html>\n");
    int rc = reply_html(s, q, &b, false);
    acr_buf_release(&b);
    return rc;
}

/* ---- 3. sitemaps ---- */

static void origin(const struct site_req *q, char *buf, size_t len)
{
    const char *h = host(q);
    snprintf(buf, len, "%s://%s", q->tls ? "https" : "http", h ? h : "localhost");
}

/* which: 1 = /site/sitemap.xml, 2 = /site/sitemap-2.xml, 0 = the index of both. */
static void sitemap(acr_buf *b, const struct site_req *q, int which)
{
    char o[300];
    origin(q, o, sizeof o);
    acr_buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    if (which == 0) {
        acr_buf_puts(b, "<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
        bprintf(b, "<sitemap><loc>%s/site/sitemap.xml</loc><lastmod>2026-01-01</lastmod></sitemap>\n", o);
        bprintf(b, "<sitemap><loc>%s/site/sitemap-2.xml</loc></sitemap>\n</sitemapindex>\n", o);
        return;
    }
    acr_buf_puts(b, "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    if (which == 1) {
        bprintf(b, "<url><loc>%s/site/graph/%d/0</loc><lastmod>2026-01-01</lastmod></url>\n", o, SITEMAP_N);
        bprintf(b, "<url><loc>%s/site/graph/%d/5</loc><changefreq>daily</changefreq></url>\n", o, SITEMAP_N);
        bprintf(b, "<url><loc>%s/site/orphan/1</loc><priority>0.1</priority></url>\n", o);
    } else {
        bprintf(b, "<url><loc>%s/site/graph/%d/9</loc></url>\n", o, SITEMAP_N);
        bprintf(b, "<url><loc>%s/site/orphan/2</loc></url>\n", o);
    }
    acr_buf_puts(b, "</urlset>\n");
}

static int send_sitemap(acr_stream *s, const struct site_req *q, int which, bool gz)
{
    acr_buf b = {0}, z = {0};
    sitemap(&b, q, which);
    int rc = -ENOMEM;
    if (!gz)
        rc = reply_buf(s, q, 200, "Content-Type: application/xml\r\n", &b);
    else if (!b.oom && gzip(b.p, b.len, &z))
        rc = reply_buf(s, q, 200, "Content-Type: application/gzip\r\n", &z);
    acr_buf_release(&b);
    acr_buf_release(&z);
    return rc;
}

/* ---- 2. robots.txt ---- */

struct robots {
    const char *name;
    int status;
    const char *body;
};

static const struct robots robots_table[] = {
    {"404", 404, "not found\n"},
    {"500", 500, "server error\n"},
    {"503", 503, "unavailable\n"},
    {"allow-all", 200, "User-agent: *\nDisallow:\n"},
    {"disallow-all", 200, "User-agent: *\nDisallow: /\n"},
    {"disallow-private", 200, "User-agent: *\nDisallow: /site/private/\n"},
    /* open/ is allowed: the longer Allow wins over the shorter Disallow. */
    {"longest-match", 200, "User-agent: *\nDisallow: /site/private/\nAllow: /site/private/open/\n"},
    /* Equal length: Allow wins (RFC 9309 2.2.2), so pdfs stay allowed; json does not. */
    {"tie", 200, "User-agent: *\nDisallow: /site/file/\nAllow: /site/file/\nDisallow: /site/data/\n"},
    {"patterns", 200,
     "User-agent: *\nDisallow: /*.pdf$\nDisallow: /site/*/open/\n"
     "Disallow: /site/data/\nAllow: /site/data/*.json$\n"},
    {"agent-group", 200,
     "User-agent: *\nDisallow: /\n\nUser-agent: otherbot\nAllow: /\n\n"
     "User-agent: ACrawl\nDisallow: /site/private/\n"},
    {"crawl-delay-1", 200, "User-agent: *\nCrawl-delay: 1\nDisallow: /site/private/\n"},
    {"crawl-delay-0.2", 200, "User-agent: *\nCrawl-delay: 0.2\nDisallow: /site/private/\n"},
    {"sitemap", 200, NULL},  /* generated: Sitemap lines name this origin */
    {"redirect", 301, NULL}, /* /robots.txt -> 301 -> 302 -> disallow-private */
    {"large", 200, NULL},    /* 600 KiB; a rule past 500 KiB */
    {"stall", 0, NULL},      /* never answers */
};

#define NROBOTS (sizeof robots_table / sizeof robots_table[0])

static const struct robots *robots_selected = &robots_table[0];

static const struct robots *robots_find(const char *name)
{
    for (size_t i = 0; i < NROBOTS; i++)
        if (!strcmp(robots_table[i].name, name))
            return &robots_table[i];
    return NULL;
}

int sites_set_robots(const char *variant)
{
    const struct robots *r = robots_find(variant);
    if (!r)
        return -1;
    robots_selected = r;
    return 0;
}

const char *sites_robots_names(void)
{
    static char names[512];
    size_t o = 0;
    for (size_t i = 0; i < NROBOTS && o < sizeof names; i++)
        o += (size_t)snprintf(names + o, sizeof names - o, "%s%s", i ? " " : "", robots_table[i].name);
    return names;
}

/* 600 KiB: an early Disallow of /site/file/, comment padding, then a Disallow of
 * /site/private/ starting past 500 KiB (which RFC 9309 lets a parser ignore). */
static void robots_large(acr_buf *b)
{
    static const char pad[] = "# padding padding padding padding padding padding padding pad\n";
    acr_buf_puts(b, "User-agent: *\nDisallow: /site/file/\n");
    while (b->len < 520 * 1024 && !b->oom)
        acr_buf_puts(b, pad);
    acr_buf_puts(b, "Disallow: /site/private/\n");
    while (b->len + sizeof pad - 1 <= 600 * 1024 && !b->oom)
        acr_buf_puts(b, pad);
    size_t left = 600 * 1024 - b->len;
    for (size_t k = 0; left && k + 1 < left && !b->oom; k++)
        acr_buf_putc(b, '#');
    if (left)
        acr_buf_putc(b, '\n');
}

static int send_robots(acr_stream *s, const struct site_req *q, const struct robots *r, int hop)
{
    if (!strcmp(r->name, "stall"))
        return stall(s);
    if (!strcmp(r->name, "redirect") && hop < 2)
        return redirect(s, q, hop ? 302 : 301, hop ? "/site/robots/redirect/2" : "/site/robots/redirect/1");
    if (!strcmp(r->name, "redirect"))
        r = robots_find("disallow-private");
    if (r->body)
        return reply(s, q, r->status, "Content-Type: text/plain\r\n", r->body, strlen(r->body));
    acr_buf b = {0};
    if (!strcmp(r->name, "large")) {
        robots_large(&b);
    } else {
        char o[300];
        origin(q, o, sizeof o);
        bprintf(&b, "Sitemap: %s/site/sitemap.xml\nUser-agent: *\nDisallow: /site/private/\n\n", o);
        bprintf(&b, "Sitemap: %s/site/sitemap-index.xml\n", o);
    }
    int rc = reply_buf(s, q, 200, "Content-Type: text/plain\r\n", &b);
    acr_buf_release(&b);
    return rc;
}

/* /site/robots/VARIANT[/HOP]: every variant on one server, for inspection. */
static int send_robots_variant(acr_stream *s, const struct site_req *q, const char *rest)
{
    char name[64];
    snprintf(name, sizeof name, "%s", rest);
    int hop = 0;
    if (!strcmp(name, "redirect/1") || !strcmp(name, "redirect/2")) {
        hop = name[9] - '0';
        name[8] = 0;
    }
    const struct robots *r = robots_find(name);
    return r ? send_robots(s, q, r, hop) : not_found(s, q);
}

/* ---- 6. slow and stalled ---- */

static int send_slow(acr_stream *s, const struct site_req *q, const char *rest)
{
    const char *e;
    long i = number(rest, &e, GRAPH_MAX);
    if (i < 0 || *e)
        return not_found(s, q);
    int rc = acr_sleep_for(SLOW_MS * ACR_MSEC);
    return rc ? rc : send_leaf(s, q, "slow", rest);
}

/* ---- the arrival log, served ---- */

static int send_site_stats(acr_stream *s, const struct site_req *q, bool reset)
{
    acr_buf b = {0};
    bprintf(&b, "{\"requests\":%lu,\"logged\":%zu,\"min_gap_ms\":", arrivals.requests, arrivals.n);
    if (arrivals.min_gap < 0)
        acr_buf_puts(&b, "null");
    else
        bprintf(&b, "%.3f", (double)arrivals.min_gap / ACR_MSEC);
    acr_buf_puts(&b, ",\"paths\":[");
    for (size_t i = 0; i < arrivals.n; i++) {
        acr_buf_puts(&b, i ? "," : "");
        json_string(&b, arrivals.path[i]);
    }
    acr_buf_puts(&b, "],\"t_ms\":[");
    for (size_t i = 0; i < arrivals.n; i++)
        bprintf(&b, "%s%.3f", i ? "," : "", (double)arrivals.t[i] / ACR_MSEC);
    acr_buf_puts(&b, "]}\n");
    if (reset)
        log_reset();
    int rc = reply_buf(s, q, 200, "Content-Type: application/json\r\nCache-Control: no-store\r\n", &b);
    acr_buf_release(&b);
    return rc;
}

/* ---- the seam ---- */

bool sites_match(const char *path)
{
    return !strncmp(path, "/site/", 6) || !strcmp(path, "/robots.txt") || !strcmp(path, "/site-stats") ||
           !strcmp(path, "/site-stats/reset");
}

static bool prefixed(const char *path, const char *prefix, const char **rest)
{
    size_t n = strlen(prefix);
    *rest = path + n;
    return !strncmp(path, prefix, n);
}

static int route_site(acr_stream *s, const struct site_req *q, const char *p)
{
    const char *rest;
    if (prefixed(p, "/site/graph/", &rest))
        return send_graph(s, q, rest);
    if (prefixed(p, "/site/redir/", &rest))
        return send_redir(s, q, rest);
    if (prefixed(p, "/site/private/open/", &rest))
        return send_leaf(s, q, "private open", rest);
    if (prefixed(p, "/site/private/", &rest))
        return send_leaf(s, q, "private", rest);
    if (prefixed(p, "/site/orphan/", &rest))
        return send_leaf(s, q, "orphan", rest);
    if (prefixed(p, "/site/file/", &rest))
        return send_typed(s, q, rest, ".pdf");
    if (prefixed(p, "/site/data/", &rest))
        return send_typed(s, q, rest, ".json");
    if (prefixed(p, "/site/img/", &rest))
        return send_img(s, q, rest);
    if (!strcmp(p, "/site/css/site.css"))
        return reply(s, q, 200, "Content-Type: text/css\r\n", "h1 { color: #333 }\n", 19);
    if (!strcmp(p, "/site/js/site.js"))
        return reply(s, q, 200, "Content-Type: application/javascript\r\n", "var acrawl = 1;\n", 16);
    if (prefixed(p, "/site/calendar/", &rest))
        return send_calendar(s, q, rest);
    if (prefixed(p, "/site/trap/", &rest))
        return send_trap(s, q, rest);
    if (!strcmp(p, "/site/sitemap.xml") || !strcmp(p, "/site/sitemap.xml.gz"))
        return send_sitemap(s, q, 1, p[17] == '.');
    if (!strcmp(p, "/site/sitemap-2.xml"))
        return send_sitemap(s, q, 2, false);
    if (!strcmp(p, "/site/sitemap-index.xml"))
        return send_sitemap(s, q, 0, false);
    if (!strcmp(p, "/robots.txt"))
        return send_robots(s, q, robots_selected, 0);
    if (prefixed(p, "/site/robots/", &rest))
        return send_robots_variant(s, q, rest);
    if (prefixed(p, "/site/slow/", &rest))
        return send_slow(s, q, rest);
    if (!strcmp(p, "/site/stall"))
        return stall(s);
    return not_found(s, q);
}

int sites_serve(acr_stream *s, const struct site_req *q)
{
    if (!strcmp(q->path, "/site-stats") || !strcmp(q->path, "/site-stats/reset"))
        return send_site_stats(s, q, q->path[11] == '/');
    log_arrival(q->target ? q->target : q->path);
    return route_site(s, q, q->path);
}
