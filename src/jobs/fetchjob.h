/* fetchjob.h -- private: list mode. Streams input URLs through a read-ahead channel
 * to fetch tasks bounded by a semaphore; every input URL line yields exactly one
 * record on the completion channel, which is closed when the last one is sent. */
#ifndef ACR_JOBS_FETCHJOB_H
#define ACR_JOBS_FETCHJOB_H

#include <stdbool.h>
#include <stdint.h>

#include "acrawl/http.h"
#include "acrawl/sync.h"
#include "crawljob.h"
#include "input.h"

struct acr_warc_capture;

typedef struct acr_job_opts {
    unsigned concurrency;       /* requests in flight at most */
    int64_t timeout;            /* per attempt, from when it leaves the queue; ns */
    unsigned retry;             /* extra attempts for retryable failures */
    double rate;                /* requests started per second; 0: no limit */
    bool unique;                /* skip URLs seen before (no record for repeats) */
    const char *output_dir;     /* save bodies here */
    bool keep_headers;          /* records keep the final response's headers (for -w) */
    acr_request req;            /* template: method, headers, body, follow, decode */
    acr_client_opts client;
    acr_crawl_opts crawl;       /* crawl.on: seeds, links followed (crawljob.h) */
    /* --warc: each record carries its exchanges (acr_record.warc) for the program to
     * write; fetches without a record (robots.txt) are handed to archive. */
    bool capture;
    void (*archive)(void *arg, struct acr_warc_capture *cap);
    void *archive_arg;
} acr_job_opts;

typedef struct acr_job acr_job;

/* Starts the reader and dispatcher tasks on the current loop. Records (acr_record *,
 * owned by the receiver) arrive on records, which the job closes at the end.
 * 0, or an error with err (client set-up, output directory). */
int acr_job_start(acr_job **out, const acr_job_opts *o, acr_input *in, acr_chan *records, char *err,
                  size_t errlen);
/* Stops the run: nothing new starts, requests in flight are cancelled, URLs already
 * read (and, for finite input, the rest of it) get `cancelled` records. */
void acr_job_stop(acr_job *j);
/* After the records channel is closed. */
void acr_job_free(acr_job *j);

unsigned acr_job_inflight(const acr_job *j);
uint64_t acr_job_urls_read(const acr_job *j);
/* The crawl behind a crawl-mode job (for its figures), or NULL in list mode. */
const acr_crawl *acr_job_crawl(const acr_job *j);
/* Input lines that got no record: memory ran out twice in a row (see acr_record_src). */
uint64_t acr_job_lines_lost(const acr_job *j);
bool acr_job_input_done(const acr_job *j);
/* Why input could not be read to the end, or NULL when it was (or still is being) read. */
const char *acr_job_input_error(const acr_job *j);

/* The file name -o uses for a URL: derived from the URL alone, never from anything
 * the server sends; only [A-Za-z0-9._-], no leading dot, at most 200 bytes. */
void acr_job_safe_name(char *buf, size_t len, uint64_t line, const char *url);

#endif
