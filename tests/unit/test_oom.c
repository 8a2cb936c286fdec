/* test_oom.c -- allocation failures injected at every site of a small run, one
 * site at a time: both engines still give every URL line exactly one record (kind
 * `system` where memory ran out), or refuse to start cleanly. Under `make asan`
 * this also shows that no failure path leaks or touches freed memory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/kind.h"
#include "fixtures.h"
#include "helpers.h"
#include "jobs/curlengine.h"
#include "jobs/fetchjob.h"
#include "jobs/record.h"
#include "util/alloc.h"

static struct server srv;
static void setup(void) { server_start(&srv); }
static void teardown(void) { server_stop(&srv); }

#define NLINES 7
/* Lines 1..7; line 4 is a comment and gets no record. */
static const int url_lines[] = {1, 2, 3, 5, 6, 7};

static void write_list(char *path, size_t len)
{
    snprintf(path, len, "/tmp/acrawl-oom-%d.txt", (int)getpid());
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "http://127.0.0.1:%d/ok\n", srv.http);
    fprintf(f, "http://127.0.0.1:%d/bytes/3000\n", srv.http);
    fprintf(f, "not a url\n");
    fprintf(f, "# a comment\n");
    fprintf(f, "http://127.0.0.1:%d/status/404\n", srv.http);
    fprintf(f, "http://127.0.0.1:%d/chunked/500\n", srv.http);
    fprintf(f, "http://127.0.0.1:1/\n");
    fclose(f);
}

struct tally {
    int seen[NLINES + 1];
    int started;                /* 0: the engine refused to start */
    int oom_records;
};

static void count(struct tally *t, acr_record *r)
{
    cr_assert(r->line >= 1 && r->line <= NLINES, "record for line %llu", (unsigned long long)r->line);
    t->seen[r->line]++;
    if (r->error == -ENOMEM) {
        t->oom_records++;
        cr_assert_str_eq(acr_error_kind(r->error), "system");
    }
    acr_record_free(r);
}

static void check(const struct tally *t, uint64_t fail_at)
{
    if (!t->started)
        return; /* a clean refusal to start is allowed */
    for (size_t i = 0; i < sizeof url_lines / sizeof url_lines[0]; i++)
        cr_assert_eq(t->seen[url_lines[i]], 1, "allocation %llu failed: line %d got %d records",
                     (unsigned long long)fail_at, url_lines[i], t->seen[url_lines[i]]);
    cr_assert_eq(t->seen[4], 0, "the comment line got a record");
}

static acr_job_opts opts(void)
{
    return (acr_job_opts){.concurrency = 2, .timeout = 5 * ACR_SEC, .req = {.follow = true}};
}

/* Runs the list once to count the allocations it makes, then again with each of
 * them failing in turn; every run must pass check(). */
static void fail_each(const char *engine, void (*once)(char *, uint64_t, struct tally *))
{
    char path[64];
    write_list(path, sizeof path);
    struct tally t;
    uint64_t before = acr_alloc_count();
    once(path, 0, &t);
    uint64_t sites = acr_alloc_count() - before;
    check(&t, 0);
    cr_assert(t.started && t.oom_records == 0, "%s: the run without failures went wrong", engine);
    int ooms = 0;
    for (uint64_t n = 1; n <= sites; n++) {
        once(path, n, &t);
        check(&t, n);
        ooms += t.oom_records;
    }
    cr_log_info("%s engine: %llu allocations failed one at a time; %d gave an out-of-memory record", engine,
                (unsigned long long)sites, ooms);
    cr_assert_gt(ooms, 0, "%s: no failure reached a record: the injection is not reaching the engine", engine);
    unlink(path);
}

/* ---- the acrawl engine ---- */

struct arun {
    char *path;
    struct tally t;
};

static int acrawl_run(void *arg)
{
    struct arun *a = arg;
    char err[256];
    acr_input *in;
    char *src[] = {a->path};
    if (acr_input_open(&in, src, 1, err, sizeof err) != 0)
        return 0;
    acr_chan *records = acr_chan_new(4);
    acr_job_opts o = opts();
    acr_job *j = NULL;
    if (records && acr_job_start(&j, &o, in, records, err, sizeof err) == 0) {
        a->t.started = 1;
        void *p;
        while (acr_chan_recv(records, &p, ACR_FOREVER) == 0)
            count(&a->t, p);
        acr_job_free(j);
    }
    acr_chan_free(records);
    acr_input_free(in);
    return 0;
}

static void acrawl_once(char *path, uint64_t fail_at, struct tally *out)
{
    struct arun a = {.path = path};
    acr_alloc_fail_nth(fail_at);
    /* Not run_in_loop: a loop or a task that cannot be made is a clean refusal here. */
    acr_loop *l = acr_loop_new(NULL);
    acr_task *t = NULL;
    if (l && acr_spawn(l, &t, acrawl_run, &a) == 0) {
        cr_assert_eq(acr_loop_run(l), 0);
        acr_task_unref(t);
    }
    acr_loop_free(l);
    acr_alloc_fail_nth(0);
    *out = a.t;
}

Test(oom, every_allocation_of_the_acrawl_engine_fails_once, .init = setup, .fini = teardown, .timeout = 240)
{
    fail_each("acrawl", acrawl_once);
}

/* ---- the libcurl engine ---- */

static void curl_once(char *path, uint64_t fail_at, struct tally *t)
{
    memset(t, 0, sizeof *t);
    char err[256];
    acr_input *in;
    char *src[] = {path};
    cr_assert_eq(acr_input_open(&in, src, 1, err, sizeof err), 0, "%s", err);
    acr_job_opts o = opts();
    acr_curl_engine *e;
    acr_alloc_fail_nth(fail_at);
    if (acr_curl_engine_new(&e, &o, in, err, sizeof err) == 0) {
        t->started = 1;
        acr_record *r;
        int rc;
        while ((rc = acr_curl_engine_next(e, acr_deadline_in(10 * ACR_SEC), NULL, &r)) != 0) {
            cr_assert_neq(rc, 2, "the libcurl engine stalled");
            if (rc == 1)
                count(t, r);
        }
        acr_curl_engine_free(e);
    }
    acr_alloc_fail_nth(0);
    acr_input_free(in);
}

Test(oom, every_allocation_of_the_libcurl_engine_fails_once, .init = setup, .fini = teardown, .timeout = 240)
{
    fail_each("libcurl", curl_once);
}
