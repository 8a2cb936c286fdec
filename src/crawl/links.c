/* links.c -- link extraction: libxml2's HTML push parser with a SAX handler that has
 * a start-tag callback and nothing else (no tree, no text), and the few grammars of
 * attribute and header values that carry URLs (srcset, refresh, Link). */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/parserInternals.h>

#include "acrawl/error.h"
#include "crawl/links.h"
#include "crawl/markup.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/fmt.h"

/* Where links go: the base they resolve against, the caller's callback, and a
 * scratch buffer for the cleaned reference. Shared by bodies and headers. */
typedef struct sink {
    const acr_url *base;
    acr_link_fn *fn;
    void *arg;
    acr_buf ref;
    acr_buf href;           /* scratch: a plain reference resolved */
    acr_buf ref2, ref3;     /* scratch: its merged path, without dot-segments */
    size_t count;
    int err;                /* -ENOMEM: sticky */
} sink;

struct acr_links {
    htmlParserCtxtPtr ctxt;
    sink s;
    acr_url doc;            /* the document's URL; its strings in doc_mem */
    char *doc_mem;
    acr_url base;           /* the first <base href>, when it resolved */
    bool base_seen;         /* only the first <base href> counts */
    bool finished;
    acr_markup pre;         /* libxml2 reads the page's tags, not its text (markup.h) */
    bool all_bytes;         /* ... unless a test asks for every byte */
};

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static const char *skip_space(const char *p, const char *end)
{
    while (p < end && is_space(*p))
        p++;
    return p;
}

/* The HTML spec's clean-up of a URL attribute: leading and trailing ASCII
 * whitespace stripped, tabs and newlines inside removed. */
static int clean(acr_buf *b, const char *v, size_t n)
{
    const char *end = v + n;
    v = skip_space(v, end);
    while (end > v && is_space(end[-1]))
        end--;
    b->len = 0;
    if (!acr_buf_reserve(b, (size_t)(end - v)))
        return -ENOMEM;
    for (; v < end; v++) {
        if (*v != '\t' && *v != '\n' && *v != '\r')
            b->p[b->len++] = *v;
    }
    b->p[b->len] = 0;
    return 0;
}

/* False for references that are no resource to fetch: empty, a fragment of this
 * document, or another scheme than http(s) (mailto:, javascript:, tel:, data:...). */
static bool fetchable(const char *r)
{
    if (r[0] == 0 || r[0] == '#')
        return false;
    if (!is_alpha(r[0]))
        return true;
    size_t n = 1;
    while (is_alpha(r[n]) || is_digit(r[n]) || r[n] == '+' || r[n] == '-' || r[n] == '.')
        n++;
    if (r[n] != ':')
        return true;    /* a relative path */
    return (n == 4 && !strncasecmp(r, "http", 4)) || (n == 5 && !strncasecmp(r, "https", 5));
}

/* Bytes acr_url_parse keeps as they are in a path or query: it percent-encodes
 * spaces, quotes, angle brackets, backticks and non-ASCII, and refuses controls;
 * the rest of the odd ones ({, |, \\...) go the general way too. */
static bool plain(char c)
{
    return is_alpha(c) || is_digit(c) || (c != 0 && strchr("-._~!$&'()*+,;=:@/%?", c));
}

/* Appends to out what RFC 3986 §5.2.4 (remove_dot_segments) makes of in[0..n), as
 * url.c does it (rules A to E; "/." and "/.." at the end act as "/"); a popped
 * segment never goes below where this call started appending. */
