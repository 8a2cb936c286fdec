/* crawljob.c -- crawl mode: a reader task puts seeds into the frontier, a dispatcher
 * takes a permit of the semaphore and then the next ready URL, and page tasks fetch
 * it (never following redirects themselves), extract links as the body streams in,
 * and put what is new and in scope back into the frontier. robots.txt tasks settle
 * each origin's rules before its first page. Records go to the program as in list
 * mode; the ownership rules of fetchjob.c (struct item) hold here too. */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdint.h>
#include <unistd.h>

#include "acrawl/error.h"
#include "acrawl/task.h"
#include "acrawl/url.h"
#include "archive/warc.h"
#include "attempts.h"
#include "common.h"
#include "crawl/frontier.h"
#include "crawl/links.h"
#include "crawl/robots.h"
#include "crawl/sitemap.h"
#include "crawl/state.h"
#include "crawljob.h"
#include "dist/job.h"
#include "fetchjob.h"
#include "mirror.h"
#include "record.h"
#include "runtime/check.h"
#include "runtime/list.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/fpset.h"
#include "util/strmap.h"

#define ROBOTS_MAX (500 * 1024)       /* RFC 9309 §2.5: parse at least 500 KiB */
#define ROBOTS_TRIES 3                /* 5xx or network errors before giving up */
#define AGENT "acrawl"

/* A seed's host and port, and the directories of its seeds (--no-parent). */
struct seedhost {
    acr__strmap_node node;      /* keyed by "host:port" */
    char *key;
    char **dirs;                /* --no-parent: the seeds' directories */
    size_t ndirs, capdirs;
};

/* A number per host name. */
struct hostcount {
    acr__strmap_node node;      /* keyed by host */
    char *host;
    uint64_t n;
};

struct acr_crawl {
    acr_job_opts o;
    const acr_crawl_opts *co;   /* &o.crawl */
    acr_input *in;
    acr_chan *records;
    acr_client *client;
    acr_sem *slots;
    acr_group *fetches;
    acr_task *reader, *dispatcher;
    acr_frontier *frontier;
    acr__fpset seen;            /* fingerprints of every URL ever queued */
    acr__strmap seeds;          /* struct seedhost */
    acr__strmap host_pages;     /* struct hostcount: pages queued per host (the cap) */
    acr__strmap host_fetched;   /* struct hostcount: pages fetched per host (the report) */
    uint32_t *per_tick;         /* pages done in each TICK since the start */
    size_t nticks;
    int64_t t0;
    regex_t include, exclude;
    bool has_include, has_exclude;
    acr_record_src src;
    int dirfd;                  /* -o: the mirror's root, or -1 */
    uint64_t files;             /* -o: bodies saved, numbering flat fallbacks */
    acr_record **cancelled;     /* seeds dropped on stop, waiting for their records */
    size_t ncancelled, capcancelled;
    bool stopping, input_done;
    char input_error[256];
    unsigned inflight;
    uint64_t emitted, pages_started;
    int64_t next_start;
    unsigned rng;
    acr_crawl_stats st;
    acr_state *state;           /* --state, or NULL */
    bool resuming;              /* the state held a crawl: seeds are read before pages go */
    acr_state_pos resume_pos;
    acr_state_totals resume_tot;
    /* --redis: the shared job, or NULL. The puller keeps the local frontier fed with
     * entries of the shards this worker leases; links go to Redis, not the frontier. */
    acr_dist *dist;
    acr_task *puller;
    acr_cond *room;             /* a page of the frontier is over: the puller may pull */
    uint64_t quota;             /* page starts the job granted this worker, not used yet */
    bool quota_spent;           /* the job's --max-pages are all granted */
};

/* A fetch task's work: one URL from the frontier. */
struct work {
    acr_crawl *c;
    acr_crawl_url *u;
};

/* ---- records ---- */

/* Hands a record to the program (see acr__emit). */
static void emit(acr_crawl *c, acr_record *r) { acr__emit(c->records, &c->emitted, r); }

static acr_record *crawl_record(acr_crawl *c, const acr_crawl_url *u)
{
    acr_record *r = acr_record_src_next(&c->src, u->line, u->url);
    if (!r)
        return NULL;
    r->crawl = true;
    r->depth = u->depth;
    r->via = (uint8_t)u->via;
    r->parent = u->parent ? acr_strdup(u->parent) : NULL;
    return r;
}

static void skipped(acr_crawl *c, const char *url, const char *parent, const char *reason)
{
    if (c->co->skipped)
        c->co->skipped(c->co->skipped_arg, url, parent, reason);
}

/* ---- scope ---- */

static struct seedhost *host_get(acr__strmap *m, const char *key, bool create)
{
    acr__strmap_node *n = acr__strmap_get(m, key);
    if (n || !create)
        return n ? acr__container_of(n, struct seedhost, node) : NULL;
    struct seedhost *h = acr_calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->key = acr_strdup(key);
    if (!h->key) {
        free(h);
        return NULL;
    }
    h->node.key = h->key;
    acr__strmap_put(m, &h->node);
    return h;
}

static void hosts_release(acr__strmap *m)
{
    for (acr__strmap_node *n = acr__strmap_shift(m); n; n = acr__strmap_shift(m)) {
        struct seedhost *h = acr__container_of(n, struct seedhost, node);
        for (size_t i = 0; i < h->ndirs && h->dirs; i++)
            free(h->dirs[i]);
        free(h->dirs);
        free(h->key);
        free(h);
    }
    acr__strmap_release(m);
}

/* host's count in m, made (at 0) on first use; NULL when out of memory. */
static uint64_t *host_count(acr__strmap *m, const char *host)
{
    acr__strmap_node *n = acr__strmap_get(m, host);
    if (n)
        return &acr__container_of(n, struct hostcount, node)->n;
    struct hostcount *h = acr_calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->host = acr_strdup(host);
    if (!h->host) {
        free(h);
        return NULL;
    }
    h->node.key = h->host;
    acr__strmap_put(m, &h->node);
    return &h->n;
}

static void counts_release(acr__strmap *m)
{
    for (acr__strmap_node *n = acr__strmap_shift(m); n; n = acr__strmap_shift(m)) {
        struct hostcount *h = acr__container_of(n, struct hostcount, node);
        free(h->host);
        free(h);
    }
    acr__strmap_release(m);
}

static void host_key(char *buf, size_t len, const acr_url *u)
{
    snprintf(buf, len, "%s:%u", u->host, (unsigned)u->port);
}

/* Widens the scope: host key ("host:port") and, with --no-parent, the directory
 * (the first n bytes of dir). */
static int scope_add(acr_crawl *c, const char *key, const char *dir, size_t n)
{
    struct seedhost *h = host_get(&c->seeds, key, true);
    if (!h)
        return -ENOMEM;
    if (!c->co->no_parent || !dir)
        return 0; /* the directories matter to --no-parent only */
    for (size_t i = c->dist ? 0 : h->ndirs ? h->ndirs - 1 : 0; i < h->ndirs; i++)
        if (strlen(h->dirs[i]) == n && !strncmp(h->dirs[i], dir, n))
            return 0; /* seeds in one directory, one after another: once (shared: once) */
    if (h->ndirs == h->capdirs) {
        size_t cap = h->capdirs ? h->capdirs * 2 : 4;
        char **d = acr_realloc(h->dirs, cap * sizeof *d);
        if (!d)
            return -ENOMEM;
        h->dirs = d;
        h->capdirs = cap;
    }
    h->dirs[h->ndirs] = acr_strndup(dir, n);
    if (!h->dirs[h->ndirs])
        return -ENOMEM;
    h->ndirs++;
    return 0;
}

