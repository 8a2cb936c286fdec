/* frontier.c -- per-origin queues and a heap of origins by the time each may next
 * be fetched (see frontier.h). The dispatcher is the only task that waits in pop;
 * every change that can make an origin ready broadcasts on one condition. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "acrawl/error.h"
#include "acrawl/sync.h"
#include "acrawl/task.h"
#include "frontier.h"
#include "robots.h"
#include "runtime/list.h"
#include "util/alloc.h"
#include "util/heap.h"
#include "util/strmap.h"

/* robots.txt of an origin: not asked for yet, being fetched, known, waiting to be
 * asked again (5xx or network error), or given up on. */
enum rstate { R_NONE, R_FETCHING, R_READY, R_WAIT, R_GIVEN_UP };

#define NO_HEAP ((size_t)-1)

struct acr_origin {
    acr__strmap_node node;      /* keyed by name */
    char *name;                 /* "scheme://host:port" */
    acr_crawl_url *head, *tail; /* queued, FIFO */
    size_t queued;
    unsigned inflight;
    enum rstate rstate;
    acr_robots *rules;          /* R_READY: NULL when not obeying robots.txt */
    int64_t crawl_delay;        /* from robots.txt, capped; 0 none */
    int64_t next_at;            /* no request starts before this */
    int64_t elsewhere;          /* a request by another worker ended then (0: none) */
    int64_t retry_at;           /* R_WAIT: robots.txt is asked for again then */
    unsigned robots_tries;
    size_t heap_idx;            /* in f->ready, or NO_HEAP */
};

struct acr_frontier {
    acr_frontier_opts o;
    acr__strmap origins;
    acr__heap ready;            /* origins with work they may do, by due() */
    acr_cond *changed;
    size_t queued, queued_peak, norigins, inflight; /* queued: in memory and spilled */
    uint64_t robots_skipped;
    size_t mem, mem_peak;       /* bytes of the URLs queued in memory */
    struct {
        int fd;                 /* the temporary file, or -1 until the first spill */
        off_t wr, rd;           /* where the next URL is written and read */
        size_t count;           /* URLs in it not read back yet */
        uint64_t total;
    } spill;
    bool input_closed;
    unsigned rng;
};

const char *acr_via_name(acr_via via)
{
    static const char *const names[] = {"seed", "link", "redirect", "sitemap"};
    return (unsigned)via < 4 ? names[via] : "?";
}

/* ---- origins in the ready heap ---- */

/* When o may next do something (fetch robots.txt or a page). */
static int64_t due(const acr_origin *o) { return o->rstate == R_WAIT ? o->retry_at : o->next_at; }

static bool due_less(const void *a, const void *b) { return due(a) < due(b); }
static void due_moved(void *o, size_t idx) { ((acr_origin *)o)->heap_idx = idx; }

/* True when requests to o must be a delay apart (--wait or Crawl-delay). */
static bool spaced(const acr_frontier *f, const acr_origin *o) { return f->o.wait > 0 || o->crawl_delay > 0; }

/* True when o has something it may do once due: robots.txt to fetch, or a page. */
static bool has_work(const acr_frontier *f, const acr_origin *o)
{
    if (o->queued == 0)
        return false;
    switch (o->rstate) {
    case R_NONE:
    case R_WAIT:
        return o->inflight == 0;
    case R_READY:
        /* With a delay to keep, one request at a time: the delay runs from its end. */
        return o->inflight < (spaced(f, o) ? 1u : f->o.per_host);
    default:
        return false;
    }
}

/* Puts o in the heap, or takes it out, or re-sorts it, after any change to it. */
static void update(acr_frontier *f, acr_origin *o)
{
    if (o->heap_idx != NO_HEAP) {
        acr__heap_remove(&f->ready, o->heap_idx);
        o->heap_idx = NO_HEAP;
    }
    if (has_work(f, o) && acr__heap_push(&f->ready, o) != 0)
        o->heap_idx = NO_HEAP; /* out of memory: it comes back at its next change */
    acr_cond_broadcast(f->changed);
}

/* ---- queue entries ---- */

/* A queued URL is one allocation: the entry, then its URL and parent strings. Three
 * per URL, living as long as the queue, interleaved with the page work's short-lived
 * ones, fragmented the heap until malloc's large-bin searches grew over a long crawl. */
static void url_free(acr_crawl_url *u)
{
    free(u);
}

