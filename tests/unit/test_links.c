/* test_links.c -- crawl/links: every link form in one document, the same list at
 * every chunk boundary, <base href>, malformed HTML, a large document in flat memory,
 * and links from response headers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "crawl/links.h"
#include "helpers.h"
#include "xmlcount.h"
#include "util/alloc.h"
#include "util/buf.h"

/* Links as text, one "P url" or "R url" line each, in the order reported. */
static void collect(void *arg, const char *url, acr_link_kind kind)
{
    acr_buf *b = arg;
    acr_buf_puts(b, kind == ACR_LINK_PAGE ? "P " : "R ");
    acr_buf_puts(b, url);
    acr_buf_putc(b, '\n');
}

static void parse_base(acr_url *u, const char *s)
{
    cr_assert_eq(acr_url_parse(u, s, NULL, 0), 0, "%s", s);
}

/* The links of doc fed as chunks of at most step bytes after a first chunk of
 * first bytes (0: none); the caller frees the result. */
static char *extract_split(const char *base_url, const char *doc, size_t first, size_t step)
{
    acr_url base;
    parse_base(&base, base_url);
    acr_buf out = {0};
    acr_links *l;
    cr_assert_eq(acr_links_new(&l, &base, collect, &out), 0);
    size_t len = strlen(doc);
    size_t off = first < len ? first : len;
    cr_assert_eq(acr_links_feed(l, doc, off), 0);
    while (off < len) {
        size_t n = len - off < step ? len - off : step;
        cr_assert_eq(acr_links_feed(l, doc + off, n), 0);
        off += n;
    }
    cr_assert_eq(acr_links_finish(l), 0);
    size_t lines = 0;
    for (size_t i = 0; i < out.len; i++)
        lines += out.p[i] == '\n';
    cr_assert_eq(acr_links_count(l), lines);
    acr_links_free(l);
    acr_url_release(&base);
    cr_assert_not(out.oom);
    return out.p ? out.p : strdup("");
}

static char *extract(const char *base_url, const char *doc)
{
    return extract_split(base_url, doc, 0, (size_t)-1);
}

static const char every_form[] =
    "<!DOCTYPE html>\n"
    "<html><head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta http-equiv=\"Refresh\" content=\"5; url=/refreshed\">\n"
    "<link rel=\"stylesheet\" href=\"/css/site.css\">\n"
    "<link rel=\"shortcut icon\" href=\"/favicon.ico\">\n"
    "<link rel=\"icon\" href=\"icon.png\">\n"
    "<link rel=\"preload\" href=\"/font.woff2\" as=\"font\">\n"
    "<link rel=\"canonical\" href=\"https://example.com/canonical\">\n"
    "<link rel=\"alternate\" hreflang=\"fr\" href=\"/fr/\">\n"
    "<link rel=\"next\" href=\"page2.html\">\n"
    "<link rel=\"prev\" href=\"page0.html\">\n"
    "<link rel=\"dns-prefetch\" href=\"//cdn.example.net\">\n"
    "<link href=\"/no-rel\">\n"
    "<script src=\"/js/app.js\"></script>\n"
    "<script>var s = '<a href=\"/not-a-link\">';</script>\n"
    "</head><body>\n"
    "<a href=\"relative.html\">relative</a>\n"
    "<a href=\"/absolute-path\">absolute path</a>\n"
    "<a href=\"HTTP://Other.Example.ORG/Up\">upper-case scheme</a>\n"
    "<a href=\"//cdn.example.net/lib\">protocol-relative</a>\n"
    "<a href=\"../up.html\">dot-dot</a>\n"
    "<a href=\" \t spaced.html \n \">spaces</a>\n"
    "<a href=\"/multi\nline/\tpath\">newline and tab inside</a>\n"
    "<a href=\"q?a=1&amp;b=2&lt;\">entities</a>\n"
    "<a href=\"caf&#233;\">numeric entity</a>\n"
    "<a href=\"frag.html#section\">fragment</a>\n"
    "<a href=\"#top\">fragment only</a>\n"
    "<a href=\"\">empty</a><a href=\"   \">blank</a><a>no href</a>\n"
    "<a href=\"mailto:x@example.com\">mail</a>\n"
    "<a href=\"javascript:void(0)\">js</a>\n"
    "<a href=\" JavaScript:alert(1)\">js</a>\n"
    "<a href=\"tel:+123\">tel</a>\n"
    "<a href=\"data:text/html,hi\">data</a>\n"
    "<a href=\"ftp://example.com/file\">ftp</a>\n"
    "<a href=\"http://[bad\">bad host</a>\n"
    "<map><area href=\"/area\" alt=\"\"></map>\n"
    "<img src=\"/img/a.png\" srcset=\"/img/a-1x.png 1x, /img/a-2x.png 2x\">\n"
    "<picture><source srcset=\"s-480.webp 480w,s-800.webp 800w\" type=\"image/webp\">"
    "<img srcset=\"/img/c.png, /img/d.png 2x\" alt=x></picture>\n"
    "<video><source src=\"/media/v.mp4\"></video>\n"
    "<iframe src=\"/frame.html\"></iframe>\n"
    "<A HREF=unquoted.html>unquoted, upper-case tag</A>\n"
    "</body></html>\n";