/* A seed widens the scope: its host and port, and (--no-parent) its directory. A
 * shared crawl tells the other workers too ("host:port" or "host:port /dir/"),
 * before the seed is queued. */
static int add_seed_scope(acr_crawl *c, const acr_url *u)
{
    char key[300];
    host_key(key, sizeof key, u);
    const char *slash = strrchr(u->target, '/');
    size_t n = slash ? (size_t)(slash - u->target) + 1 : 1;
    int rc = scope_add(c, key, u->target, n);
    if (rc != 0 || !c->dist)
        return rc;
    acr_buf item = {0};
    acr_buf_puts(&item, key);
    if (c->co->no_parent) {
        acr_buf_putc(&item, ' ');
        acr_buf_add(&item, u->target, n);
    }
    acr_buf_putc(&item, '\0');
    rc = item.oom ? -ENOMEM : acr_dist_scope_add(c->dist, item.p);
    acr_buf_release(&item);
    return rc;
}

/* A scope item another worker's seed added (see add_seed_scope). */
static void on_scope(void *arg, const char *item)
{
    acr_crawl *c = arg;
    const char *sp = strchr(item, ' ');
    char key[300];
    snprintf(key, sizeof key, "%.*s", sp ? (int)(sp - item) : (int)strlen(item), item);
    scope_add(c, key, sp ? sp + 1 : NULL, sp ? strlen(sp + 1) : 0); /* out of memory: links refused, not lost */
}

/* host is domain or ends with "." domain, for a domain of the comma list. */
static bool in_domains(const char *host, const char *list)
{
    size_t hl = strlen(host);
    for (const char *p = list; p && *p;) {
        size_t n = strcspn(p, ",");
        if (n > 0 && n <= hl && !strncasecmp(host + hl - n, p, n) && (n == hl || host[hl - n - 1] == '.'))
            return true;
        p += n;
        if (*p == ',')
            p++;
    }
    return false;
}

static bool under_seed_dir(const struct seedhost *h, const char *target)
{
    for (size_t i = 0; i < h->ndirs; i++) {
        if (!strncmp(target, h->dirs[i], strlen(h->dirs[i])))
            return true;
    }
    return false;
}

/* NULL when u is in scope, else the reason it is not. */
static const char *out_of_scope(acr_crawl *c, const acr_url *u)
{
    const acr_crawl_opts *co = c->co;
    if (co->exclude_domains && in_domains(u->host, co->exclude_domains))
        return "out-of-scope";
    char key[300];
    host_key(key, sizeof key, u);
    struct seedhost *h = host_get(&c->seeds, key, false);
    bool host_ok = h || co->span_hosts || (co->domains && in_domains(u->host, co->domains));
    if (!host_ok)
        return "out-of-scope";
    if (co->no_parent && h && !under_seed_dir(h, u->target))
        return "no-parent";
    if (c->has_include && regexec(&c->include, u->href, 0, NULL, 0) != 0)
        return "not-included";
    if (c->has_exclude && regexec(&c->exclude, u->href, 0, NULL, 0) == 0)
        return "excluded";
    return NULL;
}

/* NULL, or why u looks like a crawl trap: too long, or a path segment repeated
 * more than max_repeats times (/a/a/a/a...). */
static const char *trap(const acr_crawl *c, const acr_url *u)
{
    if (c->co->max_url_len && strlen(u->href) > c->co->max_url_len)
        return "trap-url-length";
    const char *path = u->target;
    size_t plen = strcspn(path, "?");
    for (const char *seg = path; seg < path + plen; seg += strcspn(seg, "/") + 1) {
        size_t n = strcspn(seg, "/");
        unsigned count = 0;
        if (n == 0)
            continue;
        for (const char *q = path; q < path + plen; q += strcspn(q, "/") + 1) {
            if (strcspn(q, "/") == n && !strncmp(q, seg, n))
                count++;
        }
        if (c->co->max_repeats && count > c->co->max_repeats)
            return "trap-repeated-segments";
    }
    return NULL;
}

/* Counts a page queued for u's host; false past the per-host cap. */
static bool host_has_room(acr_crawl *c, const acr_url *u)
{
    if (!c->co->host_page_cap)
        return true;
    uint64_t *n = host_count(&c->host_pages, u->host);
    return !n || ++*n <= c->co->host_page_cap; /* out of memory: no cap rather than no page */
}

/* True the first time the crawl meets u (its fingerprint goes into the seen-set);
 * out of memory counts as a first time: a repeat may be fetched, nothing is lost. */
static bool first_time(acr_crawl *c, const acr_url *u)
{
    return acr__fpset_add(&c->seen, acr__hash64(u->href, strlen(u->href))) != 0;
}

/* The report's counter for a reason a URL was skipped. */
static uint64_t *skip_counter(acr_crawl *c, const char *why)
{
    if (!strcmp(why, "depth"))
        return &c->st.skipped_depth;
    if (!strncmp(why, "trap", 4))
        return &c->st.skipped_trap;
    if (!strcmp(why, "not-included") || !strcmp(why, "excluded"))
        return &c->st.skipped_pattern;
    if (!strcmp(why, "out-of-memory"))
        return NULL;
    return &c->st.skipped_scope; /* out-of-scope, no-parent */
}

/* NULL when u may be queued: not too deep, in scope (seeds define it), no trap. */
static const char *refused(acr_crawl *c, const acr_url *u, unsigned depth, acr_via via)
{
    if (depth > c->co->max_depth)
        return "depth";
    const char *why = via == ACR_VIA_SEED ? NULL : out_of_scope(c, u);
    return why ? why : trap(c, u);
}

/* --state: the URL just queued goes into the journal (written at the program's next
 * commit). A failure to buffer it is memory running out: the URL is still fetched in
 * this run, only a resume after a crash would not know it. */
static void journal(acr_crawl *c, const char *url, const char *parent, unsigned depth, acr_via via, uint64_t line,
                    bool sitemap)
{
    if (!c->state)
        return;
    acr_state_url su = {.url = url, .parent = parent, .depth = depth, .via = via, .line = line, .sitemap = sitemap};
    acr_state_queued(c->state, &su);
}

/* --redis: u goes to the job (queued there unless a worker queued it before). NULL,
 * or why it could not. */
static const char *share(acr_crawl *c, const acr_url *u, const char *parent, unsigned depth, acr_via via,
                         bool sitemap)
{
    acr_dist_url du = {.url = u->href, .origin = u->origin, .parent = parent, .depth = depth, .via = via,
                       .sitemap = sitemap, .host = sitemap ? NULL : u->host};
    int rc = acr_dist_enqueue(c->dist, &du);
    return rc == 0 ? NULL : rc == -ENOMEM ? "out-of-memory" : "redis-unavailable";
}

