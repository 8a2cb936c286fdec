/* test_sitemap.c -- crawl/sitemap: urlset and sitemapindex, gzip, every chunk
 * boundary, the protocol's limits, entity attacks, and bodies that are no sitemap. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

#include "crawl/sitemap.h"
#include "helpers.h"
#include "xmlcount.h"
#include "util/alloc.h"
#include "util/buf.h"

struct got {
    acr_buf text;   /* "U url" or "I url" lines */
    size_t n;
};

static void collect(void *arg, const char *url, bool is_index)
{
    struct got *g = arg;
    acr_buf_puts(&g->text, is_index ? "I " : "U ");
    acr_buf_puts(&g->text, url);
    acr_buf_putc(&g->text, '\n');
    g->n++;
}

/* Feeds body[0..len) as a first chunk of first bytes and then chunks of step;
 * returns the first error from feed or finish, the locations in g. */
static int run_split(const char *body, size_t len, size_t first, size_t step, struct got *g)
{
    memset(g, 0, sizeof *g);
    acr_sitemap *s;
    cr_assert_eq(acr_sitemap_new(&s, collect, g), 0);
    size_t off = first < len ? first : len;
    int rc = acr_sitemap_feed(s, body, off);
    while (rc == 0 && off < len) {
        size_t n = len - off < step ? len - off : step;
        rc = acr_sitemap_feed(s, body + off, n);
        off += n;
    }
    int frc = acr_sitemap_finish(s);
    if (rc == 0)
        rc = frc;
    else
        cr_assert_eq(frc, rc, "errors are sticky");
    acr_sitemap_free(s);
    cr_assert_not(g->text.oom);
    if (!g->text.p)
        g->text.p = strdup("");
    return rc;
}

static int run(const char *body, size_t len, struct got *g)
{
    return run_split(body, len, len, len ? len : 1, g);
}