static void add_without_dots(acr_buf *out, const char *in, size_t n)
{
    size_t floor = out->len;
    size_t i = 0;
    while (i < n && !out->oom) {
        const char *s = in + i;
        size_t left = n - i;
        if (left >= 3 && s[0] == '.' && s[1] == '.' && s[2] == '/') {
            i += 3;
        } else if (left >= 2 && s[0] == '.' && s[1] == '/') {
            i += 2;
        } else if (left >= 3 && s[0] == '/' && s[1] == '.' && s[2] == '/') {
            i += 2;
        } else if (left == 2 && s[0] == '/' && s[1] == '.') {
            acr_buf_putc(out, '/');
            i = n;
        } else if (left >= 3 && s[0] == '/' && s[1] == '.' && s[2] == '.' && (left == 3 || s[3] == '/')) {
            while (out->len > floor && out->p[out->len - 1] != '/')
                out->len--;
            if (out->len > floor)
                out->len--;
            if (left == 3) {
                acr_buf_putc(out, '/');
                i = n;
            } else {
                i += 3;
            }
        } else if ((left == 1 && s[0] == '.') || (left == 2 && s[0] == '.' && s[1] == '.')) {
            i = n;
        } else {
            size_t j = s[0] == '/' ? 1 : 0;
            while (j < left && s[j] != '/')
                j++;
            acr_buf_add(out, s, j);
            i += j;
        }
    }
    if (out->p)
        out->p[out->len] = 0;
}

/* A request target's path as url.c builds it: "/" when empty, else without its
 * dot-segments and starting with "/". */
static void add_path(acr_buf *out, const char *path, size_t n)
{
    if (n == 0) {
        acr_buf_putc(out, '/');
        return;
    }
    size_t at = out->len;
    add_without_dots(out, path, n);
    if (out->len == at || out->p[at] != '/') {
        if (!acr_buf_reserve(out, 1))
            return;
        memmove(out->p + at + 1, out->p + at, out->len - at + 1);
        out->p[at] = '/';
        out->len++;
    }
}

/* An authority of a host of letters, digits, '-', '.', '_', '~' and an optional
 * port, appended as url.c normalises it (host in lower case, default port
 * dropped); false for any other (IPv6, userinfo, a bad port...): the general way. */
static bool add_authority(acr_buf *out, const char *a, size_t n, bool tls)
{
    const char *colon = memchr(a, ':', n);
    size_t hn = colon ? (size_t)(colon - a) : n;
    if (hn == 0)
        return false;
    for (size_t i = 0; i < hn; i++) {
        char c = a[i];
        if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '.' && c != '_' && c != '~')
            return false;
    }
    unsigned long port = tls ? 443 : 80;
    if (colon && colon + 1 < a + n) {
        port = 0;
        for (const char *p = colon + 1; p < a + n; p++) {
            if (!is_digit(*p) || port > 65535)
                return false;
            port = port * 10 + (unsigned long)(*p - '0');
        }
        if (port < 1 || port > 65535)
            return false;
    }
    if (!acr_buf_reserve(out, hn + 8))
        return true;    /* oom: reported by the caller */
    for (size_t i = 0; i < hn; i++) {
        char c = a[i];
        out->p[out->len++] = c >= 'A' && c <= 'Z' ? (char)(c + 'a' - 'A') : c;
    }
    out->p[out->len] = 0;
    if (port != (tls ? 443u : 80u)) {
        char digits[24];
        acr_buf_putc(out, ':');
        acr_buf_add(out, digits, acr_utoa(digits, port));
    }
    return true;
}

/* The href acr_url_resolve gives for a reference of plain bytes (no fragment
 * counted) -- absolute http(s), scheme-relative, absolute-path or relative, dot-
 * segments and all -- built in the sink's scratch buffers without acr_url_resolve's
 * allocations (~1 us a link, as much as libxml2's parsing of the link's share of a
 * page). False: the general way (other bytes, IPv6 or userinfo, an empty path, a
 * reference acr_url_resolve refuses...). test_links checks it against
 * acr_url_resolve over a table and random references. */