/* A URL found by the crawl (seed, link, redirect target): queued once if it is in
 * scope and within the limits, else reported skipped. */
static void consider(acr_crawl *c, const char *text, const char *parent, unsigned depth, acr_via via, uint64_t line,
                     bool recheck)
{
    /* Most links are repeats. A link from the extractor is acr_url_resolve's href,
     * normal already unless it holds a percent-escape (the one thing
     * acr_url_normalize changes): its text is its fingerprint's input, and a repeat
     * needs no parse. A URL in the seen-set passed scope and the trap checks when it
     * went in (a seed passed the trap checks only), and they would pass it again; only
     * the depth check, done first, could differ. So a link back to a seed that
     * --include or --exclude would refuse counts as a dedup hit, not a skip. */
    if (via == ACR_VIA_LINK && !recheck && depth <= c->co->max_depth && !strchr(text, '%') &&
        acr__fpset_has(&c->seen, acr__hash64(text, strlen(text)))) {
        c->st.dedup_hits++;
        return;
    }
    acr_url u;
    if (acr_url_parse(&u, text, NULL, 0) != 0)
        return; /* not http(s) or malformed: not a page */
    const char *why = acr_url_normalize(&u) != 0 ? "out-of-memory" : refused(c, &u, depth, via);
    if (why) {
        uint64_t *n = skip_counter(c, why);
        if (n)
            (*n)++;
    } else if (!first_time(c, &u) && !recheck) {
        c->st.dedup_hits++; /* seen before: queued or fetched already */
    } else if (!c->dist && !host_has_room(c, &u)) { /* --redis: the job counts, for all workers */
        why = "trap-host-cap";
        c->st.skipped_trap++;
    } else if (c->dist) {
        why = share(c, &u, parent, depth, via, false);
    } else if (acr_frontier_push(c->frontier, u.href, u.origin, depth, parent, via, line) != 0) {
        why = "out-of-memory";
    } else {
        journal(c, u.href, parent, depth, via, line, false);
    }
    if (why)
        skipped(c, u.href, parent, why);
    acr_url_release(&u);
}

/* A sitemap document to read (from robots.txt, an index, or --sitemap): queued once,
 * in scope like a link. */
static void consider_sitemap(acr_crawl *c, const char *text, const char *parent)
{
    acr_url u;
    if (acr_url_parse(&u, text, NULL, 0) != 0)
        return;
    const char *why = acr_url_normalize(&u) != 0 ? "out-of-memory" : out_of_scope(c, &u);
    if (!why && first_time(c, &u)) {
        if (c->dist)
            why = share(c, &u, parent, 0, ACR_VIA_SITEMAP, true);
        else if (acr_frontier_push_sitemap(c->frontier, u.href, u.origin, parent) != 0)
            why = "out-of-memory";
        else
            journal(c, u.href, parent, 0, ACR_VIA_SITEMAP, 0, true);
    }
    if (why)
        skipped(c, u.href, parent, why);
    acr_url_release(&u);
}

/* ---- pages ---- */

struct page {
    acr_crawl *c;
    const acr_crawl_url *u;
    const acr_url *base;
    acr_response *resp;
    acr_links *links;
    acr_sitemap *sitemap;       /* u is a sitemap: its URLs, not links */
    int fd;                     /* -o: the body's file, or -1 */
    char *saved;                /* -o: its path under DIR */
    bool decided;               /* the Content-Type was looked at */
    bool recheck;               /* --redis, a page handed out again: its links go to
                                 * the job even when this worker saw them before
                                 * (Redis may have lost them with the page's ack) */
    unsigned found;
};

static void on_link(void *arg, const char *url, acr_link_kind kind)
{
    struct page *pg = arg;
    pg->found++;
    if (kind == ACR_LINK_REQUISITE && !pg->c->co->page_requisites)
        return;
    consider(pg->c, url, pg->u->url, pg->u->depth + 1, ACR_VIA_LINK, 0, pg->recheck);
}

static bool is_html(const acr_response *resp)
{
    const char *ct = acr_headers_get(&resp->headers, "Content-Type");
    return ct && (!strncasecmp(ct, "text/html", 9) || !strncasecmp(ct, "application/xhtml+xml", 21));
}

static void on_sitemap_url(void *arg, const char *url, bool is_index)
{
    struct page *pg = arg;
    pg->found++;
    if (is_index)
        consider_sitemap(pg->c, url, pg->u->url);
    else
        consider(pg->c, url, pg->u->url, 0, ACR_VIA_SITEMAP, 0, pg->recheck);
}

/* -o: a 2xx body goes to its place in the mirror, or under a flat name when the
 * mirror's path cannot be made (a file already stands where a directory must go). */
static int open_file(struct page *pg)
{
    acr_crawl *c = pg->c;
    if (pg->fd >= 0 || c->dirfd < 0 || pg->resp->status < 200 || pg->resp->status >= 300)
        return 0; /* a retry writes into the file its first attempt opened */
    pg->fd = acr_mirror_open(c->dirfd, pg->u->url, &pg->saved);
    if (pg->fd == -ENOTDIR || pg->fd == -EEXIST)
        pg->fd = acr__open_flat(c->dirfd, ++c->files, pg->u->url, &pg->saved);
    return pg->fd < 0 ? pg->fd : 0;
}

/* The first chunk decides what reads the body: the sitemap parser for a sitemap
 * (plain or gzip, whatever the Content-Type), the link extractor for HTML. */
static int page_start(struct page *pg)
{
    if (pg->u->sitemap && pg->resp->status >= 200 && pg->resp->status < 300)
        return acr_sitemap_new(&pg->sitemap, on_sitemap_url, pg);
    if (!pg->u->sitemap && is_html(pg->resp))
        return acr_links_new(&pg->links, pg->base, on_link, pg);
    return 0;
}

/* The body sink: HTML is fed to the link extractor as it arrives (decoded). */
static int page_sink(void *arg, const char *data, size_t len, char *msg, size_t msglen)
{
    struct page *pg = arg;
    if (!pg->decided) {
        pg->decided = true;
        int rc = open_file(pg);
        if (rc != 0) {
            snprintf(msg, msglen, "cannot create the output file: %s", strerror(-rc));
            return rc;
        }
        if (page_start(pg) != 0) {
            snprintf(msg, msglen, "out of memory: cannot parse the page");
            return -ENOMEM;
        }
    }
    if (pg->fd >= 0) {
        int rc = acr__file_sink((void *)(intptr_t)pg->fd, data, len, msg, msglen);
        if (rc != 0)
            return rc;
    }
    if (pg->sitemap) {
        int rc = acr_sitemap_feed(pg->sitemap, data, len);
        if (rc == -ENOMEM) {
            snprintf(msg, msglen, "out of memory while reading the sitemap");
            return rc;
        }
        return 0; /* a bad or oversized sitemap still gave what came before it */
    }
    if (pg->links && acr_links_feed(pg->links, data, len) != 0) {
        snprintf(msg, msglen, "out of memory while parsing the page");
        return -ENOMEM;
    }
    return 0;
}

