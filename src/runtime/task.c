/* task.c -- tasks as futures: spawn, finish, join, cancel, wait on several, and
 * groups that yield their members in completion order. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acrawl/error.h"
#include "sched.h"
#include "util/alloc.h"

struct acr_group {
    acr__list running;      /* members not finished */
    acr__list done;         /* finished, not yet taken by next() */
    size_t nrunning, ndone;
    acr__list waiters;      /* tasks parked in next() */
};

/* ---- lifecycle ---- */

int acr_spawn(acr_loop *loop, acr_task **out, acr_task_fn *fn, void *arg)
{
    if (!loop)
        loop = acr_loop_current();
    if (!loop)
        return ACR_ENOTASK;
    acr_task *t = acr_malloc(sizeof *t); /* malloc+memset: glibc's calloc skips the tcache */
    if (!t)
        return -ENOMEM;
    memset(t, 0, sizeof *t);
    t->fn = fn;
    t->arg = arg;
    t->state = ACR_TASK_PENDING;
    t->refs = out ? 2 : 1;
    acr__list_init(&t->wlink);
    acr__list_init(&t->joiners);
    acr__list_init(&t->glink);
    acr__list_init(&t->alink);
    int rc = acr__loop_start_task(loop, t);
    if (rc != 0) {
        free(t);
        return rc;
    }
    if (out)
        *out = t;
    return 0;
}

static void group_member_done(acr_task *t);

void acr__task_entry(void *arg)
{
    acr__ctx_entered();
    acr_task *t = arg;
    int status = t->fn(t->arg);
    t->status = status;
    t->state = (t->cancel_requested && status == ACR_ECANCELED) ? ACR_TASK_CANCELLED : ACR_TASK_DONE;
    for (acr__list *n = t->joiners.next; n != &t->joiners; n = n->next)
        acr__wake(acr__container_of(n, acr__joiner, link)->waiter, 0);
    if (t->group)
        group_member_done(t);
    acr__task_exit(t);
}

void acr_task_ref(acr_task *t) { t->refs++; }

void acr_task_unref(acr_task *t)
{
    if (!t)
        return;
    ACR_ASSERT(t->refs > 0, "a task reference is dropped once per reference taken");
    if (--t->refs > 0)
        return;
    ACR_ASSERT(t->state >= ACR_TASK_DONE, "the runtime holds a reference until the task has finished");
    free(t);
}

void acr__task_free(acr_task *t) { free(t); }

acr_task *acr_task_self(void) { return acr__self(); }

void acr_task_set_result(void *result)
{
    acr_task *t = acr__self();
    if (t)
        t->result = result;
}

void acr_task_set_name(acr_task *t, const char *name) { t->name = name; }
const char *acr_task_name(const acr_task *t) { return t->name ? t->name : "unnamed"; }
uint64_t acr_task_id(const acr_task *t) { return t->id; }
acr_task_state acr_task_state_of(const acr_task *t) { return t->state; }
int acr_task_done(const acr_task *t) { return t->state >= ACR_TASK_DONE; }
int acr_task_status(const acr_task *t) { return t->status; }
void *acr_task_result(const acr_task *t) { return t->result; }

void acr_task_cancel(acr_task *t)
{
    if (acr_task_done(t) || t->cancel_requested)
        return;
    t->cancel_requested = true;
    if (t->shielded)
        return; /* delivered when the shield drops */
    if (t->parked)
        acr__wake(t, ACR_ECANCELED);
    else if (t->queued && t->wake_result == ACR_ETIMEOUT)
        t->wake_result = ACR_ECANCELED; /* cancel wins over a deadline in the same tick */
}

int acr_cancelled(void)
{
    acr_task *t = acr__self();
    return t && t->cancel_requested;
}

int acr_shield(int on)
{
    acr_task *t = acr__self();
    if (!t)
        return 0;
    int was = t->shielded;
    t->shielded = on != 0;
    return was;
}

/* ---- join ---- */

int acr_task_join(acr_task *t, int64_t deadline, int *status)
{
    acr_task *self = acr__self();
    if (!self)
        return ACR_ENOTASK;
    if (t == self)
        return ACR_EDEADLOCK;
    int rc = 0;
    if (!acr_task_done(t)) {
        acr__joiner j = {.waiter = self};
        acr__list_push(&t->joiners, &j.link);
        do {
            rc = acr__park(deadline);
        } while (rc == 0 && !acr_task_done(t));
        acr__list_remove(&j.link);
    }
    if (acr_task_done(t)) {
        if (status)
            *status = t->status;
        return 0; /* completion wins over an expiry seen in the same iteration */
    }
    return rc;
}

int acr_task_wait_for(acr_task *t, int64_t deadline, int *status)
{
    int rc = acr_task_join(t, deadline, status);
    if (rc != ACR_ETIMEOUT && rc != ACR_ECANCELED)
        return rc;
    acr_task_cancel(t);
    /* Wait for t's cleanup even if we are being cancelled ourselves. */
    int was = acr_shield(1);
    acr_task_join(t, ACR_FOREVER, status);
    acr_shield(was);
    return rc;
}