static const char every_form_links[] =
    "P https://example.com/refreshed\n"
    "R https://example.com/css/site.css\n"
    "R https://example.com/favicon.ico\n"
    "R https://example.com/dir/icon.png\n"
    "R https://example.com/font.woff2\n"
    "P https://example.com/canonical\n"
    "P https://example.com/fr/\n"
    "P https://example.com/dir/page2.html\n"
    "P https://example.com/dir/page0.html\n"
    "R https://example.com/js/app.js\n"
    "P https://example.com/dir/relative.html\n"
    "P https://example.com/absolute-path\n"
    "P http://other.example.org/Up\n"
    "P https://cdn.example.net/lib\n"
    "P https://example.com/up.html\n"
    "P https://example.com/dir/spaced.html\n"
    "P https://example.com/multiline/path\n"
    "P https://example.com/dir/q?a=1&b=2%3C\n"
    "P https://example.com/dir/caf%C3%A9\n"
    "P https://example.com/dir/frag.html\n"
    "P https://example.com/area\n"
    "R https://example.com/img/a.png\n"
    "R https://example.com/img/a-1x.png\n"
    "R https://example.com/img/a-2x.png\n"
    "R https://example.com/dir/s-480.webp\n"
    "R https://example.com/dir/s-800.webp\n"
    "R https://example.com/img/c.png\n"
    "R https://example.com/img/d.png\n"
    "R https://example.com/media/v.mp4\n"
    "P https://example.com/frame.html\n"
    "P https://example.com/dir/unquoted.html\n";

#define DOC_URL "https://example.com/dir/page.html"

Test(links, every_form_gives_the_exact_list)
{
    char *got = extract(DOC_URL, every_form);
    cr_assert_str_eq(got, every_form_links);
    free(got);
}

Test(links, same_list_split_at_every_byte_boundary)
{
    size_t len = strlen(every_form);
    for (size_t i = 0; i <= len; i++) {
        char *got = extract_split(DOC_URL, every_form, i, (size_t)-1);
        cr_assert_str_eq(got, every_form_links, "split at %zu", i);
        free(got);
    }
}

Test(links, same_list_fed_byte_by_byte)
{
    char *got = extract_split(DOC_URL, every_form, 0, 1);
    cr_assert_str_eq(got, every_form_links);
    free(got);
}

Test(links, frames_are_pages)
{
    char *got = extract(DOC_URL, "<html><head></head><frameset><frame src=\"f1.html\">"
                                 "<frame src=\"/f2.html\"></frameset></html>");
    cr_assert_str_eq(got, "P https://example.com/dir/f1.html\nP https://example.com/f2.html\n");
    free(got);
}

Test(links, base_href_resolves_what_follows_and_only_the_first_counts)
{
    char *got = extract(DOC_URL, "<html><head><link rel=stylesheet href=before.css>"
                                 "<base href=\"http://other.test/sub/\">"
                                 "<base href=\"http://ignored.test/\">"
                                 "</head><body><a href=after.html>x</a>"
                                 "<a href=\"/root\">y</a></body></html>");
    cr_assert_str_eq(got, "R https://example.com/dir/before.css\n"
                          "P http://other.test/sub/after.html\n"
                          "P http://other.test/root\n");
    free(got);
}