/* A retry starts the page afresh: the first chunk of its response decides again
 * what reads the body (this one's status and Content-Type, not the last one's). */
static int page_restart(void *arg)
{
    struct page *pg = arg;
    acr_links_free(pg->links);
    pg->links = NULL;
    acr_sitemap_free(pg->sitemap);
    pg->sitemap = NULL;
    pg->decided = false;
    pg->found = 0;
    return pg->fd >= 0 && acr__file_restart((void *)(intptr_t)pg->fd) != 0 ? -1 : 0;
}

/* After the response: the rest of the links, and a redirect's target. */
static void follow_up(struct page *pg)
{
    const acr_response *resp = pg->resp;
    if (pg->links)
        acr_links_finish(pg->links);
    if (pg->sitemap)
        acr_sitemap_finish(pg->sitemap);
    const char *loc = acr_headers_get(&resp->headers, "Location");
    if (resp->status >= 300 && resp->status < 400 && loc) {
        acr_url target;
        if (acr_url_resolve(&target, pg->base, loc, NULL, 0) == 0) {
            consider(pg->c, target.href, pg->u->url, pg->u->depth, ACR_VIA_REDIRECT, 0, pg->recheck);
            acr_url_release(&target);
        }
    } else if (resp->error == 0 && !pg->u->sitemap) {
        acr_links_from_headers(&resp->headers, pg->base, on_link, pg);
    }
}

static void fetch_page(acr_crawl *c, const acr_crawl_url *u, const acr_url *base, acr_record *r, bool recheck)
{
    acr_response resp = {0};
    struct page pg = {.c = c, .u = u, .base = base, .resp = &resp, .fd = -1, .recheck = recheck};
    acr_request rq = c->o.req;
    rq.url = u->url;
    rq.follow = false; /* redirect targets go through the frontier: each URL once */
    rq.sink = page_sink;
    rq.sink_arg = &pg;
    if (c->o.capture) {
        r->warc = acr_warc_capture_new();
        if (!r->warc) {
            acr_record_fail(r, -ENOMEM, "out of memory (WARC capture)");
            return;
        }
        rq.tap = &acr_warc_tap;
        rq.tap_arg = r->warc;
    }
    acr_attempts a = {.client = c->client, .timeout = c->o.timeout, .retry = c->o.retry, .rng = &c->rng,
                      .restart = page_restart, .restart_arg = &pg};
    r->start = acr_now();
    r->attempt = acr_attempts_run(&a, &rq, &resp);
    acr_record_fill(r, &resp, c->o.keep_headers);
    follow_up(&pg);
    r->links = pg.found;
    c->st.links += pg.found;
    acr_links_free(pg.links);
    acr_sitemap_free(pg.sitemap);
    if (pg.fd >= 0)
        close(pg.fd);
    r->saved = pg.saved;
    acr_response_release(&resp);
}

/* Counts a page in the tick it ended in, for pages/s over time (4 bytes a tick:
 * 3.5 MB for a day-long crawl). */
#define TICK (100 * ACR_MSEC)

static void count_tick(acr_crawl *c, int64_t end)
{
    size_t tick = end > c->t0 ? (size_t)((end - c->t0) / TICK) : 0;
    if (tick >= c->nticks) {
        size_t n = tick + 256;
        uint32_t *v = acr_realloc(c->per_tick, n * sizeof *v);
        if (!v)
            return; /* the figure over time misses a page; nothing else does */
        memset(v + c->nticks, 0, (n - c->nticks) * sizeof *v);
        c->per_tick = v;
        c->nticks = n;
    }
    c->per_tick[tick]++;
}

/* host: NULL when it could not be known (out of memory). */
static void count_page(acr_crawl *c, const acr_record *r, const char *host)
{
    c->st.pages++;
    unsigned d = r->depth < ACR_CRAWL_MAX_DEPTHS ? r->depth : ACR_CRAWL_MAX_DEPTHS - 1;
    c->st.by_depth[d]++;
    uint64_t *n = host ? host_count(&c->host_fetched, host) : NULL;
    if (n)
        ++*n;
    count_tick(c, r->end);
}


/* The fetch of u is over: the frontier, the slot and the puller learn it. */
static void page_over(acr_crawl *c, acr_crawl_url *u)
{
    acr_frontier_done(c->frontier, u);
    c->inflight--;
    acr_sem_release(c->slots);
    if (c->room)
        acr_cond_signal(c->room);
}

static int page_main(void *arg)
{
    struct work *w = arg;
    acr_crawl *c = w->c;
    acr_crawl_url *u = w->u;
    free(w);
    acr_record *r = crawl_record(c, u);
    acr_dist_entry *e = u->tag; /* --redis: the job's entry */
    u->tag = NULL;
    acr_url base; /* u->url, normalised already: parsing fails only for memory */
    bool parsed = r && acr_url_parse(&base, u->url, NULL, 0) == 0;
    if (r && !r->error && !parsed)
        acr_record_fail(r, -ENOMEM, "out of memory");
    if (r && !r->error)
        fetch_page(c, u, &base, r, e && e->deliveries > 1);
    if (r) {
        r->end = acr_now();
        /* Another worker may have taken the page over while this one was stopped
         * (SIGSTOP, a long pause): then its result is that worker's to record. */
        if (e && c->stopping && r->error == ACR_ECANCELED) {
            r->taken_over = true; /* cut short by the stop: given back, not recorded */
            acr_dist_hand_back(c->dist, e);
            e = NULL;
        } else if (e && acr_dist_confirm(c->dist, e) == 1) {
            r->dist = e;
            e = NULL;
        } else if (e) {
            r->taken_over = true;
        }
        if (!r->taken_over)
            count_page(c, r, parsed ? base.host : NULL);
        emit(c, r);
    }
    if (e)
        acr_dist_release(c->dist, e);
    if (parsed)
        acr_url_release(&base);
    page_over(c, u);
    return 0;
}

/* ---- robots.txt ---- */

static int robots_sink(void *arg, const char *data, size_t len, char *msg, size_t msglen)
{
    (void)msg;
    (void)msglen;
    acr_buf *b = arg;
    if (b->len < ROBOTS_MAX)
        acr_buf_add(b, data, len < ROBOTS_MAX - b->len ? len : ROBOTS_MAX - b->len);
    return 0; /* past 500 KiB the rest is read and ignored */
}

/* RFC 9309 §2.3.1: 2xx parse, 4xx allow everything, anything else (5xx, network
 * error, timeout) disallow everything for now and ask again later. */