static bool resolve_plain(sink *s, const char *ref)
{
    size_t n = 0;
    for (; ref[n] && ref[n] != '#'; n++) {
        if (!plain(ref[n]))
            return false;
    }
    const char *end = ref + n;
    const char *p = ref;
    acr_buf *out = &s->href;
    out->len = 0;
    bool tls = s->base->tls;
    bool has_scheme = false;
    if (is_alpha(p[0])) {
        const char *q = p + 1;
        while (q < end && (is_alpha(*q) || is_digit(*q) || *q == '+' || *q == '-' || *q == '.'))
            q++;
        if (q < end && *q == ':') {
            size_t sn = (size_t)(q - p);
            if (sn == 4 && !strncasecmp(p, "http", 4))
                tls = false;
            else if (sn == 5 && !strncasecmp(p, "https", 5))
                tls = true;
            else
                return false;
            has_scheme = true;
            p = q + 1;
        }
    }
    bool has_auth = end - p >= 2 && p[0] == '/' && p[1] == '/';
    if (has_scheme && !has_auth)
        return false;
    const char *path = p;
    if (has_auth) {
        const char *a = p + 2;
        path = a;
        while (path < end && *path != '/' && *path != '?')
            path++;
        acr_buf_puts(out, tls ? "https://" : "http://");
        if (!add_authority(out, a, (size_t)(path - a), tls))
            return false;
    }
    const char *query = memchr(path, '?', (size_t)(end - path));
    size_t path_n = (size_t)((query ? query : end) - path);
    if (has_auth) {
        add_path(out, path, path_n);
    } else {
        if (path_n == 0)
            return false;   /* "?q" and the like */
        const acr_url *base = s->base;
        acr_buf *merged = &s->ref2;
        merged->len = 0;
        if (path[0] != '/') {
            size_t dir = 0;     /* through the last '/' of the base path */
            for (size_t i = 0; base->target[i] && base->target[i] != '?'; i++) {
                if (base->target[i] == '/')
                    dir = i + 1;
            }
            if (dir)
                acr_buf_add(merged, base->target, dir);
            else
                acr_buf_putc(merged, '/');
        }
        acr_buf_add(merged, path, path_n);
        acr_buf *clean_path = &s->ref3;
        clean_path->len = 0;
        if (merged->p)
            add_without_dots(clean_path, merged->p, merged->len);
        out->oom |= merged->oom || clean_path->oom;
        acr_buf_add(out, base->href, strlen(base->href) - strlen(base->target));
        add_path(out, clean_path->p ? clean_path->p : "", clean_path->len);
    }
    if (query)
        acr_buf_add(out, query, (size_t)(end - query));
    return true;
}

/* Reports the plain reference resolved by resolve_plain. */
static void report_plain(sink *s, acr_link_kind kind)
{
    if (s->href.oom) {
        s->err = -ENOMEM;
        return;
    }
    s->count++;
    s->fn(s->arg, s->href.p, kind);
}

/* Reports v[0..n) resolved against the sink's base, if it is an http(s) link. */
static void emit(sink *s, const char *v, size_t n, acr_link_kind kind)
{
    if (s->err)
        return;
    if (clean(&s->ref, v, n) != 0) {
        s->err = -ENOMEM;
        return;
    }
    if (!fetchable(s->ref.p))
        return;
    if (resolve_plain(s, s->ref.p)) {
        report_plain(s, kind);
        return;
    }
    acr_url u;
    int rc = acr_url_resolve(&u, s->base, s->ref.p, NULL, 0);
    if (rc == -ENOMEM)
        s->err = rc;
    if (rc != 0)
        return;     /* not a URL we could fetch: no link */
    s->count++;
    s->fn(s->arg, u.href, kind);
    acr_url_release(&u);
}

static void emit_str(sink *s, const char *v, acr_link_kind kind)
{
    if (v)
        emit(s, v, strlen(v), kind);
}

/* The descriptors after a srcset candidate's URL ("2x", "100w"), through the comma
 * that ends the candidate; commas inside parentheses do not end it. */
static const char *skip_descriptors(const char *p)
{
    bool in_parens = false;
    for (; *p; p++) {
        if (*p == '(')
            in_parens = true;
        else if (*p == ')')
            in_parens = false;
        else if (*p == ',' && !in_parens)
            return p + 1;
    }
    return p;
}

/* Every candidate URL of a srcset ("a.png 1x, b.png 2x"), per the HTML spec's
 * parsing of srcset, descriptors skipped. */