static acr_crawl_url *url_alloc(const char *url, const char *parent)
{
    size_t un = strlen(url) + 1, pn = parent ? strlen(parent) + 1 : 0;
    acr_crawl_url *u = acr_malloc(sizeof *u + un + pn);
    if (!u)
        return NULL;
    memset(u, 0, sizeof *u);
    u->url = (char *)(u + 1);
    memcpy(u->url, url, un);
    if (parent) {
        u->parent = u->url + un;
        memcpy(u->parent, parent, pn);
    }
    return u;
}

static acr_crawl_url *url_new(const char *url, const char *parent, unsigned depth, acr_via via, uint64_t line)
{
    acr_crawl_url *u = url_alloc(url, parent);
    if (!u)
        return NULL;
    u->depth = depth;
    u->via = via;
    u->line = line;
    return u;
}

/* What a queued URL costs in memory, allocator overhead included. */
static size_t cost(const acr_crawl_url *u)
{
    return sizeof *u + strlen(u->url) + 1 + (u->parent ? strlen(u->parent) + 1 : 0) + 48;
}

/* u, just unlinked from o's queue, is no longer queued. */
static void unqueued(acr_frontier *f, acr_origin *o, acr_crawl_url *u)
{
    u->next = NULL;
    o->queued--;
    f->queued--;
    f->mem -= cost(u);
}

static acr_crawl_url *shift(acr_frontier *f, acr_origin *o)
{
    acr_crawl_url *u = o->head;
    o->head = u->next;
    if (!o->head)
        o->tail = NULL;
    unqueued(f, o, u);
    return u;
}

static void skip(acr_frontier *f, acr_crawl_url *u, const char *reason)
{
    if (f->o.skip)
        f->o.skip(f->o.skip_arg, u, reason);
    url_free(u);
}

static void drop_queue(acr_frontier *f, acr_origin *o, const char *reason)
{
    while (o->head)
        skip(f, shift(f, o), reason);
}

/* ---- lifecycle ---- */

int acr_frontier_new(acr_frontier **out, const acr_frontier_opts *o)
{
    acr_frontier *f = acr_calloc(1, sizeof *f);
    if (!f)
        return -ENOMEM;
    f->o = *o;
    if (f->o.per_host == 0)
        f->o.per_host = 1;
    f->rng = (unsigned)acr_now();
    f->spill.fd = -1;
    acr__heap_init(&f->ready, due_less, due_moved);
    f->changed = acr_cond_new();
    if (!f->changed || acr__strmap_init(&f->origins) != 0) {
        acr_cond_free(f->changed);
        free(f);
        return -ENOMEM;
    }
    *out = f;
    return 0;
}

void acr_frontier_free(acr_frontier *f)
{
    if (!f)
        return;
    for (acr__strmap_node *n = acr__strmap_shift(&f->origins); n; n = acr__strmap_shift(&f->origins)) {
        acr_origin *o = acr__container_of(n, acr_origin, node);
        while (o->head)
            url_free(shift(f, o));
        acr_robots_free(o->rules);
        free(o->name);
        free(o);
    }
    acr__strmap_release(&f->origins);
    acr__heap_release(&f->ready);
    acr_cond_free(f->changed);
    if (f->spill.fd >= 0)
        close(f->spill.fd);
    free(f);
}

static acr_origin *origin_get(acr_frontier *f, const char *name)
{
    acr__strmap_node *n = acr__strmap_get(&f->origins, name);
    if (n)
        return acr__container_of(n, acr_origin, node);
    acr_origin *o = acr_calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->name = acr_strdup(name);
    if (!o->name) {
        free(o);
        return NULL;
    }
    o->node.key = o->name;
    o->heap_idx = NO_HEAP;
    o->rstate = f->o.robots ? R_NONE : R_READY;
    acr__strmap_put(&f->origins, &o->node);
    f->norigins++;
    return o;
}

/* Queues u (its origin set, already counted in f->queued) in memory, or skips it
 * when its origin's robots.txt was given up on. */
static void enqueue(acr_frontier *f, acr_crawl_url *u)
{
    acr_origin *o = u->origin;
    if (o->rstate == R_GIVEN_UP) {
        f->queued--;
        skip(f, u, "robots-unavailable");
        return;
    }
    if (o->tail)
        o->tail->next = u;
    else
        o->head = u;
    o->tail = u;
    o->queued++;
    f->mem += cost(u);
    if (f->mem > f->mem_peak)
        f->mem_peak = f->mem;
    update(f, o);
}

/* ---- spill: URLs queued past mem_limit wait in a file, in order ----
 * A record: origin, url and parent lengths (parent UINT32_MAX: none), depth, via,
 * sitemap, line, then the three strings. Once one URL is in the file, every later one
 * goes there too until it is read back, so each origin's queue stays in order. */

