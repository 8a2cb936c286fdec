/* bench_http.c -- N requests to one URL through the client library at C concurrent
 * keep-alive connections on one core. Prints one JSON object. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "acrawl/error.h"
#include "acrawl/http.h"
#include "acrawl/loop.h"
#include "acrawl/task.h"

static struct {
    const char *url;
    long n, c;
    long next, ok, errors;
    int last_error;
    acr_client *client;
} B;

static int worker(void *arg)
{
    (void)arg;
    while (B.next < B.n) {
        B.next++;
        acr_request rq = {.url = B.url};
        acr_response r;
        acr_fetch(B.client, &rq, acr_deadline_in(10 * ACR_SEC), &r);
        if (r.error == 0 && r.status == 200) {
            B.ok++;
        } else {
            B.errors++;
            B.last_error = r.error;
        }
        acr_response_release(&r);
    }
    return 0;
}

static int bench_main(void *arg)
{
    acr_client_opts *o = arg;
    char err[256];
    if (acr_client_new(&B.client, o, err, sizeof err) != 0) {
        fprintf(stderr, "bench_http: %s\n", err);
        exit(1);
    }
    acr_group *g = acr_group_new();
    for (long i = 0; i < B.c; i++)
        acr_group_spawn(g, NULL, worker, NULL);
    acr_task *t;
    while (acr_group_next(g, ACR_FOREVER, &t) == 0)
        acr_task_unref(t);
    acr_group_free(g);
    acr_client_free(B.client);
    return 0;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
           ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_http URL N CONCURRENCY [CAFILE] [label]\n");
        return 2;
    }
    B.url = argv[1];
    B.n = atol(argv[2]);
    B.c = atol(argv[3]);
    acr_client_opts o = {.cacert = argc > 4 && argv[4][0] ? argv[4] : NULL};
    const char *label = argc > 5 ? argv[5] : "http";
    acr_loop_opts lo = {.paint_stacks = true};
    acr_loop *l = acr_loop_new(&lo);
    double c0 = cpu_seconds();
    int64_t t0 = acr_now();
    acr_spawn(l, NULL, bench_main, &o);
    acr_loop_run(l);
    double wall = (double)(acr_now() - t0) / 1e9;
    double cpu = cpu_seconds() - c0;
    printf("{\"bench\":\"%s\",\"requests\":%ld,\"ok\":%ld,\"errors\":%ld,\"last_error\":\"%s\",\"concurrency\":%ld,"
           "\"wall_s\":%.3f,\"rps\":%.0f,\"cpu_us_per_req\":%.2f,\"stack_high_water_bytes\":%zu}\n",
           label, B.n, B.ok, B.errors, B.errors ? acr_errname(B.last_error) : "none", B.c, wall,
           (double)B.n / wall, cpu * 1e6 / (double)B.n, acr_loop_stack_high_water(l));
    acr_loop_free(l);
    return B.errors ? 1 : 0;
}