static void robots_outcome(acr_crawl *c, acr_crawl_url *u, const acr_response *resp, acr_buf *body, bool shared)
{
    acr_robots *rules = NULL;
    int64_t retry_at = 0;
    bool known = resp->error == 0 && ((resp->status >= 200 && resp->status < 300) ||
                                      (resp->status >= 400 && resp->status < 500));
    if (known && c->state) /* kept for a resumed crawl; unavailable ones are asked again */
        acr_state_robots(c->state, acr_frontier_origin_name(u->origin), resp->status, body->p ? body->p : "", body->len);
    if (known && c->dist && !shared) /* for the other workers, and this origin's next lease holder */
        acr_dist_robots_put(c->dist, acr_frontier_origin_name(u->origin), resp->status, body->p ? body->p : "",
                            body->len);
    if (resp->error == 0 && resp->status >= 200 && resp->status < 300) {
        c->st.robots_ok++;
        acr_robots_parse(&rules, body->p ? body->p : "", body->len, AGENT);
        const char *const *maps = NULL;
        size_t n = rules && !c->co->no_sitemaps ? acr_robots_sitemaps(rules, &maps) : 0;
        for (size_t i = 0; i < n; i++)
            consider_sitemap(c, maps[i], u->url);
    } else if (resp->error == 0 && resp->status >= 400 && resp->status < 500) {
        c->st.robots_4xx++;
        acr_robots_allow_all(&rules);
    } else {
        unsigned tries = acr_frontier_robots_tries(u->origin);
        c->st.robots_unavailable++;
        if (tries < ROBOTS_TRIES)
            retry_at = acr_now() + (int64_t)tries * 2 * ACR_SEC;
    }
    acr_frontier_set_robots(c->frontier, u->origin, rules, retry_at);
}

static int robots_main(void *arg)
{
    struct work *w = arg;
    acr_crawl *c = w->c;
    acr_crawl_url *u = w->u;
    free(w);
    c->st.robots_fetches++;
    acr_buf body = {0};
    acr_response resp = {0};
    acr_request rq = c->o.req;
    rq.method = NULL;
    rq.body = NULL;
    rq.body_len = 0;
    rq.url = u->url;
    rq.follow = true;
    rq.max_redirs = 5;
    rq.sink = robots_sink;
    rq.sink_arg = &body;
    /* --redis: a worker (this one or another) fetched it before */
    int st = 0;
    char *stored = NULL;
    size_t slen = 0;
    bool shared = c->dist && acr_dist_robots_get(c->dist, acr_frontier_origin_name(u->origin), &st, &stored, &slen) == 1;
    if (shared) {
        resp.status = st;
        body = (acr_buf){.p = stored, .len = slen, .cap = slen};
        c->st.robots_fetches--; /* not fetched */
    } else {
        acr_warc_capture *cap = c->o.capture ? acr_warc_capture_new() : NULL;
        if (cap) {
            rq.tap = &acr_warc_tap;
            rq.tap_arg = cap;
        }
        /* --redis: a request to the origin in flight keeps its shard's lease here */
        acr_dist_origin_busy(c->dist, acr_frontier_origin_name(u->origin), 1);
        acr_fetch(c->client, &rq, acr_deadline_in(c->o.timeout), &resp);
        acr_dist_origin_busy(c->dist, acr_frontier_origin_name(u->origin), -1);
        if (cap && c->o.archive)
            c->o.archive(c->o.archive_arg, cap); /* not a page: no record carries it */
        acr_warc_capture_free(cap);
    }
    if (!acr_cancelled())
        robots_outcome(c, u, &resp, &body, shared);
    acr_response_release(&resp);
    acr_buf_release(&body);
    page_over(c, u);
    return 0;
}

/* ---- reader: seeds ---- */

static void seed_fail(acr_crawl *c, uint64_t line, const char *text, int code, const char *why)
{
    acr_crawl_url u = {.url = (char *)text, .line = line};
    acr_record *r = crawl_record(c, &u);
    if (!r)
        return;
    if (!r->error)
        acr_record_fail(r, code, why);
    emit(c, r);
}

static void take_seed(acr_crawl *c, uint64_t line, const char *text, int read_rc)
{
    acr_url u;
    char msg[256];
    int bad = acr_input_url(line, text, read_rc, &u, msg, sizeof msg);
    if (bad != 0) {
        /* --state: a bad line is journaled like a URL queued, so that a resume, which
         * reads the seeds again, does not record it again. */
        if (c->state && acr__fpset_add(&c->seen, acr__hash64(text, strlen(text))) == 0)
            return; /* recorded by an earlier run */
        journal(c, text, NULL, 0, ACR_VIA_SEED, line, false);
        seed_fail(c, line, text, bad, msg);
        return;
    }
    if (c->stopping) {
        seed_fail(c, line, text, ACR_ECANCELED, "cancelled before it started");
    } else if (add_seed_scope(c, &u) != 0) {
        seed_fail(c, line, text, -ENOMEM, "out of memory while queueing the seed");
    } else {
        consider(c, u.href, NULL, 0, ACR_VIA_SEED, line, false);
    }
    acr_url_release(&u);
}

/* --sitemap URLs: read like seeds' sitemaps, their hosts in scope. */
static void take_sitemaps(acr_crawl *c)
{
    for (size_t i = 0; i < c->co->nsitemaps; i++) {
        acr_url u;
        if (acr_url_parse(&u, c->co->sitemaps[i], NULL, 0) != 0)
            continue; /* the command line checked them */
        if (add_seed_scope(c, &u) == 0)
            consider_sitemap(c, u.href, NULL);
        acr_url_release(&u);
    }
}

static void take(void *arg, uint64_t line, const char *text, int read_rc) { take_seed(arg, line, text, read_rc); }

static int reader_main(void *arg)
{
    acr_crawl *c = arg;
    take_sitemaps(c);
    acr__read_lines(c->in, take, c, c->input_error, sizeof c->input_error);
    c->input_done = true;
    if (!c->dist) /* --redis: the puller closes it once the job is complete */
        acr_frontier_close_input(c->frontier);
    return 0;
}

/* ---- puller: --redis ---- */

/* An entry handed out more than --redis-max-deliveries times (its workers died on
 * it): recorded once as poison, not fetched, whatever robots.txt or the frontier
 * would say. */
static void record_poison(acr_crawl *c, acr_dist_entry *e)
{
    acr_crawl_url u = {.url = e->url, .parent = e->parent, .depth = e->depth, .via = (acr_via)e->via};
    acr_record *r = crawl_record(c, &u);
    if (!r) {
        acr_dist_release(c->dist, e);
        return;
    }
    char msg[160];
    snprintf(msg, sizeof msg, "workers took it %u times and never finished it: not fetched again", e->deliveries - 1);
    if (!r->error)
        acr_record_fail(r, ACR_EPOISON, msg);
    r->end = acr_now();
    if (acr_dist_confirm(c->dist, e) == 1) {
        r->dist = e;
    } else {
        r->taken_over = true;
        acr_dist_release(c->dist, e);
    }
    emit(c, r);
}

/* A queued entry of a shard this worker is no longer fed from. */
static bool unfed(void *arg, const acr_crawl_url *u)
{
    const acr_crawl *c = arg;
    return u->tag && !acr_dist_feeding(c->dist, ((const acr_dist_entry *)u->tag)->shard);
}

/* Keeps the frontier fed from the job: about twice -c entries queued or in flight
 * here, pulled from the shards this worker leases. Ends (and closes the frontier's
 * input) when the job is complete and the seeds are read, on --drain, on a stop, and
 * when Redis stays away past --redis-timeout. */

