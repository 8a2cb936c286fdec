/* bench_runtime.c -- runtime micro-benchmarks: switch, spawn+join, timer round trip,
 * idle RSS per parked task, and how many parked tasks fit. Prints one JSON object. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acrawl/error.h"
#include "acrawl/loop.h"
#include "acrawl/task.h"

static double sw_ns, sj_ns, sleep_ns;
static long rss_per_task;

static long rss_bytes(void)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
        rss = 0;
    fclose(f);
    return rss * sysconf(_SC_PAGESIZE);
}

#define PINGS 5000000L

static int pinger(void *arg)
{
    (void)arg;
    for (long i = 0; i < PINGS; i++)
        acr_yield();
    return 0;
}

static int bench_switch(void *arg)
{
    (void)arg;
    acr_task *a, *b;
    acr_spawn(NULL, &a, pinger, NULL);
    acr_spawn(NULL, &b, pinger, NULL);
    int64_t t0 = acr_now();
    acr_task_join(a, ACR_FOREVER, NULL);
    acr_task_join(b, ACR_FOREVER, NULL);
    sw_ns = (double)(acr_now() - t0) / (2.0 * PINGS);
    acr_task_unref(a);
    acr_task_unref(b);
    return 0;
}

static int empty(void *arg)
{
    (void)arg;
    return 0;
}

static int bench_spawn_join(void *arg)
{
    (void)arg;
    const long n = 1000000;
    for (int i = 0; i < 1000; i++) { /* warm the stack pool */
        acr_task *t;
        acr_spawn(NULL, &t, empty, NULL);
        acr_task_join(t, ACR_FOREVER, NULL);
        acr_task_unref(t);
    }
    int64_t t0 = acr_now();
    for (long i = 0; i < n; i++) {
        acr_task *t;
        acr_spawn(NULL, &t, empty, NULL);
        acr_task_join(t, ACR_FOREVER, NULL);
        acr_task_unref(t);
    }
    sj_ns = (double)(acr_now() - t0) / (double)n;
    return 0;
}

static int bench_sleep(void *arg)
{
    (void)arg;
    const long n = 1000000;
    int64_t t0 = acr_now();
    for (long i = 0; i < n; i++)
        acr_sleep_for(1);
    sleep_ns = (double)(acr_now() - t0) / (double)n;
    return 0;
}

static int park(void *arg)
{
    (void)arg;
    return acr_sleep_until(ACR_FOREVER) == ACR_ECANCELED ? 0 : -1;
}

struct fill {
    long cap;
    long count;
    int err;
    long rss_delta;
};

/* Spawns parked tasks until the runtime refuses (or cap), then cancels them all. */
static int fill_tasks(void *arg)
{
    struct fill *f = arg;
    acr_task **ts = calloc((size_t)f->cap, sizeof *ts);
    long rss0 = rss_bytes();
    for (f->count = 0; f->count < f->cap; f->count++) {
        int rc = acr_spawn(NULL, &ts[f->count], park, NULL);
        if (rc != 0) {
            f->err = rc;
            break;
        }
    }
    acr_yield(); /* every task runs and parks */
    f->rss_delta = rss_bytes() - rss0;
    for (long i = 0; i < f->count; i++) {
        acr_task_cancel(ts[i]);
        acr_task_unref(ts[i]);
    }
    free(ts);
    return 0;
}

static void run(acr_task_fn *fn, void *arg, const acr_loop_opts *o)
{
    acr_loop *l = acr_loop_new(o);
    acr_spawn(l, NULL, fn, arg);
    acr_loop_run(l);
    acr_loop_free(l);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of ROUNDS runs: this machine is shared, single runs are noisy. */
#define ROUNDS 5
static double median_of(acr_task_fn *fn, double *out)
{
    double v[ROUNDS];
    for (int i = 0; i < ROUNDS; i++) {
        run(fn, NULL, NULL);
        v[i] = *out;
    }
    qsort(v, ROUNDS, sizeof v[0], cmp_double);
    return v[ROUNDS / 2];
}

int main(void)
{
    sw_ns = median_of(bench_switch, &sw_ns);
    sj_ns = median_of(bench_spawn_join, &sj_ns);
    sleep_ns = median_of(bench_sleep, &sleep_ns);

    struct fill idle = {.cap = 10000};
    run(fill_tasks, &idle, NULL);
    rss_per_task = idle.rss_delta / idle.count;

    struct fill most = {.cap = 200000};
    run(fill_tasks, &most, NULL);
    acr_loop_opts mp = {.guard = ACR_STACK_GUARD_MPROTECT};
    struct fill mprot = {.cap = 200000};
    run(fill_tasks, &mprot, &mp);

    printf("{\"bench\":\"runtime\",\"switch_ns\":%.2f,\"spawn_join_ns\":%.1f,\"sleep_wake_ns\":%.1f,"
           "\"idle_rss_bytes_per_task\":%ld,\"max_tasks\":%ld,\"max_tasks_capped\":%s,"
           "\"max_tasks_mprotect\":%ld,\"mprotect_error\":\"%s\",\"stack_size\":%d}\n",
           sw_ns, sj_ns, sleep_ns, rss_per_task, most.count, most.err == 0 ? "true" : "false",
           mprot.count, mprot.err ? acr_strerror(mprot.err) : "none", ACR_DEFAULT_STACK);
    return 0;
}
