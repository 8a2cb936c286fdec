/* race.c -- the client library alone (no libcurl, no acrawl program code): fetch
 * the URLs given as arguments concurrently, print the first one to answer with a
 * 2xx, and cancel the rest. `race URL...`; every request has 5 s. */
#include <stdio.h>

#include "acrawl/error.h"
#include "acrawl/http.h"
#include "acrawl/loop.h"
#include "acrawl/task.h"

struct job {
    acr_client *client;
    const char *url;
    acr_response resp;
};

static int fetch_one(void *arg)
{
    struct job *j = arg;
    acr_request rq = {.url = j->url, .follow = true};
    acr_task_set_result(j);
    return acr_fetch(j->client, &rq, acr_deadline_in(5 * ACR_SEC), &j->resp);
}

static int race(void *arg)
{
    char **urls = arg;
    char err[256] = "";
    acr_client *client;
    acr_client_opts o = {0};
    if (acr_client_new(&client, &o, err, sizeof err) != 0) {
        fprintf(stderr, "race: %s\n", err);
        return 1;
    }
    struct job jobs[64] = {0};
    acr_group *g = acr_group_new();
    for (int i = 0; urls[i] && i < 64; i++) {
        jobs[i] = (struct job){.client = client, .url = urls[i]};
        acr_group_spawn(g, NULL, fetch_one, &jobs[i]);
    }
    /* As each finishes: the first 2xx wins and the others are cancelled. */
    int rc = 1;
    acr_task *t;
    while (acr_group_next(g, ACR_FOREVER, &t) == 0) {
        struct job *j = acr_task_result(t);
        if (rc != 0 && j->resp.error == 0 && j->resp.status >= 200 && j->resp.status < 300) {
            printf("%s\t%d\t%.1f ms\n", j->url, j->resp.status, (double)j->resp.t.total / 1e6);
            rc = 0;
            acr_group_cancel(g);
        }
        acr_task_unref(t);
    }
    for (int i = 0; i < 64 && jobs[i].url; i++)
        acr_response_release(&jobs[i].resp);
    acr_group_free(g);
    acr_client_free(client);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 65) {
        fprintf(stderr, "usage: race URL... (at most 64)\n");
        return 2;
    }
    acr_loop *l = acr_loop_new(NULL);
    if (!l)
        return 1;
    acr_task *t;
    acr_spawn(l, &t, race, argv + 1);
    int rc = acr_loop_run(l);
    int status = rc == 0 ? acr_task_status(t) : 1;
    acr_task_unref(t);
    acr_loop_free(l);
    return status;
}
