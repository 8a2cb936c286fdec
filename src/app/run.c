/* run.c -- the program: engines in, records out, report, exit code. The acrawl
 * engine's records arrive on a channel; the libcurl engine is pulled from. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "acrawl/error.h"
#include "acrawl/task.h"
#include "cli.h"
#include "dist/job.h"
#include "jobs/curlengine.h"
#include "jobs/fetchjob.h"
#include "jobs/input.h"
#include "keep.h"
#include "output.h"
#include "progress.h"
#include "report.h"
#include "run.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/heap.h"

enum why { RUN_DONE, RUN_FIRST, RUN_DEADLINE, RUN_INTERRUPTED, RUN_FAILED };

/* What the program keeps for one run, whatever the engine. */
struct session {
    acr_config *c;
    acr_output out;
    acr_summary sum;
    acr_progress prog;
    enum why why;
    bool never_started;         /* the engine failed to set up: no report */
    acr_crawl_stats crawl;      /* crawl mode: the crawl's figures, for the report */
    unsigned first_ok;
    acr__heap held;             /* --ordered: records waiting for their turn, by seq */
    uint64_t next_seq;
    acr_keep keep;              /* --warc, --state */
    struct acks *acks;          /* --redis, or NULL */
};

/* ---- --redis: pages are acked once their records are written ---- */

struct ack {
    acr_dist_entry *e;
    bool failed;
    char *line;                 /* --redis-records: the record (JSON), or NULL */
    size_t len;
};

struct acks {
    acr_dist *dist;
    bool lines;                 /* --redis-records */
    struct ack *pending, *flushed; /* records buffered; records written, to ack */
    size_t npending, cappending, nflushed, capflushed;
    acr_cond *more;
    bool closing;
    acr_task *task;
};

static bool ack_push(struct ack **v, size_t *n, size_t *cap, struct ack a)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 256;
        struct ack *nv = acr_realloc(*v, c * sizeof *nv);
        if (!nv)
            return false;
        *v = nv;
        *cap = c;
    }
    (*v)[(*n)++] = a;
    return true;
}

/* r was given to the output: its entry is acked after the next flush. Out of
 * memory: it is not, and another worker fetches the page again after
 * --redis-claim-idle (a record twice, never none). */
static void ack_after_flush(struct acks *k, acr_record *r)
{
    struct ack a = {.e = r->dist, .failed = r->error != 0};
    if (k->lines) {
        acr_buf b = {0};
        if (acr_output_json_line(r, &b) == 0) {
            a.line = b.p;
            a.len = b.len;
        } else {
            acr_buf_release(&b);
        }
    }
    if (ack_push(&k->pending, &k->npending, &k->cappending, a)) {
        r->dist = NULL;
    } else {
        free(a.line);
    }
}

/* The records were flushed: their entries go to the acker. Runs as the loop is
 * about to block, so it only moves them and wakes the acker. */
static void acks_flushed(struct acks *k)
{
    size_t i = 0;
    for (; i < k->npending; i++)
        if (!ack_push(&k->flushed, &k->nflushed, &k->capflushed, k->pending[i]))
            break;
    if (i < k->npending) /* out of memory: the rest wait for the next flush */
        memmove(k->pending, k->pending + i, (k->npending - i) * sizeof *k->pending);
    k->npending -= i;
    if (k->nflushed)
        acr_cond_signal(k->more);
}

static int acker_main(void *arg)
{
    struct acks *k = arg;
    for (;;) {
        while (k->nflushed > 0) {
            struct ack *v = k->flushed;
            size_t n = k->nflushed;
            k->flushed = NULL;
            k->nflushed = k->capflushed = 0;
            for (size_t i = 0; i < n; i++) {
                acr_dist_ack(k->dist, v[i].e, v[i].failed, v[i].line, v[i].len);
                free(v[i].line);
            }
            free(v);
        }
        if (k->closing)
            return 0;
        acr_cond_wait(k->more, ACR_FOREVER);
    }
}

/* Frees the n acks of v, unacked (their entries wait --redis-claim-idle), and v. */
static void acks_drop(struct ack *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        acr_dist_entry_free(v[i].e);
        free(v[i].line);
    }
    free(v);
}

