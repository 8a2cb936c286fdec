/* links.h -- private: link extraction from HTML bodies as they stream in (libxml2's
 * HTML push parser, SAX start tags only, no tree) and from response headers.
 * Reports absolute http(s) URLs, fragment dropped. */
#ifndef ACR_CRAWL_LINKS_H
#define ACR_CRAWL_LINKS_H

#include <stdbool.h>
#include <stddef.h>

#include "acrawl/http.h"
#include "acrawl/url.h"

/* What kind of reference a link is: the crawler follows pages, and requisites
 * (stylesheets, icons, images, scripts, frames' sources) only when asked.
 * Pages: a/area href; link href with rel alternate, next, prev, canonical;
 * iframe/frame src; meta http-equiv=refresh. Requisites: link href with rel
 * stylesheet, icon (any *-icon), preload, modulepreload; img/script/source src;
 * img/source srcset (every candidate). A <link> with another rel is no link. */
typedef enum { ACR_LINK_PAGE, ACR_LINK_REQUISITE } acr_link_kind;

/* Called once per link found, with an absolute http(s) URL (resolved against the
 * document URL or the <base href> seen before it), fragment dropped. The string is
 * valid during the call only. */
typedef void acr_link_fn(void *arg, const char *url, acr_link_kind kind);

typedef struct acr_links acr_links;

/* base: the document's (final) URL, copied. 0 or -ENOMEM. */
int acr_links_new(acr_links **out, const acr_url *base, acr_link_fn *fn, void *arg);
/* Feeds the next chunk of the (content-decoded) HTML body, taken as UTF-8 unless
 * it declares another charset (<meta charset>, http-equiv); fn runs from inside.
 * 0 or -ENOMEM (then the extractor stops: later calls return -ENOMEM too). Never
 * fails on bad HTML. */
int acr_links_feed(acr_links *l, const char *data, size_t len);
/* The body ended: flushes the parser (links in a last, unterminated tag are
 * reported). 0 or -ENOMEM. */
int acr_links_finish(acr_links *l);
void acr_links_free(acr_links *l);
/* Links reported so far. */
size_t acr_links_count(const acr_links *l);

/* Whether libxml2 gets the page's tags only (the default, markup.h) or every byte:
 * for tests and benches that compare the two. Before the first feed. */
void acr_links_set_prepass(acr_links *l, bool on);

/* Links from response headers, as pages unless a Link header's rel says requisite:
 * Location, Refresh ("5; url=..."), Link (<...>; rel=..., several per header and
 * several headers). Relative references resolve against base. */
void acr_links_from_headers(const acr_headers *h, const acr_url *base, acr_link_fn *fn, void *arg);

#endif
