/* sitemap.c -- sitemaps: gzip sniffed from the magic bytes and inflated as it
 * streams, then libxml2's XML push parser with SAX2 element and text callbacks
 * only. No entity is ever declared to libxml2 (no entityDecl callback, no DTD
 * loading), so a reference to one is a well-formedness error, not an expansion. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include <libxml/parser.h>
#define ZLIB_CONST     /* next_in points to const: our input stays untouched */
#include <zlib.h>

#include "acrawl/error.h"
#include "acrawl/url.h"
#include "crawl/sitemap.h"
#include "util/alloc.h"
#include "util/buf.h"

#define LOC_MAX 8192            /* the protocol says under 2048 characters */
#define INFLATE_OUT (16 * 1024)

typedef enum { SNIFF, PLAIN, GZIP } body_mode;

struct acr_sitemap {
    xmlParserCtxtPtr ctxt;
    acr_sitemap_fn *fn;
    void *arg;
    int err;                    /* sticky */
    body_mode mode;
    unsigned char head[2];      /* the first bytes, until the mode is known */
    size_t nhead;
    z_stream z;
    unsigned char *out;         /* inflated bytes, INFLATE_OUT of them */
    bool z_ready, z_ended;
    uint64_t bytes;             /* XML bytes fed to the parser */
    size_t locs;                /* locations seen, reported or not */
    int depth;                  /* of the current element; the root is 1 */
    bool root_seen, is_index, in_entry, in_loc, loc_too_long;
    char *ns;                   /* the root's namespace URI, NULL if none */
    acr_buf loc;
};

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void fail(acr_sitemap *s, int code)
{
    if (s->err == 0)
        s->err = code;
    xmlStopParser(s->ctxt);
}

static bool same_ns(const acr_sitemap *s, const xmlChar *uri)
{
    if (!s->ns || !uri)
        return !s->ns && !uri;
    return !strcmp(s->ns, (const char *)uri);
}

static bool named(const xmlChar *name, const char *want)
{
    return !strcmp((const char *)name, want);
}

/* The root decides what the file is: anything but a urlset or a sitemapindex is
 * not a sitemap (an HTML error page served as sitemap.xml, an RSS feed). */
static void on_root(acr_sitemap *s, const xmlChar *name, const xmlChar *uri)
{
    s->root_seen = true;
    if (named(name, "sitemapindex"))
        s->is_index = true;
    else if (!named(name, "urlset"))
        fail(s, ACR_EPROTO);
    if (s->err == 0 && uri) {
        s->ns = acr_strdup((const char *)uri);
        if (!s->ns)
            fail(s, -ENOMEM);
    }
}

static void on_start(void *ctx, const xmlChar *name, const xmlChar *prefix, const xmlChar *uri, int nns,
                     const xmlChar **nss, int nattrs, int ndefaulted, const xmlChar **attrs)
{
    (void)prefix;
    (void)nns;
    (void)nss;
    (void)nattrs;
    (void)ndefaulted;
    (void)attrs;
    acr_sitemap *s = ctx;
    s->depth++;
    if (s->depth == 1)
        on_root(s, name, uri);
    else if (s->depth == 2)
        s->in_entry = same_ns(s, uri) && named(name, s->is_index ? "sitemap" : "url");
    else if (s->depth == 3 && s->in_entry && same_ns(s, uri) && named(name, "loc"))
        s->in_loc = true;
}

/* One location: counted against the limit, reported if it is an http(s) URL. */
static void report_loc(acr_sitemap *s)
{
    s->locs++;
    if (s->locs > ACR_SITEMAP_MAX_URLS)
        fail(s, ACR_ETOOLARGE);
    else if (s->loc.oom)
        fail(s, -ENOMEM);
    if (s->err || s->loc_too_long || s->loc.len == 0)
        return;
    char *p = s->loc.p;
    char *end = p + s->loc.len;
    while (p < end && is_space(*p))
        p++;
    while (end > p && is_space(end[-1]))
        end--;
    *end = 0;
    acr_url u;
    int rc = acr_url_parse(&u, p, NULL, 0);
    if (rc == -ENOMEM)
        fail(s, rc);
    if (rc != 0)
        return;
    s->fn(s->arg, u.href, s->is_index);
    acr_url_release(&u);
}

