/* keep.h -- private: what a run keeps besides its records: the WARC archive (--warc)
 * and the crawl's state (--state), kept in step with the records so that a crawl
 * stopped anywhere, kill -9 included, resumes without fetching or recording a page
 * twice.
 *
 * The order that makes it so: a page's WARC records are written, then its record is
 * buffered, then its `done` goes into the state's buffer with where both outputs
 * stand; when the loop is about to block, the records are flushed first and the
 * state's journal second. So a journaled `done` never points past output that was not
 * written, and a resumed run cuts the records file and the WARC back to the last
 * journaled point: whatever came after belonged to pages it fetches again. */
#ifndef ACR_APP_KEEP_H
#define ACR_APP_KEEP_H

#include <stdbool.h>
#include <stdint.h>

#include "archive/warc.h"
#include "cli.h"
#include "crawl/state.h"
#include "jobs/fetchjob.h"
#include "output.h"

typedef struct acr_keep {
    acr_warc *warc;             /* --warc, or NULL */
    acr_state *state;           /* --state, or NULL */
    const acr_config *c;
    int out_fd;                 /* the records' file descriptor */
    bool out_file;              /* ... a regular file: its place is journaled */
    uint64_t out_dev, out_ino, out_base; /* its identity, and its size when the run began */
    uint64_t out_bytes;         /* records given to the output by the last page done */
    int64_t last_sync;
    int error;                  /* the first failure to keep something, or 0 */
    char message[320];
    uint64_t deferred;          /* pages a stop cut short: left in the state for the next run */
    acr_state_totals before;    /* earlier runs on the state */
} acr_keep;

/* The options that decide which pages a crawl fetches, as "name=value\n" lines (NULL
 * when out of memory). For a --state (shared false): also the seeds and where the
 * outputs go, since a state made with other values would resume a different crawl
 * or cut a different file; speed and politeness may change between runs. For a
 * --redis job (shared true): not the seeds (any worker may add some) nor the
 * outputs (each worker has its own), but politeness, which holds across the
 * workers together. */
char *acr_crawl_options(const acr_config *c, bool shared);

/* Before the job starts: opens and locks --state DIR (refused when it holds another
 * crawl's options), or without a state opens the WARC. 0, or ACR_EXIT_USAGE /
 * ACR_EXIT_FAILED with the reason printed. */
int acr_keep_open(acr_keep *k, acr_config *c, int out_fd);
/* With a state, after the job started (it loaded the state) and before it runs: cuts
 * the records file and the WARC back to where the state says they were, and opens
 * the WARC. 0, or an exit code with the reason printed. */
int acr_keep_start(acr_keep *k, acr_job *job);
/* Before r is printed: writes its WARC records. False when r is not to be printed: a
 * crawl page that a stop cancelled is left in the state for the next run. */
bool acr_keep_before(acr_keep *k, acr_record *r);
/* After r was given to out: the state records it done. */
void acr_keep_after(acr_keep *k, const acr_record *r, const acr_output *out);
/* After the records were flushed: the state's journal follows; both outputs are
 * made durable about once a second. */
void acr_keep_commit(acr_keep *k);
/* A fetch without a record (robots.txt): an acr_job_opts.archive callback. */
void acr_keep_archive(void *arg, acr_warc_capture *cap);
/* Notes a failure to keep something (also records that could not be written):
 * printed once; the run is to stop and exit 1. */
void acr_keep_fail(acr_keep *k, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Commits, syncs and closes. 0, or -errno with the reason printed. */
int acr_keep_close(acr_keep *k);

#endif