static int puller_main(void *arg)
{
    acr_crawl *c = arg;
    uint64_t unfed_seen = 0;
    size_t want = 2 * (size_t)(c->o.concurrency ? c->o.concurrency : 1) + 16;
    while (!c->stopping) {
        if (acr_dist_failed(c->dist, NULL, 0))
            break;
        if (acr_dist_draining(c->dist)) {
            acr_frontier_drop(c->frontier, "draining"); /* released: others fetch them */
            break;
        }
        if (c->quota_spent)
            break; /* the job's --max-pages: what this worker pulled goes back */
        if (acr_dist_unfed(c->dist) != unfed_seen) {
            /* shards moving to another worker: what is queued of them goes at once,
             * so that the move does not wait for this worker to fetch it all */
            unfed_seen = acr_dist_unfed(c->dist);
            acr_frontier_drop_if(c->frontier, unfed, c, "handed-over");
        }
        acr_frontier_stats fs;
        acr_frontier_stats_get(c->frontier, &fs);
        size_t local = fs.queued + c->inflight;
        if (local > want / 2) { /* then pull a batch: a pull costs Redis a scan of shards */
            acr_cond_wait(c->room, acr_deadline_in(ACR_SEC / 20)); /* and looks at the leases */
            continue;
        }
        acr_dist_entry *v[256];
        size_t n = 0, max = want - local < 256 ? want - local : 256;
        int rc = acr_dist_pull(c->dist, max, acr_deadline_in(ACR_SEC / 2), on_scope, c, v, &n);
        if (rc == ACR_EEMPTY && c->input_done)
            break;
        if (rc == ACR_EEMPTY)
            acr_sleep_for(20 * ACR_MSEC); /* the seeds are still being read */
        if (rc == ACR_EEMPTY || rc == ACR_ETIMEOUT)
            continue;
        if (rc != 0)
            break; /* cancelled, or Redis gone for good */
        for (size_t i = 0; i < n; i++) {
            acr_dist_entry *e = v[i];
            if (e->poison) {
                record_poison(c, e);
                continue;
            }
            acr__fpset_add(&c->seen, acr__hash64(e->url, strlen(e->url))); /* links to it stay here */
            if (e->ended_elsewhere) /* --wait and Crawl-delay hold across the handover */
                acr_frontier_ended_elsewhere(c->frontier, e->origin, e->ended_elsewhere);
            if (acr_frontier_push_tagged(c->frontier, e->url, e->origin, e->depth, e->parent, (acr_via)e->via,
                                         e->sitemap, e) != 0)
                acr_dist_hand_back(c->dist, e);
        }
    }
    if (acr_dist_failed(c->dist, NULL, 0) && !c->stopping)
        acr_crawl_stop(c); /* exit 1: what is in flight is left to the other workers */
    acr_frontier_close_input(c->frontier);
    return 0;
}

/* ---- dispatcher ---- */

/* Seeds dropped when the crawl stops get their cancelled records (after the drop:
 * emitting suspends, and the frontier's drop must not). */
static void on_skip(void *arg, const acr_crawl_url *u, const char *reason)
{
    acr_crawl *c = arg;
    bool handover = !strcmp(reason, "handed-over"); /* another worker's to fetch: not a skip */
    if (!strcmp(reason, "robots"))
        c->st.skipped_robots++;
    else if (!strcmp(reason, "max-pages"))
        c->st.skipped_limit++;
    if (!handover)
        skipped(c, u->url, u->parent, reason);
    if (u->tag) {
        /* --redis: robots.txt decided the page for the whole job (done, no record);
         * a page this worker only stopped short of is another's to fetch */
        if (!strcmp(reason, "robots") || !strcmp(reason, "robots-unavailable"))
            acr_dist_ack_dropped(c->dist, u->tag); /* at once: the job may be complete */
        else
            acr_dist_hand_back(c->dist, u->tag);
        ((acr_crawl_url *)u)->tag = NULL;
    }
    if (handover || !c->stopping || u->line == 0)
        return;
    acr_record *r = crawl_record(c, u);
    if (!r)
        return;
    if (!r->error)
        acr_record_fail(r, ACR_ECANCELED, "cancelled before it started");
    if (c->ncancelled == c->capcancelled) {
        size_t cap = c->capcancelled ? c->capcancelled * 2 : 16;
        acr_record **v = acr_realloc(c->cancelled, cap * sizeof *v);
        if (!v) {
            acr_record_free(r);
            c->src.lost++;
            return;
        }
        c->cancelled = v;
        c->capcancelled = cap;
    }
    c->cancelled[c->ncancelled++] = r;
}

/* Starts the fetch of u (holding a permit). */
static void start(acr_crawl *c, acr_crawl_url *u)
{
    struct work *w = acr_malloc(sizeof *w);
    if (w) {
        *w = (struct work){.c = c, .u = u};
        c->inflight++;
        if (acr_group_spawn(c->fetches, NULL, u->robots ? robots_main : page_main, w) == 0)
            return;
        c->inflight--;
        free(w);
    }
    if (u->tag) { /* another worker, or this one later, fetches it */
        acr_dist_hand_back(c->dist, u->tag);
        u->tag = NULL;
    } else if (!u->robots) {
        acr_record *r = crawl_record(c, u);
        if (r) {
            acr_record_fail(r, -ENOMEM, "cannot start a task (out of memory or stacks)");
            emit(c, r);
        }
    }
    acr_frontier_done(c->frontier, u);
    acr_sem_release(c->slots);
}

/* --max-pages: whether no more pages may start. With --redis the limit is the job's:
 * the job grants page starts, about -c at a time (a round trip each). */
static bool max_pages_met(acr_crawl *c)
{
    if (!c->co->max_pages)
        return false;
    if (!c->dist)
        return c->pages_started >= c->co->max_pages;
    if (c->quota == 0 && !c->quota_spent) {
        unsigned want = c->o.concurrency < 1 ? 1 : c->o.concurrency > 256 ? 256 : c->o.concurrency;
        long long grant = acr_dist_quota(c->dist, c->co->max_pages, want);
        if (grant > 0)
            c->quota = (uint64_t)grant;
        else
            c->quota_spent = true; /* or Redis failed us: the crawl ends either way */
    }
    return c->quota == 0;
}

static void dispatch(acr_crawl *c)
{
    for (;;) {
        acr__reap(c->fetches);
        if (!acr__admit(c->slots, c->o.rate, &c->next_start, &c->stopping))
            return;
        acr_crawl_url *u;
        if (acr_frontier_pop(c->frontier, ACR_FOREVER, &u) != 0) {
            acr_sem_release(c->slots);
            return;
        }
        if (!u->robots && max_pages_met(c)) {
            on_skip(c, u, "max-pages");
            acr_frontier_done(c->frontier, u);
            acr_frontier_drop(c->frontier, "max-pages");
            acr_sem_release(c->slots);
            continue;
        }
        if (u->tag && !acr_dist_may_start(c->dist, ((acr_dist_entry *)u->tag)->shard)) {
            /* the lease on its origins lapsed (a pause, Redis away): not this
             * worker's to fetch now; politeness across workers depends on it */
            acr_dist_hand_back(c->dist, u->tag);
            u->tag = NULL;
            acr_frontier_done(c->frontier, u);
            acr_sem_release(c->slots);
            continue;
        }
        c->pages_started += !u->robots;
        if (c->quota && !u->robots)
            c->quota--;
        start(c, u);
    }
}