static const char urlset[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"\n"
    "        xmlns:image=\"http://www.google.com/schemas/sitemap-image/1.1\">\n"
    "  <url><loc>https://example.com/</loc><lastmod>2024-01-01</lastmod><priority>0.8</priority></url>\n"
    "  <url><loc>\n     https://example.com/a?x=1&amp;y=2\n  </loc>\n"
    "    <image:image><image:loc>https://example.com/photo.jpg</image:loc></image:image></url>\n"
    "  <!-- a comment --><url><loc><![CDATA[https://example.com/cdata?a&b]]></loc></url>\n"
    "  <url><loc>ftp://example.com/not-http</loc></url>\n"
    "  <url><loc>HTTPS://Example.COM:443/Upper/./x</loc></url>\n"
    "  <url><changefreq>daily</changefreq></url>\n"
    "  <url><loc>https://example.com/caf\xc3\xa9</loc></url>\n"
    "</urlset>\n";

static const char urlset_locs[] = "U https://example.com/\n"
                                  "U https://example.com/a?x=1&y=2\n"
                                  "U https://example.com/cdata?a&b\n"
                                  "U https://example.com/Upper/x\n"
                                  "U https://example.com/caf%C3%A9\n";

Test(sitemap, urlset)
{
    struct got g;
    cr_assert_eq(run(urlset, strlen(urlset), &g), 0);
    cr_assert_str_eq(g.text.p, urlset_locs);
    free(g.text.p);
}

Test(sitemap, sitemapindex)
{
    static const char body[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n"
        "<sitemap><loc>https://example.com/sitemap1.xml.gz</loc><lastmod>2024-01-01</lastmod></sitemap>\n"
        "<sitemap><loc>https://example.com/sitemap2.xml</loc></sitemap>\n"
        "<url><loc>https://example.com/not-in-an-index</loc></url>\n"
        "</sitemapindex>\n";
    struct got g;
    cr_assert_eq(run(body, strlen(body), &g), 0);
    cr_assert_str_eq(g.text.p, "I https://example.com/sitemap1.xml.gz\n"
                               "I https://example.com/sitemap2.xml\n");
    free(g.text.p);
}

Test(sitemap, without_a_namespace_and_with_a_prefix)
{
    static const char plain[] = "<urlset><url><loc>http://a.test/1</loc></url></urlset>";
    static const char prefixed[] = "<sm:urlset xmlns:sm=\"http://www.sitemaps.org/schemas/sitemap/0.9\">"
                                   "<sm:url><sm:loc>http://a.test/2</sm:loc></sm:url>"
                                   "<url><loc>http://a.test/other-namespace</loc></url></sm:urlset>";
    struct got g;
    cr_assert_eq(run(plain, strlen(plain), &g), 0);
    cr_assert_str_eq(g.text.p, "U http://a.test/1\n");
    free(g.text.p);
    cr_assert_eq(run(prefixed, strlen(prefixed), &g), 0);
    cr_assert_str_eq(g.text.p, "U http://a.test/2\n");
    free(g.text.p);
}

Test(sitemap, same_locations_split_at_every_boundary_and_byte_by_byte)
{
    size_t len = strlen(urlset);
    struct got g;
    for (size_t i = 0; i <= len; i++) {
        cr_assert_eq(run_split(urlset, len, i, len, &g), 0, "split at %zu", i);
        cr_assert_str_eq(g.text.p, urlset_locs, "split at %zu", i);
        free(g.text.p);
    }
    cr_assert_eq(run_split(urlset, len, 0, 1, &g), 0);
    cr_assert_str_eq(g.text.p, urlset_locs);
    free(g.text.p);
}

/* body gzip-compressed (one member); the caller frees it. */
static unsigned char *gzip(const char *body, size_t len, size_t *out_len)
{
    z_stream z = {0};
    cr_assert_eq(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, (uLong)len);
    unsigned char *out = malloc(cap);
    z.next_in = (unsigned char *)body;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    cr_assert_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    *out_len = cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

Test(sitemap, gzip_inflated_as_it_streams_at_every_boundary)
{
    size_t zlen;
    unsigned char *z = gzip(urlset, strlen(urlset), &zlen);
    struct got g;
    for (size_t i = 0; i <= zlen; i++) {
        cr_assert_eq(run_split((const char *)z, zlen, i, zlen, &g), 0, "split at %zu", i);
        cr_assert_str_eq(g.text.p, urlset_locs, "split at %zu", i);
        free(g.text.p);
    }
    cr_assert_eq(run_split((const char *)z, zlen, 0, 1, &g), 0);
    cr_assert_str_eq(g.text.p, urlset_locs);
    free(g.text.p);
    free(z);
}

Test(sitemap, concatenated_gzip_members)
{
    static const char a[] = "<urlset><url><loc>http://a.test/1</loc></url>";
    static const char b[] = "<url><loc>http://a.test/2</loc></url></urlset>";
    size_t alen, blen;
    unsigned char *za = gzip(a, strlen(a), &alen);
    unsigned char *zb = gzip(b, strlen(b), &blen);
    unsigned char *both = malloc(alen + blen);
    memcpy(both, za, alen);
    memcpy(both + alen, zb, blen);
    struct got g;
    for (size_t i = 0; i <= alen + blen; i++) {
        cr_assert_eq(run_split((const char *)both, alen + blen, i, alen + blen, &g), 0, "split at %zu", i);
        cr_assert_str_eq(g.text.p, "U http://a.test/1\nU http://a.test/2\n", "split at %zu", i);
        free(g.text.p);
    }
    free(za);
    free(zb);
    free(both);
}

static void urls_body(acr_buf *b, size_t n)
{
    acr_buf_puts(b, "<?xml version=\"1.0\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    char line[96];
    for (size_t i = 0; i < n; i++) {
        snprintf(line, sizeof line, "<url><loc>https://example.com/p/%zu</loc></url>\n", i);
        acr_buf_puts(b, line);
    }
    acr_buf_puts(b, "</urlset>\n");
    cr_assert_not(b->oom);
}

Test(sitemap, fifty_thousand_urls_is_the_limit)
{
    acr_buf b = {0};
    urls_body(&b, ACR_SITEMAP_MAX_URLS);
    struct got g;
    cr_assert_eq(run_split(b.p, b.len, 0, 4096, &g), 0);
    cr_assert_eq(g.n, ACR_SITEMAP_MAX_URLS);
    free(g.text.p);
    free(b.p);

    acr_buf over = {0};
    urls_body(&over, ACR_SITEMAP_MAX_URLS + 10);
    cr_assert_eq(run_split(over.p, over.len, 0, 4096, &g), ACR_ETOOLARGE);
    cr_assert_eq(g.n, ACR_SITEMAP_MAX_URLS, "the first 50 000 are reported, no more");
    free(g.text.p);
    free(over.p);
}

Test(sitemap, fifty_megabytes_uncompressed_is_the_limit_even_from_a_small_gzip)
{
    /* 60 MB of whitespace between two URLs compresses to about 60 KB. */
    size_t len = 60u << 20;
    char *body = malloc(len);
    memset(body, ' ', len);
    static const char head[] = "<urlset><url><loc>http://a.test/1</loc></url>";
    static const char tail[] = "<url><loc>http://a.test/2</loc></url></urlset>";
    memcpy(body, head, strlen(head));
    memcpy(body + len - strlen(tail), tail, strlen(tail));
    size_t zlen;
    unsigned char *z = gzip(body, len, &zlen);
    cr_assert_lt(zlen, 1u << 20);
    struct got g;
    cr_assert_eq(run_split((const char *)z, zlen, 0, 16384, &g), ACR_ETOOLARGE);
    cr_assert_str_eq(g.text.p, "U http://a.test/1\n");
    free(g.text.p);
    cr_assert_eq(run_split(body, len, 0, 1u << 20, &g), ACR_ETOOLARGE, "plain too");
    free(g.text.p);
    free(z);
    free(body);
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* An attack runs in little time and memory, reports nothing of its entities, and
 * is refused as no sitemap. */
static void expect_refused_cheaply(const char *body)
{
    xml_count_start();
    long long start = xml_live;
    xml_peak = xml_live;
    double t0 = seconds();
    struct got g;
    cr_assert_eq(run(body, strlen(body), &g), ACR_EPROTO);
    double took = seconds() - t0;
    cr_assert_lt(took, 0.5, "took %.3f s", took);
    cr_assert_lt(xml_peak - start, 1 << 20, "libxml2 peaked at %lld bytes", xml_peak - start);
    cr_assert_str_eq(g.text.p, "U http://a.test/before\n");
    free(g.text.p);
}

Test(sitemap, billion_laughs_is_refused_without_expanding)
{
    expect_refused_cheaply(
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE urlset [\n"
        " <!ENTITY lol \"lol\">\n"
        " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
        " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
        " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
        " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
        " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
        " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
        " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
        " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
        " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
        "]>\n"
        "<urlset><url><loc>http://a.test/before</loc></url>"
        "<url><loc>http://a.test/&lol9;</loc></url></urlset>\n");
}

Test(sitemap, quadratic_blowup_is_refused_without_expanding)
{
    acr_buf b = {0};
    acr_buf_puts(&b, "<?xml version=\"1.0\"?>\n<!DOCTYPE urlset [<!ENTITY big \"");
    for (int i = 0; i < 50000; i++)
        acr_buf_puts(&b, "xx");
    acr_buf_puts(&b, "\">]>\n<urlset><url><loc>http://a.test/before</loc></url><url><loc>");
    for (int i = 0; i < 20000; i++)
        acr_buf_puts(&b, "&big;");
    acr_buf_puts(&b, "</loc></url></urlset>\n");
    cr_assert_not(b.oom);
    expect_refused_cheaply(b.p);
    free(b.p);
}

Test(sitemap, external_entities_are_not_loaded)
{
    expect_refused_cheaply("<?xml version=\"1.0\"?>\n"
                           "<!DOCTYPE urlset [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n"
                           "<urlset><url><loc>http://a.test/before</loc></url>"
                           "<url><loc>http://a.test/&xxe;</loc></url></urlset>\n");
}

static void expect_not_a_sitemap(const char *body, size_t len)
{
    struct got g;
    cr_expect_eq(run(body, len, &g), ACR_EPROTO, "%.*s", (int)(len < 60 ? len : 60), body);
    cr_expect_eq(g.n, 0);
    free(g.text.p);
}

Test(sitemap, bodies_that_are_no_sitemap)
{
    static const char *const bodies[] = {
        "hello, world: http://a.test/",
        "<!DOCTYPE html><html><head><title>Not found</title></head><body>404</body></html>",
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><link>http://a.test/</link></channel></rss>",
        "{\"urls\": [\"http://a.test/\"]}",
        "",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++)
        expect_not_a_sitemap(bodies[i], strlen(bodies[i]));
    expect_not_a_sitemap("\x1f\x8b\x08\x00garbage, not deflate", 24);
    expect_not_a_sitemap("\x1f", 1);
}

Test(sitemap, truncated_gzip_is_refused_after_what_it_held)
{
    size_t zlen;
    unsigned char *z = gzip(urlset, strlen(urlset), &zlen);
    struct got g;
    cr_assert_eq(run((const char *)z, zlen - 4, &g), ACR_EPROTO);
    cr_assert_str_eq(g.text.p, urlset_locs, "the XML was whole; only the trailer is missing");
    free(g.text.p);
    cr_assert_eq(run((const char *)z, zlen / 2, &g), ACR_EPROTO);
    free(g.text.p);
    free(z);
}

Test(sitemap, truncated_xml_is_refused_after_what_it_held)
{
    static const char body[] = "<urlset><url><loc>http://a.test/1</loc></url><url><loc>http://a.te";
    struct got g;
    cr_assert_eq(run(body, strlen(body), &g), ACR_EPROTO);
    cr_assert_str_eq(g.text.p, "U http://a.test/1\n");
    free(g.text.p);
}

Test(sitemap, a_broken_document_keeps_the_locations_before_the_damage)
{
    static const char body[] = "<urlset><url><loc>http://a.test/1</loc></url>"
                               "<url><loc>http://a.test/?a=1&b=2</loc></url>"
                               "<url><loc>http://a.test/3</loc></url></urlset>";
    struct got g;
    cr_assert_eq(run(body, strlen(body), &g), ACR_EPROTO);
    cr_assert_str_eq(g.text.p, "U http://a.test/1\n");
    free(g.text.p);
}

static void count_loc(void *arg, const char *url, bool is_index)
{
    (void)url;
    (void)is_index;
    (*(size_t *)arg)++;
}

/* Each allocation of a run failing in turn (gzip, so zlib's too): -ENOMEM, or a
 * failure that cost nothing; under ASan, no leak either way. */
Test(sitemap, every_allocation_failure_is_enomem_or_harmless)
{
    size_t zlen;
    unsigned char *z = gzip(urlset, strlen(urlset), &zlen);
    bool clean_run = false;
    for (uint64_t nth = 1; !clean_run; nth++) {
        cr_assert_lt(nth, 10000);
        size_t seen = 0;
        acr_sitemap *s;
        acr_alloc_fail_nth(nth);
        uint64_t before = acr_alloc_count();
        int rc = acr_sitemap_new(&s, count_loc, &seen);
        if (rc == 0) {
            rc = acr_sitemap_feed(s, (const char *)z, zlen);
            int frc = acr_sitemap_finish(s);
            rc = rc ? rc : frc;
            acr_sitemap_free(s);
        }
        clean_run = acr_alloc_count() - before < nth;
        acr_alloc_fail_nth(0);
        cr_assert(rc == 0 || rc == -ENOMEM, "allocation %llu: %d", (unsigned long long)nth, rc);
        if (rc == 0)
            cr_assert_eq(seen, 5, "allocation %llu failed unseen", (unsigned long long)nth);
    }
    free(z);
}