struct spill_head {
    uint32_t lorigin, lurl, lparent, depth;
    uint8_t via, sitemap;
    uint64_t line;
};

static int spill_open(acr_frontier *f)
{
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    f->spill.fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    return f->spill.fd < 0 ? -errno : 0;
}

static int spill_write(acr_frontier *f, const char *url, const char *origin, unsigned depth, const char *parent,
                       acr_via via, uint64_t line, bool sitemap)
{
    if (f->spill.fd < 0 && spill_open(f) != 0)
        return -errno;
    struct spill_head h = {.lorigin = (uint32_t)strlen(origin), .lurl = (uint32_t)strlen(url),
                           .lparent = parent ? (uint32_t)strlen(parent) : UINT32_MAX, .depth = depth,
                           .via = (uint8_t)via, .sitemap = sitemap, .line = line};
    struct iovec v[4] = {{&h, sizeof h}, {(void *)origin, h.lorigin}, {(void *)url, h.lurl},
                         {(void *)(parent ? parent : ""), parent ? h.lparent : 0}};
    size_t n = sizeof h + h.lorigin + h.lurl + (parent ? h.lparent : 0);
    if (pwritev(f->spill.fd, v, 4, f->spill.wr) != (ssize_t)n)
        return -EIO;
    f->spill.wr += (off_t)n;
    f->spill.count++;
    f->spill.total++;
    return 0;
}

/* Reads the next spilled URL back into memory (*o: its origin). 0, or -errno. */
static int spill_read(acr_frontier *f, acr_origin **out)
{
    struct spill_head h;
    if (pread(f->spill.fd, &h, sizeof h, f->spill.rd) != (ssize_t)sizeof h)
        return -EIO;
    size_t lp = h.lparent == UINT32_MAX ? 0 : h.lparent;
    size_t n = (size_t)h.lorigin + h.lurl + lp;
    char *buf = acr_malloc(n + 3);
    if (!buf)
        return -ENOMEM;
    int rc = pread(f->spill.fd, buf, n, f->spill.rd + (off_t)sizeof h) == (ssize_t)n ? 0 : -EIO;
    char *origin = buf, *url = buf + h.lorigin + 1, *parent = url + h.lurl + 1;
    memmove(parent, buf + h.lorigin + h.lurl, lp);
    memmove(url, buf + h.lorigin, h.lurl);
    origin[h.lorigin] = url[h.lurl] = parent[lp] = 0;
    acr_origin *o = rc == 0 ? origin_get(f, origin) : NULL;
    acr_crawl_url *u = o ? url_new(url, h.lparent == UINT32_MAX ? NULL : parent, h.depth, h.via, h.line) : NULL;
    free(buf);
    if (!u)
        return rc ? rc : -ENOMEM;
    u->origin = o;
    u->sitemap = h.sitemap;
    f->spill.rd += (off_t)(sizeof h + n);
    f->spill.count--;
    *out = o;
    enqueue(f, u);
    return 0;
}

/* Brings spilled URLs back while memory is under half the limit. */
static void refill(acr_frontier *f)
{
    acr_origin *o;
    while (f->spill.count > 0 && f->mem < f->o.mem_limit / 2) {
        if (spill_read(f, &o) != 0)
            return; /* tried again at the next pop */
    }
    if (f->spill.count == 0 && f->spill.wr > 0) {
        f->spill.wr = f->spill.rd = 0; /* drained: start the file over */
        if (ftruncate(f->spill.fd, 0) != 0)
            return;
    }
}

static int push(acr_frontier *f, const char *url, const char *origin, unsigned depth, const char *parent,
                acr_via via, uint64_t line, bool sitemap, void *tag)
{
    size_t need = sizeof(acr_crawl_url) + strlen(url) + (parent ? strlen(parent) : 0) + 50;
    if (!tag && f->o.mem_limit && (f->spill.count > 0 || f->mem + need > f->o.mem_limit) &&
        spill_write(f, url, origin, depth, parent, via, line, sitemap) == 0) {
        if (++f->queued > f->queued_peak)
            f->queued_peak = f->queued;
        acr_cond_broadcast(f->changed);
        return 0; /* a file that fails leaves the URL to memory */
    }
    acr_origin *o = origin_get(f, origin);
    acr_crawl_url *u = o ? url_new(url, parent, depth, via, line) : NULL;
    if (!u)
        return -ENOMEM;
    u->origin = o;
    u->sitemap = sitemap;
    u->tag = tag;
    if (++f->queued > f->queued_peak)
        f->queued_peak = f->queued;
    enqueue(f, u);
    return 0;
}