Test(links, relative_base_resolves_against_the_document)
{
    char *got = extract(DOC_URL, "<base href=\"../other/\"><a href=x.html>x</a>");
    cr_assert_str_eq(got, "P https://example.com/other/x.html\n");
    free(got);
}

Test(links, unusable_base_leaves_the_document_url)
{
    char *got = extract(DOC_URL, "<base href=\"javascript:x\"><base href=\"/late/\"><a href=x.html>x</a>");
    cr_assert_str_eq(got, "P https://example.com/dir/x.html\n");
    free(got);
}

Test(links, malformed_html_still_yields_its_links)
{
    /* Broken tags end where a browser's tokenizer ends them: an unquoted value runs
     * to whitespace or '>' (so "four.html<a" is one value, and the second href of
     * that tag is a duplicate, dropped), an unterminated quote runs to the next
     * quote. */
    static const char doc[] =
        "<html><body><div><p>unclosed <b>tags <a href=one.html>one"
        "<p>a stray < here and 1 < 2 > 0 <a href=two.html title=x y=z>two"
        "<a href='three.html'>three</a></div></div></span>"
        "<a href=four.html<a href=\"five.html\">five</a>"
        "<img src=/i.png alt=\"unterminated>"
        "<a href=\"six.html\">six</a>"
        "<a href=seven.html";
    char *got = extract(DOC_URL, doc);
    cr_assert_str_eq(got, "P https://example.com/dir/one.html\n"
                          "P https://example.com/dir/two.html\n"
                          "P https://example.com/dir/three.html\n"
                          "P https://example.com/dir/four.html%3Ca\n"
                          "R https://example.com/i.png\n"
                          "P https://example.com/dir/seven.html\n");
    free(got);
}

Test(links, malformed_html_same_list_at_every_boundary)
{
    static const char doc[] = "<a href=one.html>one<p>< stray <a href=two.html x=y z>two<b><i></b>"
                              "<img src=/i.png srcset=\"a.png 1x,b.png 2x\"><a href='three.html'";
    char *whole = extract(DOC_URL, doc);
    for (size_t i = 0; i <= strlen(doc); i++) {
        char *got = extract_split(DOC_URL, doc, i, (size_t)-1);
        cr_assert_str_eq(got, whole, "split at %zu", i);
        free(got);
    }
    free(whole);
}

static void count_link(void *arg, const char *url, acr_link_kind kind)
{
    (void)url;
    (void)kind;
    (*(size_t *)arg)++;
}

/* Links are reported as their tags arrive, not when the body ends; fed one byte at
 * a time, every chunk boundary falls inside a quoted value once per tag. */
Test(links, links_arrive_while_the_body_streams)
{
    acr_url base;
    parse_base(&base, DOC_URL);
    size_t seen = 0;
    acr_links *l;
    cr_assert_eq(acr_links_new(&l, &base, count_link, &seen), 0);
    char line[128];
    for (size_t i = 0; i < 200; i++) {
        int n = snprintf(line, sizeof line, "<p class=\"x\">%zu <a href=\"/p/%zu?a=1&amp;b=2\">x</a></p>\n", i, i);
        for (int j = 0; j < n; j++)
            cr_assert_eq(acr_links_feed(l, line + j, 1), 0);
        cr_assert_geq(seen, i, "after %zu lines only %zu links", i + 1, seen);
    }
    cr_assert_eq(acr_links_finish(l), 0);
    cr_assert_eq(seen, 200);
    acr_links_free(l);
    acr_url_release(&base);
}

/* The extractor resolves common references without acr_url_resolve's allocations;
 * whichever way it takes, it must give what acr_url_resolve gives. */
