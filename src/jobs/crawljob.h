/* crawljob.h -- private: crawl mode. The fetch job plus a loop back: seeds and the
 * links of fetched pages go through normalisation, scope, the seen-set and
 * robots.txt into the frontier, and every fetched URL yields one record on the
 * completion channel (seed lines that never got fetched yield a cancelled one). */
#ifndef ACR_JOBS_CRAWLJOB_H
#define ACR_JOBS_CRAWLJOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acrawl/sync.h"
#include "input.h"

#define ACR_CRAWL_INF_DEPTH 0xffffffffu

/* A discovered URL that will not be fetched, and why (out-of-scope, depth, robots,
 * ...): for --log-skipped. Called from the job's tasks; must not suspend. */
typedef void acr_skipped_fn(void *arg, const char *url, const char *parent, const char *reason);

typedef struct acr_crawl_opts {
    bool on;
    unsigned max_depth;         /* --level; ACR_CRAWL_INF_DEPTH for inf */
    uint64_t max_pages;         /* pages fetched at most; 0: no limit */
    bool span_hosts;            /* follow links to any host */
    bool no_parent;             /* never above a seed's directory */
    bool page_requisites;       /* also fetch stylesheets, images, scripts */
    bool no_robots;             /* ignore robots.txt */
    bool no_sitemaps;           /* do not read robots.txt's Sitemap: lines */
    const char *const *sitemaps;/* --sitemap URLs to read first */
    size_t nsitemaps;
    const char *domains;        /* comma-separated: hosts in these domains are in scope */
    const char *exclude_domains;
    const char *include;        /* POSIX extended regex the URL must match */
    const char *exclude;        /* ... and must not */
    unsigned per_host;          /* requests in flight per origin */
    int64_t wait;               /* ns between request starts to one origin */
    bool random_wait;
    int64_t max_crawl_delay;    /* robots.txt Crawl-delay is capped at this */
    size_t max_url_len;         /* crawl-trap guards: longer URLs are skipped, */
    unsigned max_repeats;       /* ... and paths repeating a segment more often, */
    uint64_t host_page_cap;     /* ... and pages of one host past this (0: none) */
    size_t frontier_mem;        /* bytes of queued URLs in memory; past it, on disk */
    acr_skipped_fn *skipped;
    void *skipped_arg;
    struct acr_state *state;    /* --state: opened (crawl/state.h); loaded and journaled here */
    struct acr_dist *dist;      /* --redis: the shared job (dist/job.h), opened; NULL: local */
} acr_crawl_opts;

/* What the report shows of a crawl. */
#define ACR_CRAWL_MAX_DEPTHS 16
typedef struct acr_crawl_stats {
    uint64_t pages;                             /* fetched (records of pages) */
    uint64_t by_depth[ACR_CRAWL_MAX_DEPTHS];    /* the last bucket: that depth or deeper */
    uint64_t links;                             /* found on pages */
    uint64_t dedup_hits;                        /* links to URLs seen before */
    uint64_t skipped_scope, skipped_depth, skipped_pattern, skipped_trap, skipped_robots, skipped_limit;
    uint64_t robots_fetches, robots_ok, robots_4xx, robots_unavailable;
    size_t frontier_peak, origins;
    uint64_t spilled;                           /* queued URLs that waited on disk */
    struct {
        char host[64];
        uint64_t pages;
    } top_hosts[10];                            /* most pages first; host "" ends it */
    double rate_by_tenth[10];                   /* pages/s in each tenth of the run */
    /* --state: the earlier runs on the state, and this run's pages a stop left for
     * the next (the program fills deferred). */
    bool state;
    uint64_t runs_before, pages_before, errors_before, bytes_before, deferred;
    double wall_before_s;
} acr_crawl_stats;

struct acr_job_opts;
typedef struct acr_crawl acr_crawl;

/* As acr_job_start, in crawl mode: input lines are seeds. 0, or an error with err. */
int acr_crawl_start(acr_crawl **out, const struct acr_job_opts *o, acr_input *in, acr_chan *records, char *err,
                    size_t errlen);
void acr_crawl_stop(acr_crawl *c);
void acr_crawl_free(acr_crawl *c);
unsigned acr_crawl_inflight(const acr_crawl *c);
uint64_t acr_crawl_urls_read(const acr_crawl *c);
bool acr_crawl_input_done(const acr_crawl *c);
const char *acr_crawl_input_error(const acr_crawl *c);
uint64_t acr_crawl_lines_lost(const acr_crawl *c);
void acr_crawl_stats_get(const acr_crawl *c, acr_crawl_stats *out);

struct acr_state_pos;
struct acr_state_totals;
/* With --state: where the outputs stood at the last page the state recorded as done,
 * and the totals of earlier runs (zeros for a new state). */
void acr_crawl_resumed(const acr_crawl *c, struct acr_state_pos *pos, struct acr_state_totals *tot);

#endif
