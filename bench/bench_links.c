/* bench_links.c -- the link extractor alone on one core: a realistic page mix
 * (~6 KB pages with ~25 links each) concatenated and fed in 16 KiB chunks, as one
 * stream and as one extractor per page. Prints one JSON object.
 * Usage: bench_links [MEGABYTES (64) [REPS (5) [stream|pages|libxml2|all]]]: the best
 * of REPS runs in CPU time; one mode alone is for perf. */
#include <stdbool.h>
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

/* About one word in 25 is an entity: libxml2 2.9 looks named entities up by a
 * linear scan of its table, so entity-heavy text costs visibly more. */
static const char *const words[] = {"the", "crawler", "fetches", "pages", "and", "follows", "links",
                                    "between", "them", "while", "respecting", "robots", "rules",
                                    "of", "each", "site", "with", "care", "for", "its", "servers",
                                    "caf\xc3\xa9", "so", "far", "&amp;"};

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
    htmlParserCtxtPtr c = htmlCreatePushParserCtxt(&sax, &tags, NULL, 0, NULL, XML_CHAR_ENCODING_UTF8);
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

struct corpus {
    acr_buf doc;
    size_t *starts, npages;
    acr_url base;
};

static void corpus_make(struct corpus *c, size_t mb)
{
    size_t cap = mb * 1024 * 1024 / 4000 + 16;
    c->starts = malloc(cap * sizeof *c->starts);
    while (c->starts && c->doc.len < mb * 1024 * 1024 && c->npages < cap) {
        c->starts[c->npages++] = c->doc.len;
        page(&c->doc, (unsigned)c->npages);
    }
    if (c->doc.oom || !c->starts || acr_url_parse(&c->base, "https://www.example.com/articles/index.html", NULL, 0))
        exit(1);
}

/* Best (least) CPU seconds of reps runs of one mode; links counts what it found. */
static double measure(const struct corpus *c, char mode, int reps, size_t *links)
{
    double best = 1e9;
    for (int rep = 0; rep < reps; rep++) {
        double t0 = now();
        if (mode == 's')
            *links = run_stream(&c->doc, &c->base);
        else if (mode == 'p')
            *links = run_pages(&c->doc, c->starts, c->npages, &c->base);
        else
            run_libxml2(&c->doc);
        double t = now() - t0;
        best = t < best ? t : best;
    }
    return best;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "-h")) {
        fprintf(stderr, "usage: bench_links [MEGABYTES [REPS [stream|pages|libxml2|all]]]\n");
        return 2;
    }
    size_t mb = argc > 1 ? (size_t)atol(argv[1]) : 64;
    int reps = argc > 2 ? atoi(argv[2]) : 5;
    const char *only = argc > 3 ? argv[3] : "all";
    bool all = !strcmp(only, "all");
    struct corpus c = {0};
    corpus_make(&c, mb);
    size_t links = 0, links_pages = 0, none = 0;
    double stream = all || only[0] == 's' ? measure(&c, 's', reps, &links) : 0;
    double pages = all || only[0] == 'p' ? measure(&c, 'p', reps, &links_pages) : 0;
    double raw = all || only[0] == 'l' ? measure(&c, 'l', reps, &none) : 0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double mbytes = (double)c.doc.len / (1024.0 * 1024.0);
    printf("{\"bench\":\"links\",\"mb_per_s\":%.1f,\"links_per_s\":%.0f,"
           "\"per_page_mb_per_s\":%.1f,\"per_page_links_per_s\":%.0f,\"libxml2_alone_mb_per_s\":%.1f,"
           "\"mb\":%.1f,\"pages\":%zu,\"links\":%zu,\"links_per_page\":%.1f,"
           "\"chunk\":%d,\"max_rss_kb\":%ld}\n",
           stream ? mbytes / stream : 0, stream ? (double)links / stream : 0, pages ? mbytes / pages : 0,
           pages ? (double)links_pages / pages : 0, raw ? mbytes / raw : 0, mbytes, c.npages, links,
           (double)links / (double)c.npages, CHUNK, ru.ru_maxrss);
    acr_url_release(&c.base);
    free(c.doc.p);
    free(c.starts);
    return 0;
}