static void on_end(void *ctx, const xmlChar *name, const xmlChar *prefix, const xmlChar *uri)
{
    (void)name;
    (void)prefix;
    (void)uri;
    acr_sitemap *s = ctx;
    if (s->in_loc && s->depth == 3) {
        report_loc(s);
        s->in_loc = false;
        s->loc_too_long = false;
        s->loc.len = 0;
    } else if (s->depth == 2) {
        s->in_entry = false;
    }
    s->depth--;
}

static void on_text(void *ctx, const xmlChar *text, int len)
{
    acr_sitemap *s = ctx;
    if (!s->in_loc || s->loc_too_long)
        return;
    if (s->loc.len + (size_t)len > LOC_MAX) {
        s->loc_too_long = true;
        return;
    }
    acr_buf_add(&s->loc, text, (size_t)len);
}

/* Parse errors go to the return code, never to stderr. */
static void on_error(void *ctx, xmlErrorPtr e)
{
    (void)ctx;
    (void)e;
}

int acr_sitemap_new(acr_sitemap **out, acr_sitemap_fn *fn, void *arg)
{
    *out = NULL;
    acr_sitemap *s = acr_calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->fn = fn;
    s->arg = arg;
    /* No entityDecl, getEntity, internalSubset or resolveEntity callbacks: no
     * entity is stored, no external subset loaded. */
    xmlSAXHandler sax = {.initialized = XML_SAX2_MAGIC,
                         .startElementNs = on_start,
                         .endElementNs = on_end,
                         .characters = on_text,
                         .cdataBlock = on_text,
                         .serror = on_error};
    s->ctxt = xmlCreatePushParserCtxt(&sax, s, NULL, 0, NULL);
    if (!s->ctxt) {
        free(s);
        return -ENOMEM;
    }
    xmlCtxtUseOptions(s->ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    *out = s;
    return 0;
}

/* After a parser call: a well-formedness error means no sitemap. */
static int xml_status(acr_sitemap *s)
{
    if (s->err == 0 && s->ctxt->errNo == XML_ERR_NO_MEMORY)
        fail(s, -ENOMEM);
    else if (s->err == 0 && !s->ctxt->wellFormed)
        fail(s, ACR_EPROTO);
    return s->err;
}

/* XML bytes to the parser, within the size limit: the bytes up to it are parsed. */
static int push_xml(acr_sitemap *s, const char *data, size_t len)
{
    size_t room = ACR_SITEMAP_MAX_BYTES - s->bytes;
    bool over = len > room;
    if (over)
        len = room;
    s->bytes += len;
    while (len > 0 && s->err == 0) {
        int n = len > INT_MAX / 2 ? INT_MAX / 2 : (int)len;
        xmlParseChunk(s->ctxt, data, n, 0);
        data += n;
        len -= (size_t)n;
        xml_status(s);
    }
    if (over && s->err == 0)
        fail(s, ACR_ETOOLARGE);
    return s->err;
}

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    return acr_calloc(items, size);
}

static void z_free(voidpf opaque, voidpf p)
{
    (void)opaque;
    free(p);
}

/* Inflated bytes go through a heap buffer: feed may run on a task's small stack. */
static int inflate_start(acr_sitemap *s)
{
    s->z.zalloc = z_alloc;
    s->z.zfree = z_free;
    s->out = acr_malloc(INFLATE_OUT);
    if (!s->out)
        return -ENOMEM;
    int rc = inflateInit2(&s->z, 16 + MAX_WBITS);   /* gzip only */
    if (rc != Z_OK)
        return rc == Z_MEM_ERROR ? -ENOMEM : ACR_EPROTO;
    s->z_ready = true;
    return 0;
}