int acr_frontier_push(acr_frontier *f, const char *url, const char *origin, unsigned depth, const char *parent,
                      acr_via via, uint64_t line)
{
    return push(f, url, origin, depth, parent, via, line, false, NULL);
}

int acr_frontier_push_tagged(acr_frontier *f, const char *url, const char *origin, unsigned depth,
                             const char *parent, acr_via via, bool sitemap, void *tag)
{
    return push(f, url, origin, depth, parent, via, 0, sitemap, tag);
}

int acr_frontier_push_sitemap(acr_frontier *f, const char *url, const char *origin, const char *parent)
{
    return push(f, url, origin, 0, parent, ACR_VIA_SITEMAP, 0, true, NULL);
}

void acr_frontier_close_input(acr_frontier *f)
{
    f->input_closed = true;
    acr_cond_broadcast(f->changed);
}

/* ---- pop and done ---- */

/* The path and query of an absolute URL, as robots.txt rules see it. */
static const char *path_of(const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : NULL;
    return p ? p : "/";
}

/* The origin's robots.txt, as a URL of its own. */
static acr_crawl_url *robots_url(acr_origin *o)
{
    size_t n = strlen(o->name);
    acr_crawl_url *u = acr_malloc(sizeof *u + n + sizeof "/robots.txt");
    if (!u)
        return NULL;
    memset(u, 0, sizeof *u);
    u->url = (char *)(u + 1);
    memcpy(u->url, o->name, n);
    memcpy(u->url + n, "/robots.txt", sizeof "/robots.txt");
    u->robots = true;
    u->origin = o;
    return u;
}

static int64_t delay(acr_frontier *f, const acr_origin *o)
{
    int64_t d = f->o.wait;
    if (f->o.random_wait && d > 0) {
        f->rng = f->rng * 1103515245u + 12345u;
        d = d / 2 + (int64_t)((double)d * (double)(f->rng >> 8) / (double)(1u << 24));
    }
    return o->crawl_delay > d ? o->crawl_delay : d;
}

/* The delay kept after o's own requests is kept after one made elsewhere too. */
static void keep_apart(acr_frontier *f, acr_origin *o)
{
    if (o->elsewhere && spaced(f, o) && o->next_at != ACR_FOREVER) {
        int64_t at = o->elsewhere + delay(f, o);
        if (at > o->next_at)
            o->next_at = at;
    }
}

/* Takes what o may do now: its robots.txt fetch, or its next allowed page (skipping
 * those robots.txt disallows). NULL when it had nothing after all. */

static acr_crawl_url *take(acr_frontier *f, acr_origin *o, int64_t now, int *rc)
{
    acr_crawl_url *u = NULL;
    if (o->rstate == R_NONE || o->rstate == R_WAIT) {
        u = robots_url(o);
        if (!u) {
            *rc = -ENOMEM;
            return NULL;
        }
        o->rstate = R_FETCHING;
        o->robots_tries++;
    } else {
        while (o->head && !u) {
            u = shift(f, o);
            if (o->rules && !acr_robots_allowed(o->rules, path_of(u->url))) {
                f->robots_skipped++;
                skip(f, u, "robots");
                u = NULL;
            }
        }
        if (!u) {
            update(f, o);
            return NULL;
        }
        o->next_at = spaced(f, o) ? ACR_FOREVER : now; /* set again when it ends */
    }
    o->inflight++;
    f->inflight++;
    update(f, o);
    return u;
}

int acr_frontier_pop(acr_frontier *f, int64_t deadline, acr_crawl_url **out)
{
    for (;;) {
        refill(f);
        acr_origin *o = acr__heap_top(&f->ready);
        int64_t now = acr_now();
        if (o && due(o) <= now) {
            int rc = 0;
            acr_crawl_url *u = take(f, o, now, &rc);
            if (rc != 0)
                return rc;
            if (u) {
                *out = u;
                return 0;
            }
            continue;
        }
        if (!o && f->input_closed && f->queued == 0 && f->inflight == 0)
            return ACR_EEMPTY;
        int64_t wake = o && due(o) < deadline ? due(o) : deadline;
        int rc = acr_cond_wait(f->changed, wake);
        if (rc == ACR_ETIMEOUT && wake == deadline)
            return ACR_ETIMEOUT;
        if (rc != 0 && rc != ACR_ETIMEOUT)
            return rc;
    }
}