static void emit_srcset(sink *s, const char *v)
{
    if (!v)
        return;
    const char *p = v;
    for (;;) {
        while (*p && (is_space(*p) || *p == ','))
            p++;
        if (!*p)
            return;
        const char *url = p;
        while (*p && !is_space(*p))
            p++;
        const char *end = p;
        bool trailing_comma = end[-1] == ',';
        while (end > url && end[-1] == ',')
            end--;
        emit(s, url, (size_t)(end - url), ACR_LINK_REQUISITE);
        if (!trailing_comma)
            p = skip_descriptors(p);
    }
}

/* Matches "url" ws* "=" at p; where the value starts after it, or NULL. */
static const char *after_url_equals(const char *p, const char *end)
{
    if (end - p < 3 || strncasecmp(p, "url", 3) != 0)
        return NULL;
    p = skip_space(p + 3, end);
    if (p == end || *p != '=')
        return NULL;
    return skip_space(p + 1, end);
}

/* The URL in a refresh value ("5; url=x", "0;URL='x'", "3, x") by the HTML spec's
 * declarative refresh steps. False when there is none. */
static bool refresh_url(const char *v, const char **url, size_t *len)
{
    const char *end = v + strlen(v);
    const char *p = skip_space(v, end);
    const char *time = p;
    while (p < end && is_digit(*p))
        p++;
    if (p == time && (p == end || *p != '.'))
        return false;
    while (p < end && (is_digit(*p) || *p == '.'))
        p++;
    if (p == end || (*p != ';' && *p != ',' && !is_space(*p)))
        return false;
    p = skip_space(p, end);
    if (p < end && (*p == ';' || *p == ','))
        p = skip_space(p + 1, end);
    const char *value = after_url_equals(p, end);
    if (value) {
        p = value;
    } else if (p < end && (*p == 'u' || *p == 'U')) {
        *url = p;   /* "u..." without "=": the spec takes it as it is */
        *len = (size_t)(end - p);
        return true;
    }
    if (p < end && (*p == '"' || *p == '\'')) {
        const char *close = memchr(p + 1, *p, (size_t)(end - p - 1));
        p++;
        end = close ? close : end;
    }
    *url = p;
    *len = (size_t)(end - p);
    return true;
}

static void emit_refresh(sink *s, const char *v)
{
    const char *url;
    size_t len;
    if (v && refresh_url(v, &url, &len))
        emit(s, url, len, ACR_LINK_PAGE);
}

static bool token_is(const char *t, size_t n, const char *word)
{
    return strlen(word) == n && !strncasecmp(t, word, n);
}

/* What one rel token makes a link: 1 requisite, 0 page, -1 neither. */
static int rel_token_kind(const char *t, size_t n)
{
    static const char *const requisite[] = {"stylesheet", "icon", "preload", "modulepreload"};
    static const char *const page[] = {"alternate", "next", "prev", "canonical"};
    for (size_t i = 0; i < sizeof requisite / sizeof *requisite; i++) {
        if (token_is(t, n, requisite[i]))
            return 1;
    }
    if (n > 5 && !strncasecmp(t + n - 5, "-icon", 5))
        return 1;   /* apple-touch-icon, mask-icon */
    for (size_t i = 0; i < sizeof page / sizeof *page; i++) {
        if (token_is(t, n, page[i]))
            return 0;
    }
    return -1;
}

/* The kind of link a rel makes (any requisite token wins: "alternate stylesheet"
 * is a stylesheet), or -1 for no link to follow (dns-prefetch, author...). */
static int rel_kind(const char *rel, size_t n)
{
    const char *end = rel + n;
    int kind = -1;
    const char *p = skip_space(rel, end);
    while (p < end) {
        const char *t = p;
        while (p < end && !is_space(*p))
            p++;
        int k = rel_token_kind(t, (size_t)(p - t));
        if (k == 1)
            return ACR_LINK_REQUISITE;
        if (k == 0)
            kind = ACR_LINK_PAGE;
        p = skip_space(p, end);
    }
    return kind;
}

/* ---- HTML bodies ---- */

