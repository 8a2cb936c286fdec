/* state.h -- private: a crawl's resumable state in a directory (--state DIR): every
 * URL queued, every page done, each origin's robots.txt and the output positions, as
 * an append-only journal of checksummed entries plus a compact snapshot made when the
 * journal grows large. After any stop, kill -9 mid-write included, loading DIR gives
 * back the seen-set, the URLs still to fetch in queue order (those in flight at the
 * stop among them) and where the outputs last agreed with the journal.
 *
 * Files in DIR: `lock` (flock), `options` (the crawl's shaping options), `journal`,
 * `snapshot` (absent until the first compaction); `*.tmp` are leftovers of a stop
 * mid-write and are removed on open. Formats: see state.c. */
#ifndef ACR_CRAWL_STATE_H
#define ACR_CRAWL_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest URL, parent or origin the state takes (acr_state_queued, _robots): 1 MiB. */
#define ACR_STATE_STR_MAX (1u << 20)
/* Largest robots.txt body the state takes: 500 KiB. */
#define ACR_STATE_ROBOTS_MAX (500u << 10)
/* The journal is compacted into a snapshot once it has grown past this. */
#define ACR_STATE_COMPACT_BYTES (64ull << 20)

typedef struct acr_state acr_state;

/* A queued URL, as the crawl's frontier holds it. Strings are borrowed. */
typedef struct acr_state_url {
    const char *url;            /* normalised absolute URL */
    const char *parent;         /* the page that linked it; NULL for seeds */
    unsigned depth;
    unsigned via;               /* acr_via: 0 seed, 1 link, 2 redirect, 3 sitemap */
    uint64_t line;              /* input line of a seed, 0 otherwise */
    bool sitemap;               /* a sitemap document */
} acr_state_url;

/* Where the outputs stood right after a page's record was written. */
typedef struct acr_state_pos {
    uint64_t records_dev, records_ino, records_off; /* the records file (stdout when a
                                                     * regular file); 0s if none */
    unsigned warc_file;         /* WARC rotation index */
    uint64_t warc_off;          /* and offset in that file */
} acr_state_pos;

/* Over all earlier runs on DIR. pages: done entries (each a record written), errors:
 * those done with ok false, bytes: the sum of their bytes, elapsed_ns: the sum over
 * runs of the wall time from a run's start to its last entry. */
typedef struct acr_state_totals {
    uint64_t runs, pages, errors, bytes;
    int64_t elapsed_ns;
} acr_state_totals;

/* Opens DIR (created 0700 when missing; its parent must exist) and locks it (flock
 * on DIR/lock): a second acrawl on the same DIR is refused. options: the crawl's
 * shaping options as "name=value\n" lines in the caller's canonical order; stored in
 * DIR on first use. When DIR holds other options the open is refused and err names
 * the first difference ("state DIR was made with --level=3; this command has
 * --level=5 (...)"); an option on one side only is a difference too.
 * 0; -EBUSY (another process holds DIR); -EINVAL (options differ); -EBADMSG (DIR holds
 * a journal or snapshot but no options: damaged); -ENOMEM; another -errno (mkdir,
 * open, write). On error *out is NULL and err says what happened, naming DIR. */
int acr_state_open(acr_state **out, const char *dir, const char *options, char *err, size_t errlen);

/* True when DIR held a crawl already when it was opened. */
bool acr_state_resuming(const acr_state *s);

/* What acr_state_load hands back. Every pointer given to a callback is valid during
 * that call only. Any callback may be NULL. */
typedef struct acr_state_visit {
    /* Before the seen calls: how many at least will come (those of the snapshot), so
     * that a set can be sized once instead of growing a million entries at a time. */
    void (*expect_seen)(void *arg, uint64_t n);
    /* Each URL ever queued (fp = acr__hash64(url, strlen(url))); a URL queued twice
     * comes twice. All seen calls come first. */
    void (*seen)(void *arg, uint64_t fp);
    /* The latest robots.txt outcome of each origin, once per origin, after the seen
     * calls and before the pending ones. body: len bytes, not NUL-terminated. */
    void (*robots)(void *arg, const char *origin, int status, const char *body, size_t len);
    /* Each URL queued and not done, once, in queue order: the URLs to queue again
     * (those in flight at the stop among them). They are in the journal already: do
     * not hand them to acr_state_queued again. */
    void (*pending)(void *arg, const acr_state_url *u);
} acr_state_visit;