Test(links, resolves_as_acr_url_resolve_does)
{
    static const char *const bases[] = {"http://h.test/", "http://h.test/d/p", "http://h.test:8080/d/p?q=/x/y",
                                        "https://[::1]/d/", "http://h.test", "HTTP://H.test/d/p/",
                                        "http://h.test/a%20b/c"};
    static const char *const refs[] = {
        "a", "a/b", "/a", "/a//b", "a?x=/y", "a?x=.", "a?x=/./", "1a:b", "/a:b", "b;c", "%41", "a%zz",
        "~u", "a'b", "a(b)*c", "a!$&=,+", "a@b", "a?", "a?#", "A/B", "/", "a#f", "/#f", "./a", "../a",
        ".a", "a/.b", "a/..", "a/.", "//other.test/x", "?q", "a b", "a\\b", "a{b}", "a|b", "a^b", "a[b]",
        "caf\xc3\xa9", "a\"b", "a`b", "https://X.test:443/p", "http:rel", "HTTPS://h.test", "/a?b#c?d",
        "../../a", "../../../../a/b", "a/../../b/./c", "./", ".", "..", "../", "a/b/..", "a/b/../", "/./a",
        "/../a", "/a/./b/../c/", "a/...", "a/.../b", "..a/b", "a/..b", "/a/b/.", "/a/b/..", "a//../b",
        "http://H.Test/a/../b", "http://h.test:80/x", "http://h.test:8080/x", "https://h.test:80/x",
        "http://h.test:0080", "http://h.test:/x", "http://h.test:0/x", "http://h.test:65536/x",
        "http://h.test:99999999999/x", "http://h.test:8x/x", "http://h_t~e-s.t./x", "http://h.test?q=1",
        "http://h.test/?q", "http://h.test/a?q/../b", "http:///x", "http://u@h.test/x", "http://[::1]:81/x",
        "http://h%41.test/x", "http://h.test/a/./../../b", "//other.test", "//other.test:443/x",
        "//Other.Test/a/../b?c", "//other.test?q", "//", "///x", "HtTp://h.test/x", "http//h.test/x",
        "http:/h.test/x", "a?b?c", "a/..?x", "..?x", ".?x", "/?x", "/a#b/../c", "x:y", "x1+-.y:z",
    };
    for (size_t b = 0; b < sizeof bases / sizeof *bases; b++) {
        acr_url base;
        parse_base(&base, bases[b]);
        for (size_t r = 0; r < sizeof refs / sizeof *refs; r++) {
            acr_buf doc = {0};
            const char *q = strchr(refs[r], '\'') ? "\"" : "'";
            acr_buf_puts(&doc, "<a href=");
            acr_buf_puts(&doc, q);
            acr_buf_puts(&doc, refs[r]);
            acr_buf_puts(&doc, q);
            acr_buf_puts(&doc, ">");
            char *got = extract(bases[b], doc.p);
            acr_url u;
            char want[512] = "";
            if (acr_url_resolve(&u, &base, refs[r], NULL, 0) == 0) {
                snprintf(want, sizeof want, "P %s\n", u.href);
                acr_url_release(&u);
            }
            cr_expect_str_eq(got, want, "base %s, ref %s: %s, not %s", bases[b], refs[r], got, want);
            free(got);
            free(doc.p);
        }
        acr_url_release(&base);
    }
}

/* References built at random from the pieces that matter to resolution (schemes,
 * authorities, dot-segments, empty segments, queries, fragments, odd bytes) give
 * what acr_url_resolve gives, against bases with and without a directory. */
Test(links, random_references_resolve_as_acr_url_resolve_does)
{
    static const char *const bases[] = {"http://h.test/", "http://h.test/d/e/p?q", "https://h.test:8443/d/",
                                        "http://h.test"};
    static const char *const heads[] = {"", "", "", "/", "//", "http://", "HTTPS://", "http:", "//h.test",
                                        "http://a.test:81", "http://A.test:80", "//b.test:0", "x:"};
    static const char *const pieces[] = {"a", "b", "/", "/", ".", "..", "./", "../", "/.", "/..", "?", "#",
                                         "%2e", "c.d", ":", "@", " ", "=", "~", "...", "//"};
    unsigned long long rng = 0x243f6a8885a308d3ull;
    for (size_t b = 0; b < sizeof bases / sizeof *bases; b++) {
        acr_url base;
        parse_base(&base, bases[b]);
        for (int k = 0; k < 3000; k++) {
            char ref[256];
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            snprintf(ref, sizeof ref, "%s", heads[rng % (sizeof heads / sizeof *heads)]);
            for (unsigned i = 0, n = (unsigned)(rng >> 8) % 9; i < n; i++) {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                strncat(ref, pieces[rng % (sizeof pieces / sizeof *pieces)], sizeof ref - strlen(ref) - 1);
            }
            acr_buf doc = {0};
            acr_buf_puts(&doc, "<a href='");
            acr_buf_puts(&doc, ref);
            acr_buf_puts(&doc, "'>");
            char *got = extract(bases[b], doc.p);
            char want[512] = "";
            acr_url u;
            /* As the extractor cleans it: surrounding spaces gone; empty or
             * fragment-only is no link. */
            char *r = ref + strspn(ref, " ");
            for (size_t n = strlen(r); n > 0 && r[n - 1] == ' '; n--)
                r[n - 1] = 0;
            if (r[0] && r[0] != '#' && acr_url_resolve(&u, &base, r, NULL, 0) == 0) {
                snprintf(want, sizeof want, "P %s\n", u.href);
                acr_url_release(&u);
            }
            cr_assert_str_eq(got, want, "base %s, ref '%s': %s, not %s", bases[b], ref, got, want);
            free(got);
            free(doc.p);
        }
        acr_url_release(&base);
    }
}