static const char *attr(const xmlChar **atts, const char *name)
{
    if (!atts)
        return NULL;
    for (; atts[0]; atts += 2) {
        if (!strcmp((const char *)atts[0], name))
            return atts[1] ? (const char *)atts[1] : "";
    }
    return NULL;
}

static void on_base(acr_links *l, const char *href)
{
    if (l->base_seen || !href)
        return;
    l->base_seen = true;
    if (clean(&l->s.ref, href, strlen(href)) != 0) {
        l->s.err = -ENOMEM;
        return;
    }
    int rc = acr_url_resolve(&l->base, &l->doc, l->s.ref.p, NULL, 0);
    if (rc == 0)
        l->s.base = &l->base;
    else if (rc == -ENOMEM)
        l->s.err = rc;
}

static void on_link(acr_links *l, const xmlChar **atts)
{
    const char *rel = attr(atts, "rel");
    int kind = rel ? rel_kind(rel, strlen(rel)) : -1;
    if (kind >= 0)
        emit_str(&l->s, attr(atts, "href"), (acr_link_kind)kind);
}

static void on_meta(acr_links *l, const xmlChar **atts)
{
    const char *equiv = attr(atts, "http-equiv");
    if (equiv && !strcasecmp(equiv, "refresh"))
        emit_refresh(&l->s, attr(atts, "content"));
}

/* What a start tag can hold: its attribute (src or href) is a page or a requisite
 * link (then srcset too), or it is one of the tags with their own rules. */
typedef enum { ROLE_PAGE, ROLE_REQUISITE, ROLE_LINK, ROLE_META, ROLE_BASE } tag_role;

static const struct {
    const char *name, *attr;
    tag_role role;
} tags[] = {
    {"a", "href", ROLE_PAGE},         {"area", "href", ROLE_PAGE},        {"iframe", "src", ROLE_PAGE},
    {"frame", "src", ROLE_PAGE},      {"img", "src", ROLE_REQUISITE},     {"script", "src", ROLE_REQUISITE},
    {"source", "src", ROLE_REQUISITE}, {"link", NULL, ROLE_LINK},         {"meta", NULL, ROLE_META},
    {"base", NULL, ROLE_BASE},
};

/* Called for every start tag of the page: the first-byte test keeps the many
 * tags without links (p, div, span, li...) at a few comparisons each. */
static void on_start(void *ctx, const xmlChar *xname, const xmlChar **atts)
{
    acr_links *l = ctx;
    const char *name = (const char *)xname;
    size_t i = 0;
    while (i < sizeof tags / sizeof *tags && (name[0] != tags[i].name[0] || strcmp(name, tags[i].name)))
        i++;
    if (i == sizeof tags / sizeof *tags)
        return;
    switch (tags[i].role) {
    case ROLE_PAGE:
        emit_str(&l->s, attr(atts, tags[i].attr), ACR_LINK_PAGE);
        break;
    case ROLE_REQUISITE:
        emit_str(&l->s, attr(atts, tags[i].attr), ACR_LINK_REQUISITE);
        emit_srcset(&l->s, attr(atts, "srcset"));
        break;
    case ROLE_LINK:
        on_link(l, atts);
        break;
    case ROLE_META:
        on_meta(l, atts);
        break;
    case ROLE_BASE:
        on_base(l, attr(atts, "href"));
        break;
    }
    if (l->s.err)
        xmlStopParser(l->ctxt);
}

/* Parse errors are expected in real HTML and say nothing to a crawler. */
static void on_error(void *ctx, xmlErrorPtr e)
{
    (void)ctx;
    (void)e;
}

/* libxml2 2.9.14's look-ahead for a start tag's '>' that stops inside a quoted
 * attribute value (a chunk ended there) resumes knowing it is in a value but not
 * which quote opened it, and then never finds the end of the tag: the parser
 * stalls, buffering the rest of the body until the end (links late, memory
 * growing with the body). Forgetting the resume point makes the next look-ahead
 * rescan the pending tag from its '<': a cost of that tag's length per chunk. */