static void acks_free(struct acks *k)
{
    if (!k)
        return;
    acks_drop(k->pending, k->npending);
    acks_drop(k->flushed, k->nflushed);
    acr_cond_free(k->more);
    acr_task_unref(k->task);
    free(k);
}

/* ---- records ---- */

static bool seq_less(const void *a, const void *b)
{
    return ((const acr_record *)a)->seq < ((const acr_record *)b)->seq;
}

static void hold(struct session *s, acr_record *r)
{
    if (acr__heap_push(&s->held, r) != 0)
        acr_record_free(r); /* cannot hold it: it was counted, its line is lost */
}

/* A write of records that failed for another reason than a reader gone away. */
static void output_failed(struct session *s, int rc)
{
    if (rc == -EPIPE)
        exit(ACR_EXIT_PIPE); /* the reader went away (| head): end quietly, at once */
    acr_keep_fail(&s->keep, rc, "writing the records: %s", strerror(-rc));
}

static void write_record(struct session *s, acr_record *r)
{
    acr_progress_hold(&s->prog); /* a shared terminal: the line steps aside until the flush */
    if (acr_keep_before(&s->keep, r)) {
        int rc = acr_output_record(&s->out, r);
        if (rc != 0)
            output_failed(s, rc);
        else
            acr_keep_after(&s->keep, r, &s->out);
        if (rc == 0 && r->dist && s->acks)
            ack_after_flush(s->acks, r);
    }
    acr_record_free(r);
}

/* Counts, prints (now or in input order) and frees a record. True when --first is met. */
static bool take_record(struct session *s, acr_record *r)
{
    if (r->taken_over) { /* --redis: another worker records it */
        acr_record_free(r);
        return false;
    }
    acr_summary_add(&s->sum, r);
    bool met = false;
    if (s->c->first && r->error == 0 && r->status < 400 && ++s->first_ok == s->c->first)
        met = true;
    if (!s->c->ordered) {
        write_record(s, r);
        return met;
    }
    hold(s, r);
    for (acr_record *top = acr__heap_top(&s->held); top && top->seq == s->next_seq; top = acr__heap_top(&s->held)) {
        s->next_seq++;
        write_record(s, acr__heap_pop(&s->held));
    }
    return met;
}

static void flush_held(struct session *s)
{
    for (acr_record *r = acr__heap_pop(&s->held); r; r = acr__heap_pop(&s->held))
        write_record(s, r); /* gaps are URLs --unique skipped or lost to memory */
    acr__heap_release(&s->held);
}

/* When the whole run must stop (--deadline), or ACR_FOREVER. */
static int64_t run_deadline(const struct session *s)
{
    return s->c->deadline ? s->sum.t0 + s->c->deadline : ACR_FOREVER;
}

/* How long an engine may wait for the next record: until the deadline (while it can
 * still cut the run) or the next progress redraw, whichever is first. */
static int64_t next_wake(const struct session *s, int64_t deadline)
{
    int64_t tick = s->prog.on ? acr_now() + ACR_PROGRESS_TICK : ACR_FOREVER;
    return s->why == RUN_DONE && deadline < tick ? deadline : tick;
}

static void flush_output(void *arg)
{
    struct session *s = arg;
    int rc = acr_output_flush(&s->out);
    if (rc != 0)
        output_failed(s, rc);
    else if (s->acks)
        acks_flushed(s->acks);
    acr_keep_commit(&s->keep); /* after the records it points into */
    acr_progress_release(&s->prog);
}

/* ---- the acrawl engine ---- */

struct arun {
    struct session *s;
    acr_input *in;
    acr_job *job;
    acr_task *joining;          /* --redis: the task joining the job, until it has */
    int sigfd;
    int rc;
};

/* ^C: the handler runs once (SA_RESETHAND) and only writes a byte to a pipe the
 * loop watches; a second ^C takes the default action even while a write to a
 * blocked stdout holds the loop. */
static int sigpipe_w = -1;