Test(links, markup_after_the_root_element_ends_still_counts)
{
    static const char doc[] = "<html><body><a href=a.html>a</a></body></html>\n"
                              "<script src=\"/late.js\"></script>"
                              "<html><head><link rel=stylesheet href=b.css></head>"
                              "<body><a href=c.html>c</a></body></html><!-- end -->";
    for (size_t i = 0; i <= strlen(doc); i++) {
        char *got = extract_split(DOC_URL, doc, i, (size_t)-1);
        cr_assert_str_eq(got, "P https://example.com/dir/a.html\n"
                              "R https://example.com/late.js\n"
                              "R https://example.com/dir/b.css\n"
                              "P https://example.com/dir/c.html\n", "split at %zu", i);
        free(got);
    }
}

Test(links, undeclared_encoding_is_utf8_and_a_declared_one_wins)
{
    char *got = extract(DOC_URL, "<a href=\"caf\xc3\xa9\">x</a>");
    cr_assert_str_eq(got, "P https://example.com/dir/caf%C3%A9\n");
    free(got);
    got = extract(DOC_URL, "<meta charset=iso-8859-1><a href=\"caf\xe9\">x</a>");
    cr_assert_str_eq(got, "P https://example.com/dir/caf%C3%A9\n");
    free(got);
}

Test(links, nothing_from_non_html)
{
    char *got = extract(DOC_URL, "just text, no tags; http://example.com/not-a-link");
    cr_assert_str_eq(got, "");
    free(got);
    got = extract(DOC_URL, "");
    cr_assert_str_eq(got, "");
    free(got);
}

Test(links, ten_megabytes_in_4k_chunks_count_right_in_flat_memory)
{
    xml_count_start();
    acr_buf doc = {0};
    acr_buf_puts(&doc, "<!DOCTYPE html><html><head><title>big</title></head><body>\n");
    size_t n = 0;
    char line[160];
    while (doc.len < 10u << 20) {
        snprintf(line, sizeof line, "<p class=\"item\">Item %zu: <a href=\"/page/%zu?x=1&amp;y=2\">page %zu</a>"
                 " <img src=\"/img/%zu.png\"></p>\n", n, n, n, n);
        acr_buf_puts(&doc, line);
        n++;
    }
    acr_buf_puts(&doc, "</body></html>\n");
    cr_assert_not(doc.oom);

    acr_url base;
    parse_base(&base, "http://example.com/");
    size_t seen = 0;
    acr_links *l;
    cr_assert_eq(acr_links_new(&l, &base, count_link, &seen), 0);
    long long start = xml_live;
    long long peak_first_mb = 0;
    for (size_t off = 0; off < doc.len; off += 4096) {
        size_t len = doc.len - off < 4096 ? doc.len - off : 4096;
        cr_assert_eq(acr_links_feed(l, doc.p + off, len), 0);
        if (off < (1u << 20))
            peak_first_mb = xml_peak - start;
    }
    cr_assert_eq(acr_links_finish(l), 0);
    cr_assert_eq(seen, 2 * n);
    cr_assert_eq(acr_links_count(l), 2 * n);
    long long peak = xml_peak - start;
    cr_log_info("libxml2 peak: %lld bytes after 1 MB, %lld after 10 MB", peak_first_mb, peak);
    cr_assert_lt(peak, 256 * 1024, "libxml2 held %lld bytes at its peak", peak);
    cr_assert_leq(peak, peak_first_mb + 16 * 1024, "grew from %lld to %lld bytes", peak_first_mb, peak);
    acr_links_free(l);
    acr_url_release(&base);
    free(doc.p);
}

