/* three_fetches.c -- the runtime in one screen: three fake "fetches" run
 * concurrently, print as they complete, and the slowest is cut by a deadline. */
#include <stdio.h>

#include "acrawl/error.h"
#include "acrawl/loop.h"
#include "acrawl/task.h"

struct fetch {
    const char *url;
    int ms;
};

static int fake_fetch(void *arg)
{
    struct fetch *f = arg;
    acr_task_set_result(f);
    return acr_sleep_for(f->ms * ACR_MSEC); /* stands in for network I/O */
}

static int crawl(void *arg)
{
    (void)arg;
    static struct fetch fetches[] = {
        {"http://a.example/", 300}, {"http://b.example/", 100}, {"http://c.example/", 5000}};
    int64_t start = acr_now(), deadline = acr_deadline_in(1 * ACR_SEC);
    acr_group *g = acr_group_new();
    for (int i = 0; i < 3; i++)
        acr_group_spawn(g, NULL, fake_fetch, &fetches[i]);
    for (;;) {
        acr_task *t;
        int rc = acr_group_next(g, deadline, &t);
        if (rc == ACR_ETIMEOUT) {
            acr_group_cancel(g); /* the deadline passed: cancel what is left */
            deadline = ACR_FOREVER;
            continue;
        }
        if (rc != 0)
            break; /* ACR_EEMPTY: every fetch has reported */
        struct fetch *f = acr_task_result(t);
        printf("%5lld ms  %s  %s\n", (long long)((acr_now() - start) / ACR_MSEC), f->url,
               acr_strerror(acr_task_status(t)));
        acr_task_unref(t);
    }
    acr_group_free(g);
    return 0;
}

int main(void)
{
    acr_loop *loop = acr_loop_new(NULL);
    acr_spawn(loop, NULL, crawl, NULL);
    int rc = acr_loop_run(loop);
    acr_loop_free(loop);
    return rc == 0 ? 0 : 1;
}