static void on_sigint_pipe(int sig)
{
    (void)sig;
    ssize_t r = write(sigpipe_w, "!", 1);
    (void)r;
}

static int sigint_main(void *arg)
{
    struct arun *a = arg;
    acr_io *io;
    if (acr_io_adopt(&io, a->sigfd) != 0)
        return 0;
    char c;
    while (read(a->sigfd, &c, 1) != 1) {
        if (acr_io_wait(io, ACR_READABLE, ACR_FOREVER) != 0) {
            acr_io_detach(io);
            return 0; /* cancelled: the run ended without an interrupt */
        }
    }
    acr_io_detach(io);
    a->s->why = RUN_INTERRUPTED;
    if (a->job)
        acr_job_stop(a->job);
    else if (a->joining)
        acr_task_cancel(a->joining); /* Redis away: the join would wait --redis-timeout */
    return 0;
}

static void stop_sigint(acr_task *sig)
{
    if (sig) {
        acr_task_cancel(sig);
        acr_task_unref(sig);
    }
}

/* --redis: joins the job before the crawl starts. 0, or an exit code with the reason
 * printed (a job of other options: usage; Redis unreachable: failed). */
static int dist_join(struct session *s)
{
    acr_config *c = s->c;
    char *opts = acr_crawl_options(c, true);
    struct acks *k = acr_calloc(1, sizeof *k);
    if (k)
        k->more = acr_cond_new();
    if (!opts || !k || !k->more) {
        free(opts);
        acks_free(k);
        fprintf(stderr, "acrawl: out of memory\n");
        return ACR_EXIT_FAILED;
    }
    acr_dist_cfg cfg = {.url = c->redis, .name = c->redis_job, .options = opts, .claim_idle = c->redis_claim_idle,
                        .max_deliveries = c->redis_max_deliveries, .timeout = c->redis_timeout,
                        .records = c->redis_records, .host_cap = c->job.crawl.host_page_cap,
                        .worker = true};
    char err[512] = "";
    int rc = acr_dist_open(&k->dist, &cfg, err, sizeof err);
    free(opts);
    if (rc == 0)
        rc = acr_spawn(NULL, &k->task, acker_main, k);
    if (rc != 0) {
        if (s->why != RUN_INTERRUPTED) /* ^C: exit 130, as after a crawl */
            fprintf(stderr, "acrawl: %s\n", err[0] ? err : acr_strerror(rc));
        acr_dist_close(k->dist);
        acks_free(k);
        return rc == -EINVAL || rc == -EACCES ? ACR_EXIT_USAGE : ACR_EXIT_FAILED;
    }
    k->lines = c->redis_records;
    c->job.crawl.dist = k->dist;
    s->acks = k;
    return 0;
}

#define LEAVE_MAX (5 * ACR_SEC)

/* After the crawl: the last records are flushed and acked, and the worker leaves the
 * job (handing back what it holds), or says why Redis failed it (exit 1). */
static int dist_leave(struct session *s)
{
    struct acks *k = s->acks;
    if (!k)
        return 0;
    flush_output(s);
    k->closing = true;
    acr_cond_signal(k->more);
    int was = acr_shield(1);
    acr_task_join(k->task, ACR_FOREVER, NULL);
    char msg[512];
    int rc = 0;
    if (acr_dist_failed(k->dist, msg, sizeof msg)) {
        fprintf(stderr, "acrawl: %s\n", msg);
        rc = ACR_EXIT_FAILED;
    } else {
        /* A leave takes a round trip; with Redis away it would wait --redis-timeout,
         * too long after a ^C: past LEAVE_MAX the entries wait --redis-claim-idle. */
        acr_dist_leave(k->dist, acr_deadline_in(LEAVE_MAX));
    }
    acr_shield(was);
    acr_dist_close(k->dist);
    s->c->job.crawl.dist = NULL;
    s->acks = NULL;
    acks_free(k);
    return rc;
}

/* --redis: the join, in a task of its own that a ^C may cancel (a cancel of
 * acrawl_main would stay with it past the join). */
static int join_main(void *arg)
{
    struct arun *a = arg;
    a->rc = dist_join(a->s);
    return 0;
}