void acr_frontier_done(acr_frontier *f, acr_crawl_url *u)
{
    acr_origin *o = u->origin;
    o->inflight--;
    f->inflight--;
    if (u->robots && o->rstate == R_FETCHING) {
        o->rstate = R_WAIT; /* ended without an outcome (cancelled): ask again later */
        o->retry_at = acr_now() + 5 * ACR_SEC;
    }
    if (spaced(f, o) && !u->robots)
        o->next_at = acr_now() + delay(f, o); /* the server sees the delay between requests */
    keep_apart(f, o);
    url_free(u);
    update(f, o);
}

void acr_frontier_set_robots(acr_frontier *f, acr_origin *o, acr_robots *rules, int64_t retry_at)
{
    acr_robots_free(o->rules);
    o->rules = rules;
    if (rules) {
        o->rstate = R_READY;
        int64_t cd = acr_robots_crawl_delay(rules);
        o->crawl_delay = cd < 0 ? 0 : cd > f->o.max_crawl_delay ? f->o.max_crawl_delay : cd;
        o->next_at = spaced(f, o) ? acr_now() + delay(f, o) : o->next_at; /* robots.txt was a request too */
        keep_apart(f, o); /* its Crawl-delay counts from another worker's request too */
    } else if (retry_at > 0) {
        o->rstate = R_WAIT;
        o->retry_at = retry_at;
    } else {
        o->rstate = R_GIVEN_UP;
        drop_queue(f, o, "robots-unavailable");
    }
    update(f, o);
}

int acr_frontier_preset_robots(acr_frontier *f, const char *origin, acr_robots *rules)
{
    acr_origin *o = origin_get(f, origin);
    if (!o) {
        acr_robots_free(rules);
        return -ENOMEM;
    }
    int64_t next = o->next_at;
    acr_frontier_set_robots(f, o, rules, 0);
    o->next_at = next; /* unlike a fetched robots.txt, no request to wait after */
    keep_apart(f, o);
    update(f, o);
    return 0;
}

int acr_frontier_ended_elsewhere(acr_frontier *f, const char *origin, int64_t t)
{
    acr_origin *o = origin_get(f, origin);
    if (!o)
        return -ENOMEM;
    if (t > o->elsewhere) {
        o->elsewhere = t;
        keep_apart(f, o);
        update(f, o);
    }
    return 0;
}

void acr_frontier_drop(acr_frontier *f, const char *reason)
{
    /* Spilled URLs come back one at a time, each dropped at once. */
    acr_origin *so;
    while (f->spill.count > 0 && spill_read(f, &so) == 0)
        drop_queue(f, so, reason);
    for (acr_origin *o = acr__heap_pop(&f->ready); o; o = acr__heap_pop(&f->ready))
        o->heap_idx = NO_HEAP;
    /* Origins out of the heap (busy, or waiting for robots.txt) may hold URLs too. */
    for (size_t i = 0; i < f->origins.nbuckets; i++) {
        for (acr__strmap_node *n = f->origins.buckets[i]; n; n = n->next)
            drop_queue(f, acr__container_of(n, acr_origin, node), reason);
    }
    acr_cond_broadcast(f->changed);
}

void acr_frontier_drop_if(acr_frontier *f, bool (*which)(void *arg, const acr_crawl_url *u), void *arg,
                          const char *reason)
{
    for (size_t i = 0; i < f->origins.nbuckets; i++) {
        for (acr__strmap_node *n = f->origins.buckets[i]; n; n = n->next) {
            acr_origin *o = acr__container_of(n, acr_origin, node);
            acr_crawl_url **pp = &o->head, *last = NULL;
            bool dropped = false;
            while (*pp) {
                acr_crawl_url *u = *pp;
                if (!which(arg, u)) {
                    last = u;
                    pp = &u->next;
                    continue;
                }
                *pp = u->next;
                unqueued(f, o, u);
                skip(f, u, reason);
                dropped = true;
            }
            o->tail = last;
            if (dropped)
                update(f, o);
        }
    }
    acr_cond_broadcast(f->changed);
}

unsigned acr_frontier_robots_tries(const acr_origin *o) { return o->robots_tries; }
const char *acr_frontier_origin_name(const acr_origin *o) { return o->name; }

void acr_frontier_stats_get(const acr_frontier *f, acr_frontier_stats *out)
{
    *out = (acr_frontier_stats){.queued = f->queued, .queued_peak = f->queued_peak, .origins = f->norigins,
                                .inflight = f->inflight, .robots_skipped = f->robots_skipped,
                                .spilled = f->spill.total, .mem = f->mem, .mem_peak = f->mem_peak};
}
