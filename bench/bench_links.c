/* bench_links.c -- the link extractor alone on one core: a realistic page mix
 * (~6 KB pages with ~25 links each) concatenated and fed in 16 KiB chunks, as one
 * stream and as one extractor per page. Prints one JSON object.
 * Usage: bench_links [MEGABYTES (default 64)] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <libxml/HTMLparser.h>

#include "crawl/links.h"
#include "util/buf.h"

#define CHUNK (16 * 1024)

static unsigned long long rng = 0x9e3779b97f4a7c15ull;

static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static const char *const words[] = {"the", "crawler", "fetches", "pages", "and", "follows", "links",
                                    "between", "them", "while", "respecting", "robots", "rules",
                                    "of", "each", "site", "&amp;", "caf&eacute;", "&#8212;", "data"};

static void text(acr_buf *b, unsigned nwords)
{
    for (unsigned i = 0; i < nwords; i++) {
        acr_buf_puts(b, words[rnd(sizeof words / sizeof *words)]);
        acr_buf_putc(b, ' ');
    }
}

static void head(acr_buf *b, unsigned page)
{
    char s[512];
    snprintf(s, sizeof s,
             "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
             "<title>Page %u - Example</title>\n"
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
             "<link rel=\"stylesheet\" href=\"/static/css/main.css?v=%u\">\n"
             "<link rel=\"icon\" href=\"/favicon.ico\">\n"
             "<link rel=\"canonical\" href=\"https://www.example.com/articles/%u\">\n"
             "<script src=\"/static/js/app.js\" defer></script>\n"
             "<script>window.dataLayer = window.dataLayer || []; function gtag(){dataLayer.push(arguments);}"
             "</script>\n</head>\n",
             page, page % 7, page);
    acr_buf_puts(b, s);
}

static void nav(acr_buf *b)
{
    static const char *const items[] = {"/", "/news/", "/articles/", "/about", "/contact",
                                        "https://blog.example.com/", "/search?q=&amp;lang=en"};
    acr_buf_puts(b, "<body class=\"page\"><header><nav class=\"top\"><ul>\n");
    for (size_t i = 0; i < sizeof items / sizeof *items; i++) {
        acr_buf_puts(b, "<li class=\"nav-item\"><a class=\"nav-link\" href=\"");
        acr_buf_puts(b, items[i]);
        acr_buf_puts(b, "\">Section</a></li>\n");
    }
    acr_buf_puts(b, "</ul></nav></header>\n<!-- main content -->\n<main><article>\n");
}

static void paragraph(acr_buf *b, unsigned page)
{
    char s[256];
    acr_buf_puts(b, "<p>");
    text(b, 20 + rnd(30));
    unsigned kind = rnd(4);
    if (kind == 0)
        snprintf(s, sizeof s, "<a href=\"/articles/%u\">related article</a> ", rnd(100000));
    else if (kind == 1)
        snprintf(s, sizeof s, "<a href=\"../tags/t%u.html#top\" title=\"tag\">tag</a> ", rnd(500));
    else if (kind == 2)
        snprintf(s, sizeof s, "<a href=\"https://other%u.example.org/path/%u?ref=p%u\" rel=\"nofollow\">ext</a> ",
                 rnd(50), rnd(1000), page);
    else
        snprintf(s, sizeof s, "<img src=\"/img/%u.jpg\" alt=\"photo\" width=\"640\" height=\"480\"> ", rnd(9999));
    acr_buf_puts(b, s);
    text(b, 10 + rnd(20));
    acr_buf_puts(b, "</p>\n");
}

static void footer(acr_buf *b)
{
    acr_buf_puts(b, "</article></main>\n<footer><p>&copy; Example &mdash; "
                    "<a href=\"/privacy\">Privacy</a> <a href=\"/terms\">Terms</a> "
                    "<a href=\"mailto:info@example.com\">Mail</a> <a href=\"#top\">Top</a></p></footer>\n"
                    "</body></html>\n");
}

/* One page of about 6 KB with about 25 links; its start offset goes to starts. */
static void page(acr_buf *b, unsigned n)
{
    head(b, n);
    nav(b);
    size_t start = b->len;
    while (b->len - start < 4800)
        paragraph(b, n);
    footer(b);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);   /* one thread: its CPU time */
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void count(void *arg, const char *url, acr_link_kind kind)
{
    (void)url;
    (void)kind;
    (*(size_t *)arg)++;
}