static int acrawl_main(void *arg)
{
    struct arun *a = arg;
    struct session *s = a->s;
    acr_config *c = s->c;
    acr_task *sig = NULL;
    if (a->sigfd >= 0)
        acr_spawn(NULL, &sig, sigint_main, a);
    if (c->redis) {
        int rc = acr_spawn(NULL, &a->joining, join_main, a);
        if (rc != 0) {
            fprintf(stderr, "acrawl: %s\n", acr_strerror(rc));
            a->rc = ACR_EXIT_FAILED;
        } else {
            acr_task_join(a->joining, ACR_FOREVER, NULL);
            acr_task_unref(a->joining);
            a->joining = NULL;
        }
        if (s->why == RUN_INTERRUPTED && a->rc != 0)
            a->rc = ACR_EXIT_INTERRUPTED;
        if (a->rc != 0) {
            s->never_started = true;
            stop_sigint(sig);
            return 0;
        }
    }
    acr_chan *records = acr_chan_new(c->job.concurrency);
    char err[256] = "";
    int rc = records ? acr_job_start(&a->job, &c->job, a->in, records, err, sizeof err) : -ENOMEM;
    if (rc != 0) {
        fprintf(stderr, "acrawl: %s\n", err[0] ? err : acr_strerror(rc));
        acr_chan_free(records);
        dist_leave(s);
        s->never_started = true;
        /* a disk that fails under --state is not a usage error */
        bool io = rc == -ENOSPC || rc == -EIO || rc == -EDQUOT || rc == -EPERM;
        a->rc = io ? ACR_EXIT_FAILED : ACR_EXIT_USAGE;
        stop_sigint(sig);
        return 0;
    }
    if (s->why == RUN_INTERRUPTED)
        acr_job_stop(a->job); /* ^C between the join and the start */
    acr_loop_on_block(acr_loop_current(), flush_output, s);
    rc = acr_keep_start(&s->keep, a->job); /* before any task of the job runs */
    if (rc != 0) {
        a->rc = rc;
        s->why = RUN_FAILED;
        acr_job_stop(a->job);
    }
    int64_t deadline = run_deadline(s);
    for (;;) {
        void *p;
        rc = acr_chan_recv(records, &p, next_wake(s, deadline));
        if (rc == ACR_ECLOSED)
            break;
        if (rc == 0 && take_record(s, p) && s->why == RUN_DONE) {
            s->why = RUN_FIRST;
            acr_job_stop(a->job);
        }
        if (s->why == RUN_DONE && acr_now() >= deadline) {
            s->why = RUN_DEADLINE;
            acr_job_stop(a->job);
        }
        if (s->keep.error && s->why != RUN_FAILED) {
            s->why = RUN_FAILED; /* the disk is full, say: what is fetched could not be kept */
            acr_job_stop(a->job);
        }
        acr_progress_update(&s->prog, &s->sum, acr_job_inflight(a->job), acr_job_urls_read(a->job),
                            acr_job_input_done(a->job));
    }
    stop_sigint(sig);
    if (acr_job_input_error(a->job)) {
        fprintf(stderr, "acrawl: %s\n", acr_job_input_error(a->job));
        a->rc = ACR_EXIT_USAGE;
    }
    acr_loop_on_block(acr_loop_current(), NULL, NULL);
    if (acr_job_crawl(a->job)) {
        acr_crawl_stats_get(acr_job_crawl(a->job), &s->crawl);
        s->crawl.deferred = s->keep.deferred;
    }
    if (s->acks)
        flush_output(s); /* while the job's tasks may still ack */
    acr_job_free(a->job);
    acr_chan_free(records);
    int drc = dist_leave(s);
    if (drc != 0 && a->rc == 0)
        a->rc = drc;
    return 0;
}

/* The read end of the ^C pipe, or -1. */
static int sigint_pipe(void)
{
    int p[2];
    if (pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0)
        return -1;
    sigpipe_w = p[1];
    struct sigaction sa = {.sa_handler = on_sigint_pipe, .sa_flags = SA_RESETHAND};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL); /* also undoes the SIG_IGN a shell gives background jobs */
    return p[0];
}

