/* sites.h -- private to the test server: the crawlable sites under /site/, the
 * server-wide /robots.txt and the /site-stats politeness log (see SITES.md). */
#ifndef ACR_TESTSERVER_SITES_H
#define ACR_TESTSERVER_SITES_H

#include <stdbool.h>

#include "transport/stream.h"

/* What the sites need of a parsed request; server.c fills it from its own. */
struct site_req {
    const char *path;            /* target without the query */
    const char *target;          /* target as sent, query included */
    char *const *hname, *const *hvalue;
    int nh;
    bool keep_alive, head, tls;
};

/* True for the paths sites_serve answers: /site/..., /robots.txt, /site-stats... */
bool sites_match(const char *path);

/* Answers one request on s. 0 to keep the connection, non-zero to close it. */
int sites_serve(acr_stream *s, const struct site_req *q);

/* Selects the variant served at /robots.txt for the whole server (default "404").
 * 0, or -1 for an unknown name. */
int sites_set_robots(const char *variant);

/* The variant names, space-separated, for usage text. */
const char *sites_robots_names(void);

#endif
