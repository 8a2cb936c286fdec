/* job.h -- private: one crawl shared by many acrawl workers through Redis Streams
 * (--redis URL --job NAME). The crawl module (jobs/crawljob.c) keeps its local
 * frontier for per-origin politeness; this module is where URLs come from and go to.
 *
 * Model (all keys under "acrawl:{NAME}:"):
 * - options   the crawl's shaping options, stored by the first worker (SET NX);
 *             later workers must match.
 * - meta      hash: shards (fixed at creation), created.
 * - seen      set of 8-byte URL fingerprints: a URL is seen when it is QUEUED.
 * - q:S       stream of shard S (S = origin hash % shards), consumer group "g".
 *             Entry fields: u url, o origin, p parent (may be absent), d depth, v via,
 *             m 1 for a sitemap document.
 * - lease:S   the worker that may fetch shard S's origins (SET NX PX, renewed by the
 *             holder's heartbeat); politeness per origin holds across workers because
 *             only the lease holder fetches an origin.
 * - scope     set of scope items seeds add ("h:host:port", "d:host:port/dir/"), and
 *             scopever, a counter bumped when it grows.
 * - ctr       hash: queued, done, failed, poison, reclaimed (counters over the job).
 * - workers   zset id -> last heartbeat (ms); w:ID hash: pages, inflight, rate.
 * - robots    hash origin -> "STATUS\n" + body.
 * - records   stream of records (--redis-records): fields id (URL fingerprint, hex),
 *             w (worker), r (the record line).
 * - drain     set by --drain.
 * Every function that talks to Redis must run in a task and may suspend. Commands
 * from all callers are coalesced by one pipeline task into batches, sent in the
 * order the calls were made (so an enqueue made before an ack reaches Redis first). */
#ifndef ACR_DIST_JOB_H
#define ACR_DIST_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct acr_dist acr_dist;

typedef struct acr_dist_cfg {
    const char *url;            /* redis://[[user]:password@]host[:port][/db] */
    const char *name;           /* --job: [A-Za-z0-9._-]{1,100} */
    const char *options;        /* "name=value\n" lines (as acr_state_open): stored with a
                                 * new job; a job holding others refuses the worker */
    unsigned shards;            /* a new job's shard count (0: 64); an existing job keeps its own */
    int64_t claim_idle;         /* ns: a pending entry idle this long is taken over, and a
                                 * lease not renewed this long expires (--redis-claim-idle;
                                 * 0: 60 s). The heartbeat runs every claim_idle/3, at most
                                 * 1 s apart. */
    unsigned max_deliveries;    /* past this many deliveries an entry is poison (0: never) */
    int64_t timeout;            /* ns: Redis unreachable this long is fatal (--redis-timeout;
                                 * 0: 30 s) */
    bool records;               /* --redis-records: acks also add the record to `records` */
    unsigned long long host_cap; /* --max-host-pages: URLs queued per host in the whole
                                 * job, past which a new one is not queued (0: none) */
    bool worker;                /* a crawling worker (leases, heartbeat); false for the
                                 * --status, --collect and --drain clients */
} acr_dist_cfg;

/* Connects (retrying with backoff up to cfg->timeout), checks the name, binds the
 * options (clients pass options NULL: no check; --status/--collect/--drain of a job
 * that does not exist is an error), registers the worker and starts its tasks
 * (pipeline, heartbeat: leases, refresh of held entries, drain flag, workers zset).
 * Only a handle with options creates a job. A worker returns with its first
 * heartbeat done (its first leases taken). Must run in a task.
 * 0; -EINVAL (bad URL or name, or the job holds other options: err names the first
 * difference, as acr_state_open words it); -ENOENT (no such job, opened with
 * options NULL); -EACCES (auth); ACR_ETIMEOUT (unreachable for cfg->timeout);
 * -ENOMEM; ACR_ENOTASK. err says what, naming host:port and the job. */
int acr_dist_open(acr_dist **out, const acr_dist_cfg *cfg, char *err, size_t errlen);

/* Graceful end of a worker: flushes what is buffered, hands back the entries it holds
 * but never started (they become claimable at once), releases its leases and
 * deregisters. Suspends until deadline at most, and never past cfg->timeout: past
 * it, what it held waits claim_idle for another worker. */
void acr_dist_leave(acr_dist *j, int64_t deadline);