static int run_acrawl(struct session *s, acr_input *in)
{
    struct arun a = {.s = s, .in = in, .sigfd = sigint_pipe()};
    /* ACRAWL_STACK_STATS=1 paints task stacks and reports the deepest use. */
    acr_loop_opts lo = {.paint_stacks = getenv("ACRAWL_STACK_STATS") != NULL};
    acr_loop *loop = acr_loop_new(&lo);
    if (!loop) {
        perror("acrawl: event loop");
        return ACR_EXIT_USAGE;
    }
    acr_spawn(loop, NULL, acrawl_main, &a);
    int rc = acr_loop_run(loop);
    if (rc != 0)
        fprintf(stderr, "acrawl: event loop: %s\n", acr_strerror(rc));
    if (lo.paint_stacks)
        fprintf(stderr, "acrawl: task stack high-water mark %zu bytes (of %d)\n", acr_loop_stack_high_water(loop),
                ACR_DEFAULT_STACK);
    acr_loop_free(loop);
    signal(SIGINT, SIG_DFL);
    if (a.sigfd >= 0) {
        close(a.sigfd);
        close(sigpipe_w);
        sigpipe_w = -1;
    }
    return a.rc;
}

/* ---- the libcurl engine ---- */

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
    signal(SIGINT, SIG_DFL); /* a second ^C ends the process at once */
}

static int run_curl(struct session *s, acr_input *in)
{
    acr_config *c = s->c;
    acr_curl_engine *e;
    char err[256] = "";
    if (acr_curl_engine_new(&e, &c->job, in, err, sizeof err) != 0) {
        fprintf(stderr, "acrawl: %s\n", err);
        s->never_started = true;
        return ACR_EXIT_USAGE;
    }
    acr_cli_note_ignored(c, stderr);
    signal(SIGINT, on_sigint);
    int64_t deadline = run_deadline(s);
    for (;;) {
        acr_record *r;
        int rc = acr_curl_engine_next(e, next_wake(s, deadline), s->why == RUN_DONE ? &interrupted : NULL, &r);
        if (rc <= 0)
            break;
        if (rc == 1) {
            if (take_record(s, r) && s->why == RUN_DONE) {
                s->why = RUN_FIRST;
                acr_curl_engine_stop(e);
            }
            flush_output(s);
        }
        if (s->why == RUN_DONE && (interrupted || acr_now() >= deadline)) {
            s->why = interrupted ? RUN_INTERRUPTED : RUN_DEADLINE;
            acr_curl_engine_stop(e);
        }
        acr_progress_update(&s->prog, &s->sum, 0, s->sum.total, false);
    }
    int rc = 0;
    if (acr_curl_engine_input_error(e)) {
        fprintf(stderr, "acrawl: %s\n", acr_curl_engine_input_error(e));
        rc = ACR_EXIT_USAGE;
    }
    acr_curl_engine_free(e);
    signal(SIGINT, SIG_DFL);
    return rc;
}

/* ---- one run, and the report ---- */

static bool want_color(void) { return isatty(STDERR_FILENO) && !getenv("NO_COLOR"); }

static int exit_code(const struct session *s, int rc)
{
    if (rc != 0)
        return rc;
    if (s->keep.error)
        return ACR_EXIT_FAILED;
    switch (s->why) {
    case RUN_INTERRUPTED:
        return ACR_EXIT_INTERRUPTED;
    case RUN_DEADLINE:
        return ACR_EXIT_DEADLINE;
    default:
        break;
    }
    if (s->c->first)
        return s->first_ok >= s->c->first ? ACR_EXIT_OK : ACR_EXIT_FAILED;
    if (s->sum.failed || s->sum.cancelled || (s->c->fail && s->sum.http_err))
        return ACR_EXIT_FAILED;
    return ACR_EXIT_OK;
}

/* Where the report goes: stderr, the --report-file opened now (before anything is
 * fetched, so an unwritable one stops the run at once), or NULL for none.
 * 0, or ACR_EXIT_USAGE with the reason printed. */