/* One inflate call into s->out; 0 or the error. Input after a member's end starts
 * the next member (gzip files may be concatenated; anything else is bad gzip). */
static int inflate_step(acr_sitemap *s, size_t *produced)
{
    if (s->z_ended && s->z.avail_in > 0) {
        inflateReset(&s->z);
        s->z_ended = false;
    }
    s->z.next_out = s->out;
    s->z.avail_out = INFLATE_OUT;
    int rc = inflate(&s->z, Z_NO_FLUSH);
    *produced = INFLATE_OUT - s->z.avail_out;
    if (rc == Z_STREAM_END)
        s->z_ended = true;
    if (rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR)
        return 0;
    return rc == Z_MEM_ERROR ? -ENOMEM : ACR_EPROTO;
}

/* Inflates all of s->z's input, 16 KiB of output at a time, each to the parser
 * before the next: a bomb stops at the size limit having cost no more. */
static int inflate_all(acr_sitemap *s)
{
    for (;;) {
        uInt before = s->z.avail_in;
        size_t produced;
        int rc = inflate_step(s, &produced);
        if (rc != 0) {
            fail(s, rc);
            return rc;
        }
        if (produced > 0 && push_xml(s, (const char *)s->out, produced) != 0)
            return s->err;
        bool progress = produced > 0 || s->z.avail_in != before;
        if (!progress || (s->z.avail_in == 0 && s->z.avail_out != 0))
            return 0;
    }
}

static int push_gzip(acr_sitemap *s, const char *data, size_t len)
{
    while (len > 0 && s->err == 0) {
        uInt n = len > UINT_MAX ? UINT_MAX : (uInt)len;
        s->z.next_in = (const unsigned char *)data;
        s->z.avail_in = n;
        inflate_all(s);
        data += n;
        len -= n;
    }
    return s->err;
}

static int push(acr_sitemap *s, const char *data, size_t len)
{
    if (s->mode == GZIP)
        return push_gzip(s, data, len);
    return push_xml(s, data, len);
}

/* Takes the first two bytes to tell gzip (1f 8b) from XML, then passes them on. */
static int sniff(acr_sitemap *s, const char *data, size_t len, bool at_end)
{
    while (s->nhead < 2 && len > 0) {
        s->head[s->nhead++] = (unsigned char)*data++;
        len--;
    }
    if (s->nhead < 2 && !at_end)
        return 0;
    s->mode = s->nhead == 2 && s->head[0] == 0x1f && s->head[1] == 0x8b ? GZIP : PLAIN;
    if (s->mode == GZIP) {
        int rc = inflate_start(s);
        if (rc != 0) {
            fail(s, rc);
            return rc;
        }
    }
    if (push(s, (const char *)s->head, s->nhead) != 0)
        return s->err;
    return push(s, data, len);
}

int acr_sitemap_feed(acr_sitemap *s, const char *data, size_t len)
{
    if (s->err || len == 0)
        return s->err;
    if (s->mode == SNIFF)
        return sniff(s, data, len, false);
    return push(s, data, len);
}

int acr_sitemap_finish(acr_sitemap *s)
{
    if (s->err == 0 && s->mode == SNIFF)
        sniff(s, NULL, 0, true);
    if (s->err == 0 && s->mode == GZIP && !s->z_ended)
        fail(s, ACR_EPROTO);    /* truncated gzip */
    if (s->err == 0) {
        xmlParseChunk(s->ctxt, NULL, 0, 1);
        xml_status(s);
    }
    if (s->err == 0 && !s->root_seen)
        fail(s, ACR_EPROTO);    /* empty */
    return s->err;
}

void acr_sitemap_free(acr_sitemap *s)
{
    if (!s)
        return;
    if (s->ctxt->myDoc)
        xmlFreeDoc(s->ctxt->myDoc);     /* none without tree callbacks; defensive */
    xmlFreeParserCtxt(s->ctxt);
    if (s->z_ready)
        inflateEnd(&s->z);
    free(s->out);
    free(s->ns);
    acr_buf_release(&s->loc);
    free(s);
}
