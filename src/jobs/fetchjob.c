/* fetchjob.c -- list mode: a reader task feeds a read-ahead channel, a dispatcher
 * takes the semaphore for each URL and spawns a fetch task into a group; fetch tasks
 * retry with backoff, save bodies, and hand their record to the completion channel. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "acrawl/error.h"
#include "acrawl/task.h"
#include "acrawl/url.h"
#include "archive/warc.h"
#include "attempts.h"
#include "common.h"
#include "fetchjob.h"
#include "runtime/check.h"
#include "util/alloc.h"
#include "util/fpset.h"
#include "record.h"

#define READ_AHEAD 1024

/* A record has exactly one owner at a time, and ownership moves only by a call
 * that says it did: the reader creates it (take_line) and owns it until its
 * acr_chan_send to `items` returns 0; then the channel, then the dispatcher
 * (its recv returned 0), then the fetch task it spawns; whoever holds it last
 * hands it to `records` with emit(), after which the program's writer owns and
 * frees it. A send or recv that returns non-zero moved nothing, and one that
 * returns 0 moved the item even if the task was cancelled while it waited (see
 * sync.h): so a cancelled holder emits a `cancelled` record for what it still
 * holds, exactly once. `emitted` counts the hand-overs; at the end it equals the
 * number of records created (src.seq). */
struct item {
    struct acr_job *job;
    int64_t queued_at;
    acr_record *rec;
};

struct acr_job {
    acr_crawl *crawl;           /* crawl mode: everything below is unused */
    acr_job_opts o;
    acr_input *in;
    acr_chan *records, *items;
    acr_client *client;
    acr_sem *slots;
    acr_group *fetches;
    acr_task *reader, *dispatcher;
    bool stopping, input_done;
    char input_error[256];      /* why input could not be read to the end, or "" */
    unsigned inflight;
    acr_record_src src;         /* the records, one per input line */
    uint64_t emitted;           /* records handed to the program */
    int64_t next_start;         /* --rate */
    int dirfd;
    acr__fpset seen;            /* --unique: fingerprints of the URLs queued */
    unsigned rng;
};

/* ---- helpers ---- */

/* Hands a record to the program (see acr__emit). */
static void emit(acr_job *j, acr_record *r) { acr__emit(j->records, &j->emitted, r); }

static void emit_cancelled(acr_job *j, acr_record *r)
{
    acr_record_fail(r, ACR_ECANCELED, "cancelled before it started");
    emit(j, r);
}

void acr_job_safe_name(char *buf, size_t len, uint64_t line, const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    int n = snprintf(buf, len, "%06llu_", (unsigned long long)line);
    size_t o = n > 0 ? (size_t)n : 0;
    size_t max = len < 200 ? len : 200;
    for (; *p && o + 1 < max; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                  c == '.' || c == '_';
        buf[o++] = ok ? c : '_';
    }
    while (o > 0 && (buf[o - 1] == '.' || buf[o - 1] == '_'))
        o--;
    buf[o] = 0;
}


/* ---- fetch tasks ---- */


/* Out of line: its message buffer should not sit in every fetch task's frame. */
static __attribute__((noinline)) void fail_output_file(acr_record *r, int err)
{
    char msg[128];
    snprintf(msg, sizeof msg, "cannot create the output file: %s", strerror(-err));
    acr_record_fail(r, err, msg);
}


static int fetch_main(void *arg)
{
    struct item *it = arg;
    acr_job *j = it->job;
    acr_record *r = it->rec;
    r->start = acr_now();
    r->t.queue = r->start - it->queued_at;
    free(it);
    acr_request rq = j->o.req;
    rq.url = r->url;
    bool no_capture = j->o.capture && !(r->warc = acr_warc_capture_new());
    int fd = j->dirfd >= 0 && !no_capture ? acr__open_flat(j->dirfd, r->line, r->url, &r->saved) : -1;
    if (no_capture) {
        acr_record_fail(r, -ENOMEM, "out of memory (WARC capture)");
    } else if (j->dirfd >= 0 && fd < 0) {
        fail_output_file(r, fd);
    } else {
        rq.sink = fd >= 0 ? acr__file_sink : NULL;
        rq.sink_arg = (void *)(intptr_t)fd;
        if (r->warc) {
            rq.tap = &acr_warc_tap;
            rq.tap_arg = r->warc;
        }
        acr_response resp = {0};
        acr_attempts a = {.client = j->client, .timeout = j->o.timeout, .retry = j->o.retry, .rng = &j->rng,
                          .restart = fd >= 0 ? acr__file_restart : NULL, .restart_arg = (void *)(intptr_t)fd};
        r->attempt = acr_attempts_run(&a, &rq, &resp);
        acr_record_fill(r, &resp, j->o.keep_headers);
        acr_response_release(&resp);
        if (fd >= 0)
            close(fd);
    }
    r->end = acr_now();
    emit(j, r);
    j->inflight--;
    acr_sem_release(j->slots);
    return 0;
}