/* Stops the tasks and frees j (after leave, or after a fatal error: then nothing is
 * handed back, and the entries wait claim_idle for another worker). Never suspends
 * beyond cancelling its own tasks (and waiting for them to end, when called in a
 * task; outside a task, j's memory goes when they next run and end). Entries still
 * held stay the caller's to free (acr_dist_entry_free). NULL is fine. */
void acr_dist_close(acr_dist *j);

/* This worker's id: "hostname:pid:4 random hex". */
const char *acr_dist_worker_id(const acr_dist *j);

/* ---- queueing ---- */

typedef struct acr_dist_url {
    const char *url;            /* normalised absolute URL */
    const char *origin;         /* "scheme://host:port": decides the shard */
    const char *parent;         /* NULL for seeds */
    unsigned depth;
    unsigned via;               /* acr_via */
    bool sitemap;
    const char *host;           /* counted against cfg.host_cap (NULL: not counted) */
} acr_dist_url;

/* Queues u if the job has not seen it (SADD seen; XADD q:S; HINCRBY ctr queued, in one
 * script). Buffered: sent by the pipeline; suspends only while too much is buffered.
 * 0, -ENOMEM, or the fatal error (acr_dist_failed). */
int acr_dist_enqueue(acr_dist *j, const acr_dist_url *u);

/* Adds a scope item (before the seed it belongs to is enqueued). Buffered, in order. */
int acr_dist_scope_add(acr_dist *j, const char *item);

/* One entry taken from a shard this worker leases. */
typedef struct acr_dist_entry {
    char id[48];                /* the stream entry id, "ms-seq" */
    unsigned shard;
    unsigned deliveries;        /* 1 the first time */
    bool poison;                /* deliveries > max_deliveries: record once as kind
                                 * "poison" (no fetch), then ack */
    char *url, *origin, *parent;/* parent NULL when absent */
    unsigned depth, via;
    bool sitemap;
    int64_t ended_elsewhere;    /* its shard was taken over from a worker whose last
                                 * request to it ended then (acr_now's clock; 0 none):
                                 * politeness counts from it */
} acr_dist_entry;

void acr_dist_entry_free(acr_dist_entry *e);

/* Called with every scope item, before the entries of the pull that learnt it. */
typedef void acr_dist_scope_fn(void *arg, const char *item);

/* Up to max entries into out (room for max pointers; *n says how many), each the
 * caller's until ack, release or acr_dist_entry_free: first those of its leased
 * shards handed back by a leaving worker (no new delivery), then those pending
 * idle >= claim_idle (another worker's, dead or paused: counted as reclaimed, one
 * delivery more), then new ones. Waits
 * until deadline when there are none. Before entries are read, the scope set is
 * read again if it grew (scope called for each new item), so that an entry found
 * from a seed comes after that seed's scope. The job holds every entry pulled until
 * ack or release, refreshing it (XCLAIM JUSTID) so that it never looks idle while
 * this worker lives. 0 (n >= 1); ACR_ETIMEOUT (none by deadline); ACR_EEMPTY (the
 * job is complete: at least one entry was ever queued, every entry ever queued was
 * acked, and this worker holds and buffers nothing; a job nothing was queued to yet
 * is waiting for its seeds, not complete); ACR_ECANCELED (also after leave);
 * -EINVAL (max 0, or not a worker); -ENOMEM; the fatal error. A shard above this
 * worker's fair share is not pulled from, so that it empties and is given back. */
int acr_dist_pull(acr_dist *j, size_t max, int64_t deadline, acr_dist_scope_fn *scope, void *arg,
                 acr_dist_entry **out, size_t *n);

/* True while this worker's lease on shard is valid by the local clock (the last
 * renewal was sent less than claim_idle minus a margin of claim_idle/4 ago). A fetch
 * of the shard may start only then. Never suspends. */
bool acr_dist_may_start(const acr_dist *j, unsigned shard);

/* A request to origin that no entry stands for (robots.txt) starts (delta 1) or ends
 * (-1): while one is in flight, the worker keeps the lease of origin's shard, as for
 * its entries, so that the next holder's delay counts from its end. No-op without a
 * job. Never suspends. */
void acr_dist_origin_busy(acr_dist *j, const char *origin, int delta);

/* Whether this worker is still fed from shard (not kept only to be emptied, nor
 * lost), and how many times a shard has stopped being fed: when that count changes,
 * the caller gives back (acr_dist_hand_back) the entries of shards no longer fed that
 * it has not started, so that their next holder gets them at once. acr_dist_pull
 * returns early (ACR_ETIMEOUT) when it changes. Never suspend. */