/* ---- wait on several ---- */

static bool wait_satisfied(acr_task **tasks, size_t n, acr_wait_mode mode)
{
    size_t done = 0;
    for (size_t i = 0; i < n; i++) {
        if (!acr_task_done(tasks[i]))
            continue;
        done++;
        if (mode == ACR_FIRST_COMPLETED)
            return true;
        if (mode == ACR_FIRST_ERROR && tasks[i]->status != 0)
            return true;
    }
    return done == n;
}

/* Stable partition: done tasks first. Returns how many are done. */
static size_t partition_done(acr_task **tasks, size_t n, acr_task **tmp)
{
    size_t d = 0, p = 0;
    for (size_t i = 0; i < n; i++) {
        if (acr_task_done(tasks[i]))
            tasks[d++] = tasks[i];
        else
            tmp[p++] = tasks[i];
    }
    memcpy(tasks + d, tmp, p * sizeof *tasks);
    return d;
}

int acr_wait(acr_task **tasks, size_t n, acr_wait_mode mode, int64_t deadline, size_t *ndone)
{
    acr_task *self = acr__self();
    if (!self)
        return ACR_ENOTASK;
    acr__joiner *js = acr_calloc(n ? n : 1, sizeof *js);
    if (!js)
        return -ENOMEM;
    int rc = 0;
    if (!wait_satisfied(tasks, n, mode)) {
        for (size_t i = 0; i < n; i++) {
            js[i].waiter = self;
            acr__list_push(&tasks[i]->joiners, &js[i].link);
        }
        do {
            rc = acr__park(deadline);
        } while (rc == 0 && !wait_satisfied(tasks, n, mode));
        for (size_t i = 0; i < n; i++)
            acr__list_remove(&js[i].link);
        if (rc != 0 && wait_satisfied(tasks, n, mode))
            rc = 0;
    }
    /* js is no longer linked anywhere: reuse it as scratch for the partition. */
    size_t d = partition_done(tasks, n, (acr_task **)(void *)js);
    if (ndone)
        *ndone = d;
    free(js);
    return rc;
}

/* ---- groups ---- */

acr_group *acr_group_new(void)
{
    acr_group *g = acr_calloc(1, sizeof *g);
    if (!g)
        return NULL;
    acr__list_init(&g->running);
    acr__list_init(&g->done);
    acr__list_init(&g->waiters);
    return g;
}

int acr_group_spawn(acr_group *g, acr_task **out, acr_task_fn *fn, void *arg)
{
    acr_task *t;
    int rc = acr_spawn(NULL, &t, fn, arg);
    if (rc != 0)
        return rc;
    t->group = g;
    acr__list_push(&g->running, &t->glink);
    g->nrunning++;
    if (out) {
        acr_task_ref(t);
        *out = t;
    }
    return 0; /* the spawn reference is the group's */
}

static void group_member_done(acr_task *t)
{
    acr_group *g = t->group;
    acr__list_remove(&t->glink);
    g->nrunning--;
    acr__list_push(&g->done, &t->glink);
    g->ndone++;
    acr__serve_first(&g->waiters, 0);
}

int acr_group_next(acr_group *g, int64_t deadline, acr_task **out)
{
    acr_task *self = acr__self();
    if (!self)
        return ACR_ENOTASK;
    while (g->ndone == 0) {
        if (g->nrunning == 0)
            return ACR_EEMPTY;
        int rc = acr__park_on(&g->waiters, deadline);
        if (rc != 0 && g->ndone == 0)
            return rc;
    }
    acr__list *n = acr__list_shift(&g->done);
    g->ndone--;
    acr_task *t = acr__container_of(n, acr_task, glink);
    t->group = NULL;
    *out = t; /* the group's reference passes to the caller */
    return 0;
}

void acr_group_cancel(acr_group *g)
{
    for (acr__list *n = g->running.next; n != &g->running; n = n->next)
        acr_task_cancel(acr__container_of(n, acr_task, glink));
}

size_t acr_group_running(const acr_group *g) { return g->nrunning; }
size_t acr_group_ready(const acr_group *g) { return g->ndone; }

void acr_group_free(acr_group *g)
{
    if (!g)
        return;
    ACR_ASSERT(acr__list_empty(&g->waiters), "no task waits in acr_group_next on a group being freed");
    for (acr__list *n = acr__list_shift(&g->running); n; n = acr__list_shift(&g->running)) {
        acr_task *t = acr__container_of(n, acr_task, glink);
        t->group = NULL;
        acr_task_cancel(t);
        acr_task_unref(t);
    }
    for (acr__list *n = acr__list_shift(&g->done); n; n = acr__list_shift(&g->done)) {
        acr_task *t = acr__container_of(n, acr_task, glink);
        t->group = NULL;
        acr_task_unref(t);
    }
    free(g);
}