static int open_report(const acr_config *c, FILE **out)
{
    *out = NULL;
    if (c->report == ACR_REPORT_NONE || (c->quiet && !c->report_file))
        return 0;
    if (!c->report_file) {
        *out = stderr;
        return 0;
    }
    *out = fopen(c->report_file, "w");
    if (*out)
        return 0;
    fprintf(stderr, "acrawl: --report-file %s: cannot open it for writing: %s\n", c->report_file, strerror(errno));
    return ACR_EXIT_USAGE;
}

/* --log-skipped: a line per URL found but not fetched: "reason TAB url TAB parent". */
static void log_skip(void *arg, const char *url, const char *parent, const char *reason)
{
    fprintf(arg, "%s\t%s\t%s\n", reason, url, parent ? parent : "-");
}

static int open_skip_log(acr_config *c, FILE **out)
{
    *out = NULL;
    if (!c->log_skipped)
        return 0;
    *out = strcmp(c->log_skipped, "-") ? fopen(c->log_skipped, "w") : stderr;
    if (!*out) {
        fprintf(stderr, "acrawl: --log-skipped %s: cannot open it for writing: %s\n", c->log_skipped,
                strerror(errno));
        return ACR_EXIT_USAGE;
    }
    c->job.crawl.skipped = log_skip;
    c->job.crawl.skipped_arg = *out;
    return 0;
}

static void close_skip_log(FILE *f)
{
    if (f && f != stderr)
        fclose(f);
}

/* Writes the report to f (from open_report; NULL: none) and closes a report file. */
static void print_report(const struct session *s, FILE *f, const acr_summary *const *cmp, int ncmp)
{
    const acr_config *c = s->c;
    if (!f)
        return;
    bool color = f == stderr && want_color();
    acr_report_style st = {.color = color, .unicode = acr_report_unicode()};
    if (c->report == ACR_REPORT_JSON) {
        if (ncmp)
            acr_report_compare_json(f, cmp, ncmp);
        else
            acr_report_json(f, &s->sum, c->job.crawl.on ? &s->crawl : NULL);
    } else {
        acr_report_text(f, &s->sum, st);
        if (c->job.crawl.on)
            acr_report_crawl(f, &s->crawl);
        if (c->timeline)
            acr_report_timeline(f, &s->sum, color);
        if (ncmp)
            acr_report_compare(f, cmp, ncmp, st);
    }
    if (f == stderr)
        return;
    bool failed = ferror(f) != 0;
    if (fclose(f) != 0)
        failed = true;
    if (failed)
        fprintf(stderr, "acrawl: --report-file %s: writing the report failed\n", c->report_file);
}

static int run_once(acr_config *c, int out_fd, const char *label, acr_summary *sum_out, bool report)
{
    char err[256];
    acr_input *in;
    if (acr_input_open(&in, c->sources, c->nsources, err, sizeof err) != 0) {
        fprintf(stderr, "acrawl: %s\n", err);
        return ACR_EXIT_USAGE;
    }
    FILE *rep = NULL, *skips = NULL;
    if ((report && open_report(c, &rep) != 0) || open_skip_log(c, &skips) != 0) {
        if (rep && rep != stderr)
            fclose(rep);
        acr_input_free(in);
        return ACR_EXIT_USAGE;
    }
    struct session s = {.c = c};
    int krc = acr_keep_open(&s.keep, c, out_fd);
    if (krc != 0) {
        if (rep && rep != stderr)
            fclose(rep);
        close_skip_log(skips);
        acr_input_free(in);
        return krc;
    }
    c->job.capture = c->warc != NULL;
    c->job.archive = acr_keep_archive;
    c->job.archive_arg = &s.keep;
    acr__heap_init(&s.held, seq_less, NULL);
    acr_output_init(&s.out, out_fd, c->format, c->writeout);
    acr_summary_init(&s.sum, label, c->job.concurrency, acr_now());
    acr_progress_init(&s.prog, report && !c->quiet && !c->no_progress && isatty(STDERR_FILENO), want_color(),
                      isatty(out_fd));
    int rc = c->engine == ACR_ENGINE_CURL ? run_curl(&s, in) : run_acrawl(&s, in);
    flush_held(&s);
    flush_output(&s);
    acr_keep_close(&s.keep);
    acr_progress_clear(&s.prog);
    s.sum.input_wait_ns = acr_input_wait_ns(in);
    acr_summary_finish(&s.sum);
    acr_input_free(in);
    close_skip_log(skips);
    if (s.never_started && rep && rep != stderr)
        fclose(rep);
    else if (!s.never_started)
        print_report(&s, rep, NULL, 0);
    if (sum_out)
        *sum_out = s.sum;
    return exit_code(&s, rc);
}