bool acr_dist_feeding(const acr_dist *j, unsigned shard);
uint64_t acr_dist_unfed(const acr_dist *j);

/* Before e's record is written: 1 when this worker still owns e (its idle time is
 * reset, so no one takes it over before the ack), 0 when another worker took it
 * over (the caller drops its result: no record), else the fatal error. Suspends
 * for one batch. */
int acr_dist_confirm(acr_dist *j, const acr_dist_entry *e);

/* After e's record is written: done (failed when the record is an error; poison when
 * e->poison): XACK and XDEL if still the owner, counters, and with cfg->records XADD
 * of the record (len bytes, one line without its newline) to `records` with id =
 * the URL's fingerprint. Buffered; frees e. 0 or the fatal error. */
int acr_dist_ack(acr_dist *j, acr_dist_entry *e, bool failed, const char *record, size_t len);

/* e is done for the whole job without a record (robots.txt disallows it): acked as
 * acr_dist_ack does, but never suspends, even past the buffer limit, so that the
 * frontier's callbacks may call it. Frees e. 0 or the fatal error. */
int acr_dist_ack_dropped(acr_dist *j, acr_dist_entry *e);

/* Forgets e without acking it (its shard's lease was lost before it started): it is
 * no longer refreshed, and the shard's next holder takes it over. Frees e. */
void acr_dist_release(acr_dist *j, acr_dist_entry *e);

/* Gives e back unacked and unfetched (a stop, --drain, --max-pages, a lost lease
 * before it started): it goes to the "free" consumer, idle for claim_idle, so the
 * shard's holder takes it at its next scan without counting a delivery. Never
 * suspends (buffered). Frees e. */
void acr_dist_hand_back(acr_dist *j, acr_dist_entry *e);

/* ---- robots.txt, shared ---- */

/* 1 with *status and a malloc'd *body (len bytes) when a worker stored origin's
 * robots.txt, 0 when none did, else the fatal error. */
int acr_dist_robots_get(acr_dist *j, const char *origin, int *status, char **body, size_t *len);
/* Stores it (buffered). */
int acr_dist_robots_put(acr_dist *j, const char *origin, int status, const char *body, size_t len);

/* ---- control ---- */

/* True once the drain flag was seen: start nothing more. */
bool acr_dist_draining(const acr_dist *j);

/* The job's --max-pages (max): grants up to want more page starts to this worker,
 * while the job's workers together were granted fewer than max. The grant (0: the
 * job's pages are all spent) or an error; suspends for one batch, not cancellable.
 * What a worker does not use goes back with acr_dist_quota_return (buffered; once
 * per worker, at its end); a worker that dies keeps its grant, so the job then
 * fetches fewer than max pages, never more. */
long long acr_dist_quota(acr_dist *j, unsigned long long max, unsigned want);
void acr_dist_quota_return(acr_dist *j, unsigned long long n);
/* Non-zero once Redis was unreachable past cfg->timeout (ACR_ECONNECT, so that pull's
 * own ACR_ETIMEOUT is never the fatal error) or another fatal error (-EPROTO: Redis
 * refused a buffered command; -ENOMEM): the worker exits 1; msg (may be NULL) gets
 * the reason. Every later call returns it. */
int acr_dist_failed(const acr_dist *j, char *msg, size_t len);

/* --drain: sets the flag. 0 or an error (err). */
int acr_dist_drain(acr_dist *j, char *err, size_t errlen);
/* --status: queued, in flight per worker, done, failed, poison, reclaimed, workers
 * alive with heartbeat age, pages/s; JSON when json. 0 or an error (err). */
int acr_dist_status(acr_dist *j, bool json, FILE *out, char *err, size_t errlen);
/* --collect: every record in `records`, once per id (the first), one per line, to
 * fd. 0 or an error (err). */
int acr_dist_collect(acr_dist *j, int fd, char *err, size_t errlen);

typedef struct acr_dist_stats {
    uint64_t commands, batches, bytes_out, bytes_in, reconnects;
    uint64_t enqueued, pulled, reclaimed, acked, lost_leases;
    uint64_t host_capped;       /* URLs this worker found new to the job but past their
                                 * host's --max-host-pages */
} acr_dist_stats;
void acr_dist_stats_get(const acr_dist *j, acr_dist_stats *out);

#endif