/* The whole corpus as one stream through one extractor. */
static size_t run_stream(const acr_buf *doc, const acr_url *base)
{
    size_t links = 0;
    acr_links *l;
    if (acr_links_new(&l, base, count, &links) != 0)
        exit(1);
    for (size_t off = 0; off < doc->len; off += CHUNK) {
        size_t n = doc->len - off < CHUNK ? doc->len - off : CHUNK;
        acr_links_feed(l, doc->p + off, n);
    }
    acr_links_finish(l);
    acr_links_free(l);
    return links;
}

static void noop_start(void *ctx, const xmlChar *name, const xmlChar **atts)
{
    (void)name;
    (void)atts;
    (*(size_t *)ctx)++;
}

/* The ceiling: libxml2's push parser alone with an empty start-tag callback. */
static size_t run_libxml2(const acr_buf *doc)
{
    size_t tags = 0;
    htmlSAXHandler sax = {.startElement = noop_start};
    htmlParserCtxtPtr c = htmlCreatePushParserCtxt(&sax, &tags, NULL, 0, NULL, XML_CHAR_ENCODING_NONE);
    htmlCtxtUseOptions(c, HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING);
    c->depth = 1 << 30;     /* as the extractor does: parse past </html> */
    for (size_t off = 0; off < doc->len; off += CHUNK) {
        size_t n = doc->len - off < CHUNK ? doc->len - off : CHUNK;
        htmlParseChunk(c, doc->p + off, (int)n, 0);
        if (c->hasPErefs & 1) {     /* as the extractor does: see unstall() there */
            c->checkIndex = 0;
            c->hasPErefs &= ~1;
        }
    }
    htmlParseChunk(c, NULL, 0, 1);
    htmlFreeParserCtxt(c);
    return tags;
}

/* One extractor per page, each page fed in 16 KiB chunks (as a crawler does). */
static size_t run_pages(const acr_buf *doc, const size_t *starts, size_t npages, const acr_url *base)
{
    size_t links = 0;
    for (size_t i = 0; i < npages; i++) {
        size_t end = i + 1 < npages ? starts[i + 1] : doc->len;
        acr_links *l;
        if (acr_links_new(&l, base, count, &links) != 0)
            exit(1);
        for (size_t off = starts[i]; off < end; off += CHUNK) {
            size_t n = end - off < CHUNK ? end - off : CHUNK;
            acr_links_feed(l, doc->p + off, n);
        }
        acr_links_finish(l);
        acr_links_free(l);
    }
    return links;
}

int main(int argc, char **argv)
{
    size_t mb = argc > 1 ? (size_t)atol(argv[1]) : 64;
    acr_buf doc = {0};
    size_t cap = mb * 1024 * 1024 / 4000 + 16, npages = 0;
    size_t *starts = malloc(cap * sizeof *starts);
    while (doc.len < mb * 1024 * 1024 && npages < cap) {
        starts[npages++] = doc.len;
        page(&doc, (unsigned)npages);
    }
    if (doc.oom || !starts)
        return 1;
    acr_url base;
    acr_url_parse(&base, "https://www.example.com/articles/index.html", NULL, 0);

    double best_stream = 1e9, best_pages = 1e9, best_raw = 1e9;
    size_t links = 0, links_pages = 0;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now();
        links = run_stream(&doc, &base);
        double t1 = now();
        links_pages = run_pages(&doc, starts, npages, &base);
        double t2 = now();
        run_libxml2(&doc);
        double t3 = now();
        best_raw = t3 - t2 < best_raw ? t3 - t2 : best_raw;
        best_stream = t1 - t0 < best_stream ? t1 - t0 : best_stream;
        best_pages = t2 - t1 < best_pages ? t2 - t1 : best_pages;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double mbytes = (double)doc.len / (1024.0 * 1024.0);
    printf("{\"bench\":\"links\",\"mb_per_s\":%.1f,\"links_per_s\":%.0f,"
           "\"per_page_mb_per_s\":%.1f,\"per_page_links_per_s\":%.0f,\"libxml2_alone_mb_per_s\":%.1f,"
           "\"mb\":%.1f,\"pages\":%zu,\"links\":%zu,\"links_per_page\":%.1f,"
           "\"chunk\":%d,\"max_rss_kb\":%ld}\n",
           mbytes / best_stream, (double)links / best_stream, mbytes / best_pages,
           (double)links_pages / best_pages, mbytes / best_raw, mbytes, npages, links, (double)links / (double)npages, CHUNK,
           ru.ru_maxrss);
    acr_url_release(&base);
    free(doc.p);
    free(starts);
    return 0;
}
