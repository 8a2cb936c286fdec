/* robots.h -- private: robots.txt (RFC 9309) parsed once per origin into precompiled
 * rules, then matched against every URL path the crawler finds. Pure: no I/O. */
#ifndef ACR_CRAWL_ROBOTS_H
#define ACR_CRAWL_ROBOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct acr_robots acr_robots;

/* Parses a robots.txt body (only the first 500 KiB are parsed, RFC 9309 §2.5; a line
 * cut by that limit is dropped) for the product token of `agent` ("acrawl" or
 * "acrawl/1.0 (+url)": the leading run of letters, '_' and '-'). Group selection:
 * every group with a user-agent line whose product token equals ours, ignoring case,
 * merged; else every "*" group, merged; else no rules. Rules before any user-agent
 * line are ignored; a UTF-8 BOM, CR/LF/CRLF line ends, comments, a missing colon
 * ("Disallow /x") and any bytes are accepted. On success *out is set; 0 or -ENOMEM
 * (then *out is NULL). */
int acr_robots_parse(acr_robots **out, const char *body, size_t len, const char *agent);
/* Rules that allow everything (4xx robots.txt) or disallow everything (5xx, network
 * error; /robots.txt itself stays allowed). 0 or -ENOMEM. */
int acr_robots_allow_all(acr_robots **out);
int acr_robots_disallow_all(acr_robots **out);
/* path: the URL's path and query as sent ("/a/b?c"). The rule matching the most
 * octets wins (octets counted in the normalised pattern); on a tie Allow wins; no
 * match allows. '*' matches any run of octets, '$' at the end of a rule anchors it.
 * Rule and path are compared normalised (RFC 9309 §2.2.2): escapes of unreserved
 * characters decoded, hex case ignored, non-ASCII and other bytes outside the
 * reserved and unreserved sets equal to their escapes. /robots.txt (with or without a
 * query) is always allowed. No allocation. Cost: one walk of the path down a trie of
 * the rules' literal prefixes (the part before any '*'), plus a wildcard match for
 * each rule with a '*' met on the way (anchored ones first check their end). */
bool acr_robots_allowed(const acr_robots *r, const char *path);
/* Crawl-delay of the chosen groups (the first one given) in nanoseconds, or -1 when
 * none. Non-standard but widely used: integer and decimal seconds ("10", "0.5");
 * values above 10^9 s read as 10^9 s; anything else is ignored. */
int64_t acr_robots_crawl_delay(const acr_robots *r);
/* The Sitemap: lines that are absolute http(s) URLs, from anywhere in the file, in
 * order. *urls stays valid until acr_robots_free. Returns their number. */
size_t acr_robots_sitemaps(const acr_robots *r, const char *const **urls);
void acr_robots_free(acr_robots *r);

#endif
