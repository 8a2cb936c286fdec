/* sitemap.h -- private: sitemaps (sitemaps.org): <urlset> and <sitemapindex> XML,
 * plain or gzip-compressed, parsed as the body streams in by libxml2's SAX push
 * parser (no tree, no network, no entities but the five predefined ones) within
 * the protocol's limits. */
#ifndef ACR_CRAWL_SITEMAP_H
#define ACR_CRAWL_SITEMAP_H

#include <stdbool.h>
#include <stddef.h>

/* The protocol's limits per sitemap file. */
#define ACR_SITEMAP_MAX_URLS 50000
#define ACR_SITEMAP_MAX_BYTES (50u * 1024 * 1024)   /* uncompressed */

/* Called once per <url><loc> of a <urlset> (is_index false) or <sitemap><loc> of a
 * <sitemapindex> (is_index true), with the location as a normalised absolute
 * http(s) URL (acr_url_parse's href); locations that are not are skipped. The
 * string is valid during the call only. */
typedef void acr_sitemap_fn(void *arg, const char *url, bool is_index);

typedef struct acr_sitemap acr_sitemap;

/* 0 or -ENOMEM. */
int acr_sitemap_new(acr_sitemap **out, acr_sitemap_fn *fn, void *arg);
/* Feeds the next chunk of the body as received (after HTTP content decoding; a
 * gzip file, told by its magic bytes, is inflated here); fn runs from inside.
 * 0; -ENOMEM; ACR_ETOOLARGE past 50 000 locations or 50 MB of XML (the locations
 * before the limit were reported, the one past it not); ACR_EPROTO when the body
 * is not a sitemap: not well-formed XML (a sitemap must be), another root element,
 * bad gzip. Errors are sticky: the parser has stopped and later calls return the
 * same code. */
int acr_sitemap_feed(acr_sitemap *s, const char *data, size_t len);
/* The body ended. 0, or the codes of acr_sitemap_feed: ACR_EPROTO also when the
 * XML or gzip stream is truncated or the body was empty. */
int acr_sitemap_finish(acr_sitemap *s);
void acr_sitemap_free(acr_sitemap *s);

#endif