static int dispatcher_main(void *arg)
{
    acr_crawl *c = arg;
    /* A resumed crawl's pages find links whose scope the seeds decide: the seeds
     * (the same as before, or the state would have refused them) are read first. */
    bool joined = c->resuming && c->reader && acr_task_join(c->reader, ACR_FOREVER, NULL) == 0;
    if (!c->resuming || joined)
        dispatch(c);
    if (c->quota) /* no more starts here: the job's other workers may use them */
        acr_dist_quota_return(c->dist, c->quota);
    c->quota = 0;
    /* Stopping, or nothing left: every task hands over its record first. */
    acr_shield(1);
    if (c->reader)
        acr_task_join(c->reader, ACR_FOREVER, NULL);
    if (c->puller) {
        acr_task_cancel(c->puller);
        acr_task_join(c->puller, ACR_FOREVER, NULL);
    }
    acr_task *t;
    while (acr_group_next(c->fetches, ACR_FOREVER, &t) == 0)
        acr_task_unref(t);
    acr_frontier_drop(c->frontier, "stopped");
    for (size_t i = 0; i < c->ncancelled; i++)
        emit(c, c->cancelled[i]);
    c->ncancelled = 0;
    ACR_ASSERT(c->emitted == c->src.seq, "every record created is handed to the program exactly once");
    acr_chan_close(c->records);
    return 0;
}

/* ---- lifecycle ---- */

static int compile(regex_t *re, bool *has, const char *pattern, const char *what, char *err, size_t errlen)
{
    if (!pattern)
        return 0;
    int rc = regcomp(re, pattern, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char why[128];
        regerror(rc, re, why, sizeof why);
        snprintf(err, errlen, "%s pattern '%s': %s", what, pattern, why);
        return -EINVAL;
    }
    *has = true;
    return 0;
}

/* ---- --state: a resumed crawl ---- */

static void resume_seen(void *arg, uint64_t fp) { acr__fpset_add(&((acr_crawl *)arg)->seen, fp); }

/* Sized once: growing a million-member set doubles and rehashes it ten times. */
static void resume_expect(void *arg, uint64_t n) { acr__fpset_reserve(&((acr_crawl *)arg)->seen, (size_t)n); }

static void resume_robots(void *arg, const char *origin, int status, const char *body, size_t len)
{
    acr_crawl *c = arg;
    acr_robots *rules = NULL;
    if (status >= 200 && status < 300)
        acr_robots_parse(&rules, body, len, AGENT);
    else
        acr_robots_allow_all(&rules);
    if (rules)
        acr_frontier_preset_robots(c->frontier, origin, rules);
}

/* The origin ("scheme://host:port") and host of a normalised href, read off its text
 * without a parse (a resume may queue millions); false for a form it does not know
 * (userinfo, a long host), which then takes the parse. */
static bool origin_of(const char *href, char *origin, size_t olen, char *host, size_t hlen)
{
    const char *sep = strstr(href, "://");
    if (!sep)
        return false;
    const char *auth = sep + 3, *end = auth + strcspn(auth, "/?#");
    const char *port = NULL;
    const char *h0 = auth, *h1 = end;
    if (*auth == '[') {
        const char *rb = memchr(auth, ']', (size_t)(end - auth));
        if (!rb)
            return false;
        h0 = auth + 1;
        h1 = rb;
        port = rb[1] == ':' ? rb + 2 : NULL;
    } else {
        const char *colon = memchr(auth, ':', (size_t)(end - auth));
        if (colon) {
            h1 = colon;
            port = colon + 1;
        }
    }
    if (memchr(auth, '@', (size_t)(end - auth)) || h1 <= h0 || (size_t)(h1 - h0) >= hlen)
        return false;
    memcpy(host, h0, (size_t)(h1 - h0));
    host[h1 - h0] = 0;
    bool tls = (size_t)(sep - href) == 5 && !strncmp(href, "https", 5);
    int n = port ? snprintf(origin, olen, "%.*s", (int)(end - href), href)
                 : snprintf(origin, olen, "%.*s:%s", (int)(end - href), href, tls ? "443" : "80");
    return n > 0 && (size_t)n < olen;
}

/* A URL queued in an earlier run and not done (in flight at the stop, or waiting):
 * queued again, not journaled again. */
static void resume_pending(void *arg, const acr_state_url *su)
{
    acr_crawl *c = arg;
    char origin[320], host[256];
    acr_url u;
    bool parsed = false;
    bool web = !strncmp(su->url, "http://", 7) || !strncmp(su->url, "https://", 8);
    if (!web || !origin_of(su->url, origin, sizeof origin, host, sizeof host)) {
        if (acr_url_parse(&u, su->url, NULL, 0) != 0)
            return; /* it parsed when it was queued: only memory can fail here */
        parsed = true;
        snprintf(origin, sizeof origin, "%s", u.origin);
        snprintf(host, sizeof host, "%s", u.host);
    }
#ifdef ACR_DEBUG
    else if (acr_url_parse(&u, su->url, NULL, 0) == 0) {
        ACR_ASSERT(!strcmp(origin, u.origin) && !strcmp(host, u.host), "origin_of agrees with the parser");
        acr_url_release(&u);
    }
#endif
    if (c->co->host_page_cap) {
        uint64_t *n = host_count(&c->host_pages, host);
        if (n)
            ++*n;
    }
    if (su->sitemap)
        acr_frontier_push_sitemap(c->frontier, su->url, origin, su->parent);
    else
        acr_frontier_push(c->frontier, su->url, origin, su->depth, su->parent, (acr_via)su->via, su->line);
    if (parsed)
        acr_url_release(&u);
}

static int resume(acr_crawl *c, char *err, size_t errlen)
{
    c->state = c->co->state;
    if (!c->state)
        return 0;
    c->resuming = acr_state_resuming(c->state);
    acr_state_visit v = {.expect_seen = resume_expect, .seen = resume_seen, .robots = resume_robots,
                         .pending = resume_pending};
    int rc = acr_state_load(c->state, &v, c, &c->resume_pos, &c->resume_tot, err, errlen);
    c->pages_started = c->resume_tot.pages; /* --max-pages counts every run's pages */
    return rc;
}

void acr_crawl_resumed(const acr_crawl *c, acr_state_pos *pos, acr_state_totals *tot)
{
    if (pos)
        *pos = c->resume_pos;
    if (tot)
        *tot = c->resume_tot;
}