static void unstall(htmlParserCtxtPtr c)
{
    if (c->hasPErefs & 1) {
        c->checkIndex = 0;
        c->hasPErefs &= ~1;
    }
}

/* libxml2 2.9's push parser drops everything after the root element ends (its
 * epilogue takes comments only), so the links of markup after </html> -- trailing
 * scripts, a second document -- would be lost; browsers parse it into the body.
 * The parser ignores a </html>, </body> or </head> while its count of discarded
 * misplaced <html>/<body>/<head> tags (depth, used for nothing else in HTML) is
 * positive, so keeping that count high keeps the root open. */
static void keep_root_open(htmlParserCtxtPtr c)
{
    if (c->depth < INT_MAX / 4)
        c->depth = INT_MAX / 2;
}

/* A copy of src whose strings share one allocation (*mem, freed by the caller):
 * acr_url_copy parses the href again, about ten allocations a page. */
static int copy_url(acr_url *dst, char **mem, const acr_url *src)
{
    if (!src->href || !src->host || !src->target || !src->origin)
        return -EINVAL;     /* not a parsed URL */
    const char *const parts[] = {src->href, src->host, src->target, src->origin};
    size_t len[4], total = 0;
    for (int i = 0; i < 4; i++) {
        len[i] = strlen(parts[i]) + 1;
        total += len[i];
    }
    char *p = *mem = acr_malloc(total);
    if (!p)
        return -ENOMEM;
    char *copies[4];
    for (int i = 0; i < 4; i++) {
        copies[i] = memcpy(p, parts[i], len[i]);
        p += len[i];
    }
    *dst = *src;
    dst->href = copies[0];
    dst->host = copies[1];
    dst->target = copies[2];
    dst->origin = copies[3];
    return 0;
}

int acr_links_new(acr_links **out, const acr_url *base, acr_link_fn *fn, void *arg)
{
    *out = NULL;
    acr_links *l = acr_calloc(1, sizeof *l);
    if (!l)
        return -ENOMEM;
    if (copy_url(&l->doc, &l->doc_mem, base) != 0)
        goto fail;
    l->s = (sink){.base = &l->doc, .fn = fn, .arg = arg};
    /* Only the start-tag callback: without SAX2's tree builders libxml2 builds no
     * DOM, and without a characters callback it hands us no text. UTF-8 unless the
     * page declares otherwise (<meta charset>): libxml2 2.9 would take
     * undeclared bytes as Latin-1, which most of today's web is not. */
    htmlSAXHandler sax = {.startElement = on_start, .serror = on_error, .initialized = XML_SAX2_MAGIC};
    l->ctxt = htmlCreatePushParserCtxt(&sax, l, NULL, 0, NULL, XML_CHAR_ENCODING_UTF8);
    if (!l->ctxt)
        goto fail;
    htmlCtxtUseOptions(l->ctxt, HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING);
    acr_markup_init(&l->pre);
    keep_root_open(l->ctxt);
    *out = l;
    return 0;
fail:
    acr_links_free(l);
    return -ENOMEM;
}

/* The extractor's state after a parser call: libxml2 running out of memory counts
 * like our own allocations failing. */
static int status(acr_links *l)
{
    if (l->s.err == 0 && l->ctxt->errNo == XML_ERR_NO_MEMORY)
        l->s.err = -ENOMEM;
    return l->s.err;
}

int acr_links_feed(acr_links *l, const char *data, size_t len)
{
    /* Per thread, not per task: the pre-pass and the parser never suspend. */
    static __thread char pre_out[16384 + ACR_MARKUP_SLACK];
    while (len > 0 && l->s.err == 0 && !l->finished) {
        size_t k = len < 16384 ? len : 16384;
        int n = l->all_bytes ? (int)k : (int)acr_markup_filter(&l->pre, data, k, pre_out);
        if (n > 0)
            htmlParseChunk(l->ctxt, l->all_bytes ? data : pre_out, n, 0);
        unstall(l->ctxt);
        keep_root_open(l->ctxt);
        data += k;
        len -= k;
        status(l);
    }
    return l->s.err;
}

