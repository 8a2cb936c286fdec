/* frontier.h -- private: the crawl's queue of URLs to fetch. Per-origin FIFO queues
 * and a heap of origins ordered by when each may be fetched next, so pop() hands out
 * only URLs whose origin is ready: its robots.txt known, fewer than per_host of its
 * requests in flight, and, when a delay is to be kept (wait, Crawl-delay), no request
 * in flight and the delay over since the last one ended, so the server sees it
 * between requests. A slow or stalled origin never holds back the others. */
#ifndef ACR_CRAWL_FRONTIER_H
#define ACR_CRAWL_FRONTIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct acr_robots;

/* How a URL was found. */
typedef enum { ACR_VIA_SEED, ACR_VIA_LINK, ACR_VIA_REDIRECT, ACR_VIA_SITEMAP } acr_via;
const char *acr_via_name(acr_via via);

typedef struct acr_origin acr_origin;

/* One URL taken from the frontier; the taker owns it until acr_frontier_done. */
typedef struct acr_crawl_url {
    char *url;                  /* normalised absolute URL */
    char *parent;               /* the page that linked it; NULL for seeds */
    unsigned depth;             /* seeds 0 */
    acr_via via;
    uint64_t line;              /* input line of a seed, 0 otherwise */
    bool robots;                /* this is the origin's robots.txt, not a page */
    bool sitemap;               /* a sitemap: its URLs are read, not its links */
    acr_origin *origin;
    void *tag;                  /* acr_frontier_push_tagged's, else NULL */
    struct acr_crawl_url *next;
} acr_crawl_url;

/* Why a queued URL was dropped without a fetch (for --log-skipped and the report). */
typedef void acr_skip_fn(void *arg, const acr_crawl_url *u, const char *reason);

typedef struct acr_frontier_opts {
    unsigned per_host;          /* requests in flight per origin at most (0: 1) */
    int64_t wait;               /* from the end of one request to an origin to the next, ns */
    bool random_wait;           /* wait x [0.5, 1.5) */
    int64_t max_crawl_delay;    /* Crawl-delay is capped at this, ns */
    bool robots;                /* fetch and obey robots.txt (else every origin is ready) */
    size_t mem_limit;           /* bytes of queued URLs kept in memory; past it, newly
                                 * queued URLs wait in a temporary file (0: no limit) */
    acr_skip_fn *skip;          /* may be NULL */
    void *skip_arg;
} acr_frontier_opts;

typedef struct acr_frontier acr_frontier;

/* 0 or -ENOMEM. */
int acr_frontier_new(acr_frontier **out, const acr_frontier_opts *o);
/* Frees every queued URL. No task may be waiting in pop. */
void acr_frontier_free(acr_frontier *f);

/* Queues url (normalised, in scope and not seen before: the caller decides) under
 * its origin ("scheme://host:port"). 0 or -ENOMEM. */
int acr_frontier_push(acr_frontier *f, const char *url, const char *origin, unsigned depth, const char *parent,
                      acr_via via, uint64_t line);
/* Queues url as acr_frontier_push, carrying tag (the caller's, handed back in the
 * acr_crawl_url and to skip): never spilled to the file. */
int acr_frontier_push_tagged(acr_frontier *f, const char *url, const char *origin, unsigned depth,
                             const char *parent, acr_via via, bool sitemap, void *tag);
/* Queues a sitemap document (depth 0, via sitemap), as acr_frontier_push. */
int acr_frontier_push_sitemap(acr_frontier *f, const char *url, const char *origin, const char *parent);
/* No more seeds will come; pop ends (ACR_EEMPTY) once nothing is queued or in flight. */
void acr_frontier_close_input(acr_frontier *f);

/* The next URL that may be fetched now: *out is a page or, before any page of a new
 * origin, that origin's robots.txt (out->robots). Waits until one is ready.
 * 0, ACR_EEMPTY (input closed, nothing queued, nothing in flight), ACR_ETIMEOUT,
 * ACR_ECANCELED. */
int acr_frontier_pop(acr_frontier *f, int64_t deadline, acr_crawl_url **out);
/* The fetch of u is over (whatever came of it): frees u and lets its origin go on. */
void acr_frontier_done(acr_frontier *f, acr_crawl_url *u);

/* The outcome of an origin's robots.txt fetch. rules: owned by the frontier from now
 * on; NULL with retry_at > 0: unavailable (5xx, network error), its URLs wait until
 * retry_at; NULL with retry_at 0: given up, its URLs are skipped ("robots-unavailable"). */
void acr_frontier_set_robots(acr_frontier *f, acr_origin *o, struct acr_robots *rules, int64_t retry_at);

/* origin's robots.txt is known already (a resumed crawl): its URLs follow rules
 * (owned by the frontier from now on) without a fetch. 0 or -ENOMEM (rules freed). */
int acr_frontier_preset_robots(acr_frontier *f, const char *origin, struct acr_robots *rules);

/* A request to origin ended at t (acr_now's clock) outside this frontier: another
 * worker of a shared crawl fetched it before this one took it over. Its next request
 * here (robots.txt too) keeps the delay (wait, Crawl-delay) from t, as after one of
 * its own. 0 or -ENOMEM. */
int acr_frontier_ended_elsewhere(acr_frontier *f, const char *origin, int64_t t);

/* o's name: "scheme://host:port". */
const char *acr_frontier_origin_name(const acr_origin *o);

/* How many times o's robots.txt has been asked for so far (1 during the first fetch). */
unsigned acr_frontier_robots_tries(const acr_origin *o);

/* Drops the queued URLs in memory that which() picks, each reported to skip with
 * `reason` (skip must not suspend). */
void acr_frontier_drop_if(acr_frontier *f, bool (*which)(void *arg, const acr_crawl_url *u), void *arg,
                          const char *reason);

/* Drops every queued URL (each reported to skip with `reason`): the crawl stops. */
void acr_frontier_drop(acr_frontier *f, const char *reason);

typedef struct acr_frontier_stats {
    size_t queued, queued_peak, origins, inflight;
    uint64_t robots_skipped;    /* URLs robots.txt disallowed */
    uint64_t spilled;           /* URLs that went through the file */
    size_t mem, mem_peak;       /* bytes of queued URLs in memory */
} acr_frontier_stats;

void acr_frontier_stats_get(const acr_frontier *f, acr_frontier_stats *out);

#endif