/* ---- --compare: three runs, each in its own process for honest CPU and RSS ---- */

/* Writes one line for the runs to read again. acr_input_next showed a NUL line's NUL
 * bytes as \0: they are put back, so every run judges that line bad-url alike. */
static void put_line(FILE *f, const char *text, int read_rc)
{
    for (const char *p = text; *p; p++) {
        bool nul = read_rc == ACR_INPUT_NUL && p[0] == '\\' && p[1] == '0';
        fputc(nul ? 0 : *p, f);
        if (nul)
            p++;
    }
    fputc('\n', f);
}

/* Copies every input line into a memory file the runs can each read from the start.
 * Lines that are bad-url for the reader (NUL bytes, over 64 KiB) are kept, as such. */
static int materialize(acr_config *c, char *path, size_t len)
{
    char err[256];
    acr_input *in;
    if (acr_input_open(&in, c->sources, c->nsources, err, sizeof err) != 0) {
        fprintf(stderr, "acrawl: %s\n", err);
        return -1;
    }
    int fd = memfd_create("acrawl-input", MFD_CLOEXEC);
    FILE *f = fd >= 0 ? fdopen(dup(fd), "w") : NULL;
    int rc = f ? 1 : -errno;
    if (!f)
        snprintf(err, sizeof err, "--compare: cannot keep the input in memory: %s", strerror(-rc));
    while (rc > 0 || rc == ACR_ETOOLARGE) {
        uint64_t line;
        const char *text;
        rc = acr_input_next(in, &line, &text, err, sizeof err);
        if (rc > 0 || rc == ACR_ETOOLARGE)
            put_line(f, text, rc);
    }
    if (f && fclose(f) != 0 && rc == 0) {
        rc = -errno;
        snprintf(err, sizeof err, "--compare: cannot keep the input in memory: %s", strerror(-rc));
    }
    acr_input_free(in);
    if (rc != 0) {
        fprintf(stderr, "acrawl: %s\n", err);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    snprintf(path, len, "/proc/self/fd/%d", fd);
    return fd;
}

static int compare_child(acr_config base, int which, const char *path, acr_summary *out)
{
    static const char *labels[] = {"sync", "async", "libcurl"};
    int p[2];
    if (pipe(p) != 0)
        return ACR_EXIT_USAGE;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        acr_config c = base;
        char *src[] = {(char *)path};
        c.sources = src;
        c.nsources = 1;
        c.engine = which == 2 ? ACR_ENGINE_CURL : ACR_ENGINE_ACRAWL;
        if (which == 0)
            c.job.concurrency = 1;
        c.first = 0;
        int devnull = open("/dev/null", O_WRONLY);
        acr_summary s;
        int rc = run_once(&c, which == 1 ? STDOUT_FILENO : devnull, labels[which], &s, false);
        ssize_t w = write(p[1], &s, sizeof s);
        _exit(w == (ssize_t)sizeof s ? rc : ACR_EXIT_USAGE);
    }
    close(p[1]);
    ssize_t n = read(p[0], out, sizeof *out);
    close(p[0]);
    int ws;
    struct rusage ru;
    wait4(pid, &ws, 0, &ru);
    if (n != (ssize_t)sizeof *out)
        return ACR_EXIT_USAGE;
    out->cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
                 ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
    out->maxrss_kb = ru.ru_maxrss;
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : ACR_EXIT_FAILED;
}