static void add_header(acr_headers *h, const char *name, const char *value)
{
    cr_assert_eq(acr_headers_add(h, name, strlen(name), value, strlen(value)), 0);
}

static char *from_headers(const acr_headers *h)
{
    acr_url base;
    parse_base(&base, DOC_URL);
    acr_buf out = {0};
    acr_links_from_headers(h, &base, collect, &out);
    acr_url_release(&base);
    return out.p ? out.p : strdup("");
}

Test(links, from_headers)
{
    acr_headers h = {0};
    add_header(&h, "Content-Type", "text/html");
    add_header(&h, "location", "/moved?x=1#frag");
    add_header(&h, "Refresh", "5; url=refresh.html");
    add_header(&h, "Link", "</style.css>; rel=stylesheet, <https://x.test/next>; rel=\"next\","
                           " </pre>; rel=preconnect, <nothing.html>, </a,b.html>; title=\"x, y\"; rel=\"alternate\"");
    add_header(&h, "LINK", "<//cdn.test/font.woff2>; rel=preload; as=font");
    char *got = from_headers(&h);
    cr_assert_str_eq(got, "P https://example.com/moved?x=1\n"
                          "P https://example.com/dir/refresh.html\n"
                          "R https://example.com/style.css\n"
                          "P https://x.test/next\n"
                          "P https://example.com/a,b.html\n"
                          "R https://cdn.test/font.woff2\n");
    free(got);
    acr_headers_release(&h);
}

static void expect_refresh(const char *value, const char *want)
{
    acr_headers h = {0};
    add_header(&h, "Refresh", value);
    char *got = from_headers(&h);
    cr_expect_str_eq(got, want, "Refresh: %s", value);
    free(got);
    acr_headers_release(&h);
}

Test(links, refresh_forms)
{
    expect_refresh("0;URL='/quoted'", "P https://example.com/quoted\n");
    expect_refresh("0; url = \"/dq\" trailing", "P https://example.com/dq\n");
    expect_refresh("3, other.html", "P https://example.com/dir/other.html\n");
    expect_refresh("1.5; url=/frac", "P https://example.com/frac\n");
    expect_refresh("5", "");
    expect_refresh("5;", "");
    expect_refresh("soon; url=/x", "");
    expect_refresh("5x; url=/x", "");
}

Test(links, meta_refresh_in_the_body_forms)
{
    char *got = extract(DOC_URL, "<meta http-equiv=refresh content=\"0;URL='/q'\">"
                                 "<meta http-equiv=\"content-type\" content=\"0; url=/not\">"
                                 "<meta http-equiv=\"REFRESH\" content=\"10\">");
    cr_assert_str_eq(got, "P https://example.com/q\n");
    free(got);
}

Test(links, feed_after_finish_is_harmless)
{
    acr_url base;
    parse_base(&base, DOC_URL);
    acr_buf out = {0};
    acr_links *l;
    cr_assert_eq(acr_links_new(&l, &base, collect, &out), 0);
    acr_url_release(&base);     /* the extractor keeps its own copy */
    cr_assert_eq(acr_links_feed(l, "<a href=a.html>", 15), 0);
    cr_assert_eq(acr_links_finish(l), 0);
    cr_assert_eq(acr_links_feed(l, "<a href=b.html>", 15), 0);
    cr_assert_eq(acr_links_finish(l), 0);
    cr_assert_eq(acr_links_count(l), 1);
    acr_links_free(l);
    free(out.p);
}

/* Each allocation of a run failing in turn: -ENOMEM from new, feed or finish, or
 * (a failure that cost nothing) the whole list; under ASan, no leak either way. */