/* Replays DIR (snapshot, then journal) once, right after open: calls v, sets *pos to
 * the positions of the last done entry (zeros if none) and *tot to the totals over
 * earlier runs (tot->runs: how many). A torn tail of the journal (a partial last
 * entry: kill -9, full disk) is cut off, not an error; so is a tail that fails its
 * checksum when nothing follows it. A damaged entry with more after it is an error:
 * dropping what follows could fetch and record pages again, so the crawl stops and
 * err says where (move DIR away to start afresh). Then journals the start of this run
 * (written at once). pos or tot may be NULL.
 * 0; -EBADMSG (damaged state: err says which file, where and why); -ENOMEM; -EINVAL
 * (called twice); another -errno from reading or writing DIR. */
int acr_state_load(acr_state *s, const acr_state_visit *v, void *arg, acr_state_pos *pos, acr_state_totals *tot,
                   char *err, size_t errlen);

/* Buffers the queueing of u (written by the next commit). Call once per URL the crawl
 * queues, after load. 0; -E2BIG (url or parent longer than ACR_STATE_STR_MAX);
 * -EINVAL (no url, via > 3, not loaded); -ENOMEM. */
int acr_state_queued(acr_state *s, const acr_state_url *u);

/* Buffers the end of url's fetch: its record is written (ok false: an error record),
 * bytes counted, and the outputs stood at pos after it (NULL: zeros). Pages may be done
 * in any order. 0; -EINVAL (not loaded); -ENOMEM. */
int acr_state_done(acr_state *s, const char *url, bool ok, uint64_t bytes, const acr_state_pos *pos);

/* Buffers a move of the outputs that is not a page (a robots.txt exchange written to
 * the WARC): loads give the latest of marks and done entries as the position.
 * 0; -EINVAL (not loaded); -ENOMEM. */
int acr_state_mark(acr_state *s, const acr_state_pos *pos);

/* Buffers origin's robots.txt outcome (status: HTTP status or the caller's code).
 * 0; -E2BIG (origin over ACR_STATE_STR_MAX or len over ACR_STATE_ROBOTS_MAX: the caller
 * stores a truncated body or none); -EINVAL (not loaded); -ENOMEM. */
int acr_state_robots(acr_state *s, const char *origin, int status, const char *body, size_t len);

/* Writes the buffered entries to the journal in one write(2). Call it after flushing
 * the records and WARC outputs, so that a journaled done never points past output not
 * yet written. Then, when the journal has grown past the threshold, compacts it
 * (writes a new snapshot and starts a fresh journal: a pass over the old snapshot and
 * the journal, O(pending + seen), with fsyncs; a stop at any point leaves a state that
 * loads). 0 or -errno with err set (naming DIR; -ENOSPC says the disk is full). After
 * a failed write the journal is cut back to where it was and the entries stay
 * buffered, so a later commit may succeed; after a failed compaction the entries are
 * in the journal and the state on disk is sound (compaction is tried again once the
 * journal has grown by another threshold). -EIO: an earlier failure left the journal
 * in a state that could not be repaired; nothing more is written. */
int acr_state_commit(acr_state *s, char *err, size_t errlen);

/* fdatasync of the journal: what is committed survives a power loss. Call about once a
 * second. 0 or -errno. */
int acr_state_sync(acr_state *s);

/* Commits, journals the end of this run, syncs, unlocks DIR and frees s (always, even
 * on error). 0 or -errno with err set. s may be NULL. */
int acr_state_close(acr_state *s, char *err, size_t errlen);

/* Forgets the entries not committed yet, for a run that could not write its outputs:
 * their done entries may point past what was written. Safe: a URL queued among them
 * was found by a page whose done is among them too (or never came), and that page is
 * fetched again on resume. */
void acr_state_discard(acr_state *s);

/* For tests: compact once the journal has grown past n bytes (0: the default). */
void acr_state_set_compact_bytes(acr_state *s, uint64_t n);

#endif