static int setup(acr_crawl *c, char *err, size_t errlen)
{
    c->dist = c->co->dist;
    acr_frontier_opts fo = {.per_host = c->co->per_host, .wait = c->co->wait, .random_wait = c->co->random_wait,
                            .max_crawl_delay = c->co->max_crawl_delay, .robots = !c->co->no_robots,
                            .mem_limit = c->dist ? 0 : c->co->frontier_mem, /* --redis: Redis holds the queue */
                            .skip = on_skip, .skip_arg = c};
    int rc = acr_record_src_init(&c->src);
    if (rc == 0)
        rc = acr__strmap_init(&c->seeds);
    if (rc == 0)
        rc = acr__strmap_init(&c->host_pages);
    if (rc == 0)
        rc = acr__strmap_init(&c->host_fetched);
    if (rc == 0)
        rc = compile(&c->include, &c->has_include, c->co->include, "include", err, errlen);
    if (rc == 0)
        rc = compile(&c->exclude, &c->has_exclude, c->co->exclude, "exclude", err, errlen);
    if (rc == 0)
        rc = acr_frontier_new(&c->frontier, &fo);
    if (rc == 0)
        rc = acr_client_new(&c->client, &c->o.client, err, errlen);
    if (rc == 0 && c->o.output_dir) {
        c->dirfd = acr__open_output_dir(c->o.output_dir, err, errlen);
        rc = c->dirfd < 0 ? c->dirfd : 0;
    }
    c->slots = acr_sem_new(c->o.concurrency ? c->o.concurrency : 1);
    c->fetches = acr_group_new();
    if (rc == 0 && c->dist)
        c->room = acr_cond_new();
    if (rc == 0 && (!c->slots || !c->fetches || (c->dist && !c->room)))
        rc = -ENOMEM;
    if (rc == 0)
        rc = resume(c, err, errlen);
    return rc;
}

int acr_crawl_start(acr_crawl **out, const acr_job_opts *o, acr_input *in, acr_chan *records, char *err,
                    size_t errlen)
{
    acr_crawl *c = acr_calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->o = *o;
    c->co = &c->o.crawl;
    c->in = in;
    c->records = records;
    c->rng = (unsigned)acr_now();
    c->t0 = acr_now();
    c->dirfd = -1;
    int rc = setup(c, err, errlen);
    /* The dispatcher first: if the reader cannot start, closing the frontier's
     * input lets the dispatcher end on its own (it closes `records`); it is joined
     * before c goes. */
    if (rc == 0)
        rc = acr_spawn(NULL, &c->dispatcher, dispatcher_main, c);
    if (rc == 0 && c->dist)
        rc = acr_spawn(NULL, &c->puller, puller_main, c);
    if (rc == 0) {
        rc = acr_spawn(NULL, &c->reader, reader_main, c);
        if (rc != 0) {
            if (c->puller) {
                acr_task_cancel(c->puller); /* it closes the input as it goes */
            }
            acr_frontier_close_input(c->frontier);
            int was = acr_shield(1);
            acr_task_join(c->dispatcher, ACR_FOREVER, NULL);
            acr_shield(was);
        }
    }
    if (rc != 0) {
        acr_crawl_free(c);
        return rc;
    }
    acr_task_set_name(c->reader, "crawl-reader");
    acr_task_set_name(c->dispatcher, "crawl-dispatcher");
    *out = c;
    return 0;
}

void acr_crawl_stop(acr_crawl *c)
{
    if (c->stopping)
        return;
    c->stopping = true;
    acr_task_cancel(c->reader);
    acr_task_cancel(c->dispatcher);
    if (c->puller)
        acr_task_cancel(c->puller);
    acr_group_cancel(c->fetches);
}

void acr_crawl_free(acr_crawl *c)
{
    if (!c)
        return;
    acr_task_unref(c->reader);
    acr_task_unref(c->dispatcher);
    acr_task_unref(c->puller);
    acr_cond_free(c->room);
    acr_group_free(c->fetches);
    acr_sem_free(c->slots);
    acr_client_free(c->client);
    acr_frontier_free(c->frontier);
    if (c->dirfd >= 0)
        close(c->dirfd);
    for (size_t i = 0; i < c->ncancelled; i++)
        acr_record_free(c->cancelled[i]);
    free(c->cancelled);
    if (c->has_include)
        regfree(&c->include);
    if (c->has_exclude)
        regfree(&c->exclude);
    hosts_release(&c->seeds);
    counts_release(&c->host_pages);
    counts_release(&c->host_fetched);
    free(c->per_tick);
    acr__fpset_release(&c->seen);
    acr_record_src_release(&c->src);
    free(c);
}

unsigned acr_crawl_inflight(const acr_crawl *c) { return c->inflight; }
uint64_t acr_crawl_urls_read(const acr_crawl *c) { return c->src.seq; }
bool acr_crawl_input_done(const acr_crawl *c) { return c->input_done; }
const char *acr_crawl_input_error(const acr_crawl *c) { return c->input_error[0] ? c->input_error : NULL; }
uint64_t acr_crawl_lines_lost(const acr_crawl *c) { return c->src.lost; }

/* Keeps the ten hosts with the most pages, most first. */
static void top_hosts(const acr_crawl *c, acr_crawl_stats *out)
{
    for (size_t i = 0; i < c->host_fetched.nbuckets; i++) {
        for (acr__strmap_node *n = c->host_fetched.buckets[i]; n; n = n->next) {
            const struct hostcount *h = acr__container_of(n, struct hostcount, node);
            size_t k = 10;
            while (k > 0 && (out->top_hosts[k - 1].host[0] == 0 || out->top_hosts[k - 1].pages < h->n))
                k--;
            if (k == 10)
                continue;
            memmove(&out->top_hosts[k + 1], &out->top_hosts[k], (9 - k) * sizeof out->top_hosts[0]);
            snprintf(out->top_hosts[k].host, sizeof out->top_hosts[k].host, "%s", h->host);
            out->top_hosts[k].pages = h->n;
        }
    }
}

/* Pages/s in each tenth of the run, up to the tick of the last page. */
static void rate_over_time(const acr_crawl *c, acr_crawl_stats *out)
{
    size_t last = c->nticks;
    while (last > 0 && c->per_tick[last - 1] == 0)
        last--;
    if (last < 10)
        return; /* under a second: no trend to show */
    for (int t = 0; t < 10; t++) {
        size_t a = last * (size_t)t / 10, b = last * (size_t)(t + 1) / 10;
        uint64_t n = 0;
        for (size_t i = a; i < b; i++)
            n += c->per_tick[i];
        out->rate_by_tenth[t] = (double)n / ((double)(b - a) * (double)TICK / 1e9);
    }
}

void acr_crawl_stats_get(const acr_crawl *c, acr_crawl_stats *out)
{
    *out = c->st;
    top_hosts(c, out);
    rate_over_time(c, out);
    acr_frontier_stats fs;
    acr_frontier_stats_get(c->frontier, &fs);
    out->frontier_peak = fs.queued_peak;
    out->spilled = fs.spilled;
    out->origins = fs.origins;
    out->state = c->state != NULL;
    out->runs_before = c->resume_tot.runs;
    if (c->dist) { /* --redis: the URLs the job refused past their host's cap */
        acr_dist_stats ds;
        acr_dist_stats_get(c->dist, &ds);
        out->skipped_trap += ds.host_capped;
    }
    out->pages_before = c->resume_tot.pages;
    out->errors_before = c->resume_tot.errors;
    out->bytes_before = c->resume_tot.bytes;
    out->wall_before_s = (double)c->resume_tot.elapsed_ns / 1e9;
}