void acr_links_set_prepass(acr_links *l, bool on) { l->all_bytes = !on; }

int acr_links_finish(acr_links *l)
{
    if (l->s.err == 0 && !l->finished)
        htmlParseChunk(l->ctxt, NULL, 0, 1);
    l->finished = true;
    return status(l);
}

void acr_links_free(acr_links *l)
{
    if (!l)
        return;
    if (l->ctxt) {
        if (l->ctxt->myDoc)
            xmlFreeDoc(l->ctxt->myDoc);    /* none without tree callbacks; defensive */
        htmlFreeParserCtxt(l->ctxt);
    }
    free(l->doc_mem);
    if (l->base.href)
        acr_url_release(&l->base);
    acr_buf_release(&l->s.ref);
    acr_buf_release(&l->s.href);
    acr_buf_release(&l->s.ref2);
    acr_buf_release(&l->s.ref3);
    free(l);
}

size_t acr_links_count(const acr_links *l)
{
    return l->s.count;
}

/* ---- Response headers ---- */

/* A quoted string or a token, through its end; sets the value's span. */
static const char *param_value(const char *p, const char **v, size_t *n)
{
    if (*p == '"') {
        const char *q = ++p;
        while (*q && *q != '"') {
            if (*q == '\\' && q[1])
                q++;
            q++;
        }
        *v = p;
        *n = (size_t)(q - p);
        return *q ? q + 1 : q;
    }
    *v = p;
    p += strcspn(p, ";, \t");
    *n = (size_t)(p - *v);
    return p;
}

/* The parameters after one link-value's <URI>, through the comma that ends it;
 * sets rel's span (NULL if none). */
static const char *link_params(const char *p, const char **rel, size_t *rel_n)
{
    *rel = NULL;
    *rel_n = 0;
    const char *end = p + strlen(p);
    for (;;) {
        p = skip_space(p, end);
        if (*p != ';')
            break;
        p = skip_space(p + 1, end);
        const char *name = p;
        p += strcspn(p, "=;, \t");
        size_t name_n = (size_t)(p - name);
        p = skip_space(p, end);
        if (*p != '=')
            continue;
        const char *v;
        size_t n;
        p = param_value(skip_space(p + 1, end), &v, &n);
        if (!*rel && token_is(name, name_n, "rel")) {
            *rel = v;
            *rel_n = n;
        }
    }
    p += strcspn(p, ",");
    return *p ? p + 1 : p;
}

/* Link: <a>; rel="next", <b>; rel=stylesheet (RFC 8288): links with a rel we follow. */
static void emit_link_header(sink *s, const char *p)
{
    while (*p) {
        p += strspn(p, " \t,");
        if (*p != '<') {
            p += strcspn(p, ",");   /* not a link-value: skip it */
            continue;
        }
        const char *ref = p + 1;
        const char *close = strchr(ref, '>');
        if (!close)
            return;
        const char *rel;
        size_t rel_n;
        p = link_params(close + 1, &rel, &rel_n);
        int kind = rel ? rel_kind(rel, rel_n) : -1;
        if (kind >= 0)
            emit(s, ref, (size_t)(close - ref), (acr_link_kind)kind);
    }
}

void acr_links_from_headers(const acr_headers *h, const acr_url *base, acr_link_fn *fn, void *arg)
{
    sink s = {.base = base, .fn = fn, .arg = arg};
    for (size_t i = 0; i < h->n && s.err == 0; i++) {
        const char *name = h->v[i].name;
        const char *value = h->v[i].value;
        if (!strcasecmp(name, "location"))
            emit_str(&s, value, ACR_LINK_PAGE);
        else if (!strcasecmp(name, "refresh"))
            emit_refresh(&s, value);
        else if (!strcasecmp(name, "link"))
            emit_link_header(&s, value);
    }
    acr_buf_release(&s.ref);
    acr_buf_release(&s.href);
    acr_buf_release(&s.ref2);
    acr_buf_release(&s.ref3);
}