/* ---- reader ---- */

static void read_fail(acr_job *j, uint64_t line, const char *text, int code, const char *why)
{
    acr_record *r = acr_record_src_next(&j->src, line, text);
    if (!r)
        return; /* counted in src.lost */
    if (!r->error)
        acr_record_fail(r, code, why);
    emit(j, r);
}

/* One input line: a bad URL gets its record here; a good one goes to the queue
 * (or, once stopping, gets a cancelled record). */
static void take_line(acr_job *j, uint64_t line, const char *text, int read_rc)
{
    acr_url u;
    char msg[256];
    int bad = acr_input_url(line, text, read_rc, &u, msg, sizeof msg);
    if (bad != 0) {
        read_fail(j, line, text, bad, msg);
        return;
    }
    /* Out of memory here only means a repeat may be fetched again. */
    bool dup = j->o.unique && acr__fpset_add(&j->seen, acr__hash64(u.href, strlen(u.href))) == 0;
    acr_url_release(&u);
    if (dup)
        return;
    acr_record *r = acr_record_src_next(&j->src, line, text);
    if (!r)
        return; /* counted in src.lost */
    struct item *it = r->error ? NULL : acr_calloc(1, sizeof *it);
    if (!it) {
        if (!r->error)
            acr_record_fail(r, -ENOMEM, "out of memory while queueing the URL");
        emit(j, r);
        return;
    }
    *it = (struct item){.job = j, .queued_at = acr_now(), .rec = r};
    if (j->stopping || acr_chan_send(j->items, it, ACR_FOREVER) != 0) {
        free(it);
        emit_cancelled(j, r);
    }
}

static void take(void *arg, uint64_t line, const char *text, int read_rc) { take_line(arg, line, text, read_rc); }

static int reader_main(void *arg)
{
    acr_job *j = arg;
    acr__read_lines(j->in, take, j, j->input_error, sizeof j->input_error);
    j->input_done = true;
    acr_chan_close(j->items);
    return 0;
}

/* ---- dispatcher ---- */

static int dispatcher_main(void *arg)
{
    acr_job *j = arg;
    for (;;) {
        void *p;
        int rc = acr_chan_recv(j->items, &p, ACR_FOREVER);
        if (rc == ACR_ECLOSED)
            break;
        if (rc != 0) {
            acr_shield(1); /* stopping: drain the queue into cancelled records */
            continue;
        }
        struct item *it = p;
        acr__reap(j->fetches);
        if (!acr__admit(j->slots, j->o.rate, &j->next_start, &j->stopping)) {
            acr_shield(1);
            emit_cancelled(j, it->rec);
            free(it);
            continue;
        }
        j->inflight++;
        if (acr_group_spawn(j->fetches, NULL, fetch_main, it) != 0) {
            j->inflight--;
            acr_sem_release(j->slots);
            acr_record_fail(it->rec, -ENOMEM, "cannot start a task (out of memory or stacks)");
            emit(j, it->rec);
            free(it);
        }
    }
    /* Every fetch hands over its record before it ends. */
    acr_shield(1);
    acr_task *t;
    while (acr_group_next(j->fetches, ACR_FOREVER, &t) == 0)
        acr_task_unref(t);
    ACR_ASSERT(j->emitted == j->src.seq, "every record created is handed to the program exactly once");
    acr_chan_close(j->records);
    return 0;
}

/* ---- lifecycle ---- */

/* For a start that failed after the dispatcher began: with `items` closed it finds
 * nothing to do, closes `records` and ends; j is freed only after that. */