static int run_compare(acr_config *c)
{
    FILE *rep;
    if (open_report(c, &rep) != 0)
        return ACR_EXIT_USAGE;
    char path[64];
    int fd = materialize(c, path, sizeof path);
    if (fd < 0) {
        if (rep && rep != stderr)
            fclose(rep);
        return ACR_EXIT_USAGE;
    }
    acr_summary runs[3];
    int rcs[3];
    for (int i = 0; i < 3; i++) {
        if (c->report == ACR_REPORT_TEXT && !c->quiet && !c->report_file)
            fprintf(stderr, "acrawl: --compare: %s run...\n", i == 0 ? "sync (-c 1)" : i == 1 ? "async" : "libcurl");
        rcs[i] = compare_child(*c, i, path, &runs[i]);
    }
    close(fd);
    struct session s = {.c = c, .sum = runs[1]};
    const acr_summary *cmp[] = {&runs[0], &runs[1], &runs[2]};
    print_report(&s, rep, cmp, 3);
    return rcs[1];
}

/* ---- --status, --collect, --drain: a client of a --redis job ---- */

struct control {
    acr_config *c;
    int rc;
};

static int control_main(void *arg)
{
    struct control *ct = arg;
    acr_config *c = ct->c;
    acr_dist_cfg cfg = {.url = c->redis, .name = c->redis_job, .timeout = c->redis_timeout};
    char err[512] = "";
    acr_dist *d;
    int rc = acr_dist_open(&d, &cfg, err, sizeof err);
    if (rc == 0) {
        if (c->control == ACR_CTL_STATUS)
            rc = acr_dist_status(d, c->format == ACR_FMT_JSON, stdout, err, sizeof err);
        else if (c->control == ACR_CTL_COLLECT)
            rc = acr_dist_collect(d, STDOUT_FILENO, err, sizeof err);
        else
            rc = acr_dist_drain(d, err, sizeof err);
        acr_dist_close(d);
    }
    if (rc == -EPIPE) {
        ct->rc = ACR_EXIT_PIPE;
    } else if (rc != 0) {
        fprintf(stderr, "acrawl: %s\n", err[0] ? err : acr_strerror(rc));
        ct->rc = rc == -EINVAL ? ACR_EXIT_USAGE : ACR_EXIT_FAILED;
    } else if (c->control == ACR_CTL_DRAIN) {
        fprintf(stderr, "acrawl: job %s: drain asked; its workers stop after the pages they have in flight\n",
                c->redis_job);
    }
    return 0;
}

static int run_control(acr_config *c)
{
    struct control ct = {.c = c};
    acr_loop *loop = acr_loop_new(NULL);
    if (!loop) {
        perror("acrawl: event loop");
        return ACR_EXIT_FAILED;
    }
    acr_spawn(loop, NULL, control_main, &ct);
    int rc = acr_loop_run(loop);
    acr_loop_free(loop);
    fflush(stdout);
    if (rc != 0) {
        fprintf(stderr, "acrawl: event loop: %s\n", acr_strerror(rc));
        return ACR_EXIT_FAILED;
    }
    return ct.rc;
}

/* A closed standard descriptor would be taken by the next file opened (a WARC on
 * fd 1 would receive the records): each closed one gets /dev/null. */
static void std_fds_open(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
            int n = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
            if (n >= 0 && n != fd) {
                dup2(n, fd);
                close(n);
            }
        }
    }
}

int acr_main(int argc, char **argv)
{
    std_fds_open();
    acr_config c;
    int rc = acr_cli_parse(&c, argc, argv);
    if (rc != 0) {
        acr_cli_release(&c);
        return rc == 1 ? ACR_EXIT_OK : ACR_EXIT_USAGE;
    }
    signal(SIGPIPE, SIG_IGN); /* EPIPE is handled where it happens */
    acr_cli_fit_fd_limit(&c);
    if (c.control != ACR_CTL_NONE)
        rc = run_control(&c);
    else if (c.compare)
        rc = run_compare(&c);
    else
        rc = run_once(&c, STDOUT_FILENO, c.engine == ACR_ENGINE_CURL ? "libcurl" : (c.sync ? "sync" : "acrawl"), NULL, true);
    acr_cli_release(&c);
    return rc;
}