Test(links, every_allocation_failure_is_enomem_or_harmless)
{
    acr_url base;
    parse_base(&base, DOC_URL);
    size_t full = 0;
    acr_links *l;
    cr_assert_eq(acr_links_new(&l, &base, count_link, &full), 0);
    cr_assert_eq(acr_links_feed(l, every_form, strlen(every_form)), 0);
    cr_assert_eq(acr_links_finish(l), 0);
    acr_links_free(l);
    bool clean_run = false;
    for (uint64_t nth = 1; !clean_run; nth++) {
        cr_assert_lt(nth, 10000);
        size_t seen = 0;
        acr_alloc_fail_nth(nth);
        uint64_t before = acr_alloc_count();
        int rc = acr_links_new(&l, &base, count_link, &seen);
        if (rc == 0) {
            rc = acr_links_feed(l, every_form, strlen(every_form));
            int frc = acr_links_finish(l);
            rc = rc ? rc : frc;
            acr_links_free(l);
        }
        clean_run = acr_alloc_count() - before < nth;
        acr_alloc_fail_nth(0);
        cr_assert(rc == 0 || rc == -ENOMEM, "allocation %llu: %d", (unsigned long long)nth, rc);
        if (rc == 0)
            cr_assert_eq(seen, full, "allocation %llu failed unseen", (unsigned long long)nth);
    }
    acr_url_release(&base);
}

/* ---- the pre-pass (crawl/markup.h) against libxml2 given every byte ---- */

static unsigned long long prng = 0x2545f4914f6cdd1dull;
static unsigned rnd(unsigned n)
{
    prng ^= prng << 13;
    prng ^= prng >> 7;
    prng ^= prng << 17;
    return (unsigned)(prng % n);
}

/* A page of the forms where a tag's end or a comment's is easy to misjudge. */
static void random_page(acr_buf *b)
{
    static const char *const parts[] = {
        "<a href=\"/p%u\">text %u</a>", "<A HREF=/q%u>x</A>", "<a title=\"a > b\" href=\"/t%u\">t</a>",
        "<a title='x>y' href='/s%u'>s</a>", "<a b\"c>d\" href=/z%u>", "<!-- <a href=/c%u> -- > -->",
        "<!--x%u--->", "<script>if (a < b && c > d) x = '<a href=/js%u>'; </script>",
        "<style>p > a { x: '<a href=/css%u>' }</style>", "<![CDATA[ <a href=/cd%u> ]]>", "1 < 2 and %u <= 4",
        "<img src=\"/i%u.png\" srcset=\"/a%u.png 1x, /b.png 2x\">", "<base href=\"/dir%u/\">",
        "<meta http-equiv=refresh content=\"0; url=/m%u\">", "<link rel=next href=/n%u>", "&amp;&lt;%u&gt;",
        "<p>para %u<br/>", "<iframe src=/f%u></iframe>", "<textarea><a href=/ta%u></textarea>",
        "<title>a <b> %u</title>", "<a href=/u%u?x=1&amp;y=2>q</a>", "<a\nhref\n=\n\"/nl%u\"\n>n</a>",
        "<?php echo %u ?>", "<!DOCTYPE html>", "<a href=\"/unterminated%u>",
    };
    acr_buf_puts(b, rnd(2) ? "<html><head>" : "");
    for (unsigned i = 0, n = 5 + rnd(40); i < n; i++) {
        char s[256];
        unsigned v = rnd(1000);
        snprintf(s, sizeof s, parts[rnd(sizeof parts / sizeof parts[0])], v, v);
        acr_buf_puts(b, s);
        if (rnd(3) == 0)
            acr_buf_puts(b, rnd(2) ? " words between " : "\n");
    }
}

static char *extract_mode(const char *doc, bool prepass, size_t step)
{
    acr_url base;
    parse_base(&base, "http://example.com/a/b.html");
    acr_buf out = {0};
    acr_links *l;
    cr_assert_eq(acr_links_new(&l, &base, collect, &out), 0);
    acr_links_set_prepass(l, prepass);
    size_t len = strlen(doc);
    for (size_t off = 0; off < len; off += step)
        cr_assert_eq(acr_links_feed(l, doc + off, len - off < step ? len - off : step), 0);
    cr_assert_eq(acr_links_finish(l), 0);
    acr_links_free(l);
    acr_url_release(&base);
    acr_buf_putc(&out, 0);
    return out.p;
}

Test(links, the_prepass_finds_exactly_the_links_libxml2_finds_in_every_byte)
{
    for (int i = 0; i < 3000; i++) {
        acr_buf doc = {0};
        random_page(&doc);
        acr_buf_putc(&doc, 0);
        char *all = extract_mode(doc.p, false, doc.len);
        size_t step = 1 + rnd(64);
        char *pre = extract_mode(doc.p, true, step);
        cr_assert_str_eq(pre, all, "page %d, chunks of %zu:\n%s", i, step, doc.p);
        free(all);
        free(pre);
        free(doc.p);
    }
}