static void end_dispatcher(acr_job *j)
{
    acr_chan_close(j->items);
    int was = acr_shield(1);
    acr_task_join(j->dispatcher, ACR_FOREVER, NULL);
    acr_shield(was);
}

/* Crawl mode: the job is a shell around the crawl. */
static int start_crawl(acr_job **out, const acr_job_opts *o, acr_input *in, acr_chan *records, char *err,
                       size_t errlen)
{
    acr_job *j = acr_calloc(1, sizeof *j);
    if (!j)
        return -ENOMEM;
    int rc = acr_crawl_start(&j->crawl, o, in, records, err, errlen);
    if (rc != 0) {
        free(j);
        return rc;
    }
    j->dirfd = -1;
    *out = j;
    return 0;
}

int acr_job_start(acr_job **out, const acr_job_opts *o, acr_input *in, acr_chan *records, char *err,
                  size_t errlen)
{
    if (o->crawl.on)
        return start_crawl(out, o, in, records, err, errlen);
    acr_job *j = acr_calloc(1, sizeof *j);
    if (!j)
        return -ENOMEM;
    j->o = *o;
    j->in = in;
    j->records = records;
    j->dirfd = -1;
    j->rng = (unsigned)acr_now();
    int rc = acr_record_src_init(&j->src);
    if (rc == 0)
        rc = acr_client_new(&j->client, &o->client, err, errlen);
    if (rc == 0 && o->output_dir) {
        j->dirfd = acr__open_output_dir(o->output_dir, err, errlen);
        rc = j->dirfd < 0 ? j->dirfd : 0;
    }
    j->slots = acr_sem_new(o->concurrency ? o->concurrency : 1);
    j->items = acr_chan_new(READ_AHEAD);
    j->fetches = acr_group_new();
    if (rc == 0 && (!j->slots || !j->items || !j->fetches))
        rc = -ENOMEM;
    /* The dispatcher first: if the reader cannot start, the dispatcher can be ended. */
    if (rc == 0)
        rc = acr_spawn(NULL, &j->dispatcher, dispatcher_main, j);
    if (rc == 0) {
        rc = acr_spawn(NULL, &j->reader, reader_main, j);
        if (rc != 0)
            end_dispatcher(j);
    }
    if (rc != 0) {
        acr_job_free(j);
        return rc;
    }
    acr_task_set_name(j->reader, "reader");
    acr_task_set_name(j->dispatcher, "dispatcher");
    *out = j;
    return 0;
}

void acr_job_stop(acr_job *j)
{
    if (j->crawl) {
        acr_crawl_stop(j->crawl);
        return;
    }
    if (j->stopping)
        return;
    j->stopping = true;
    acr_task_cancel(j->reader);
    acr_task_cancel(j->dispatcher);
    acr_group_cancel(j->fetches);
}

void acr_job_free(acr_job *j)
{
    if (!j)
        return;
    acr_crawl_free(j->crawl);
    acr_task_unref(j->reader);
    acr_task_unref(j->dispatcher);
    acr_group_free(j->fetches);
    acr_chan_free(j->items);
    acr_sem_free(j->slots);
    acr_client_free(j->client);
    acr_record_src_release(&j->src);
    if (j->dirfd >= 0)
        close(j->dirfd);
    acr__fpset_release(&j->seen);
    free(j);
}

unsigned acr_job_inflight(const acr_job *j) { return j->crawl ? acr_crawl_inflight(j->crawl) : j->inflight; }
uint64_t acr_job_urls_read(const acr_job *j) { return j->crawl ? acr_crawl_urls_read(j->crawl) : j->src.seq; }
uint64_t acr_job_lines_lost(const acr_job *j) { return j->crawl ? acr_crawl_lines_lost(j->crawl) : j->src.lost; }
bool acr_job_input_done(const acr_job *j) { return j->crawl ? acr_crawl_input_done(j->crawl) : j->input_done; }

const char *acr_job_input_error(const acr_job *j)
{
    if (j->crawl)
        return acr_crawl_input_error(j->crawl);
    return j->input_error[0] ? j->input_error : NULL;
}

const acr_crawl *acr_job_crawl(const acr_job *j) { return j->crawl; }
