/* loop.c -- the scheduler, one loop per thread: the ready queue, park and wake, the
 * timers, and the run loop. Tasks switch directly to the next ready task; the
 * scheduler context only runs to poll (poll.h) between passes and to free
 * finished tasks' stacks. */
#include <errno.h>
#include <stdlib.h>

#include "acrawl/error.h"
#include "poll.h"
#include "sched.h"
#include "util/alloc.h"

static __thread acr_loop *cur_loop;

#define PASS_MIN 256
/* ---- timers: parked tasks with a deadline, by (deadline, seq) ---- */

static bool timer_less(const void *pa, const void *pb)
{
    const acr_task *a = pa, *b = pb;
    if (a->deadline != b->deadline)
        return a->deadline < b->deadline;
    return a->seq < b->seq; /* equal deadlines: parked first, woken first */
}

static void timer_moved(void *t, size_t idx) { ((acr_task *)t)->heap_idx = idx; }

static int timer_add(acr_loop *l, acr_task *t)
{
    t->seq = l->seq++;
    return acr__heap_push(&l->timers, t);
}

static void timer_remove(acr_loop *l, acr_task *t)
{
    acr__heap_remove(&l->timers, t->heap_idx);
    t->heap_idx = SIZE_MAX;
}

/* ---- ready queue and switching ---- */

static void ready_push(acr_loop *l, acr_task *t)
{
    t->queued = true;
    t->rnext = NULL;
    if (l->ready_tail)
        l->ready_tail->rnext = t;
    else
        l->ready_head = t;
    l->ready_tail = t;
    l->nready++;
}

static acr_task *ready_pop(acr_loop *l)
{
    acr_task *t = l->ready_head;
    if (!t)
        return NULL;
    l->ready_head = t->rnext;
    if (!l->ready_head)
        l->ready_tail = NULL;
    l->nready--;
    t->queued = false;
    return t;
}

/* Leaves the current task (already queued or parked) for the next ready task of
 * this pass, or for the scheduler when the pass is over. */
static void switch_away(acr_loop *l, acr_task *self)
{
    acr_task *next = NULL;
    if (l->pass_left > 0) {
        next = ready_pop(l);
        if (next)
            l->pass_left--;
    }
    if (next == self) {
        self->state = ACR_TASK_RUNNING;
        return;
    }
    if (next) {
        l->current = next;
        next->state = ACR_TASK_RUNNING;
        acr__ctx_swap(&self->ctx, &next->ctx);
    } else {
        l->current = NULL;
        acr__ctx_swap(&self->ctx, &l->main_ctx);
    }
    /* Resumed: whoever switched here set l->current = self. */
}

acr_task *acr__self(void)
{
    return cur_loop ? cur_loop->current : NULL;
}

/* What every suspending call checks first: that it runs in a task, that no cancel
 * is pending and that its deadline has not passed. 0 with *out set, or the code. */
static int enter(acr_task **out, int64_t deadline)
{
    acr_task *t = acr__self();
    if (!t)
        return ACR_ENOTASK;
    if (acr__cancel_pending(t))
        return ACR_ECANCELED;
    if (deadline != ACR_FOREVER && deadline <= acr_now())
        return ACR_ETIMEOUT;
    *out = t;
    return 0;
}

int acr__park(int64_t deadline)
{
    acr_task *t;
    int rc = enter(&t, deadline);
    if (rc != 0)
        return rc;
    acr_loop *l = t->loop;
    t->deadline = deadline;
    if (deadline != ACR_FOREVER && timer_add(l, t) != 0)
        return -ENOMEM;
    t->parked = true;
    t->wake_result = 0;
    t->budget = ACR__RUN_BUDGET;
    switch_away(l, t);
    return t->wake_result;
}

bool acr__wake(acr_task *t, int result)
{
    if (!t->parked)
        return false;
    t->parked = false;
    if (t->heap_idx != SIZE_MAX)
        timer_remove(t->loop, t);
    t->wake_result = result;
    ready_push(t->loop, t);
    return true;
}

int acr__requeue(acr_task *t)
{
    t->wake_result = 0;
    t->budget = ACR__RUN_BUDGET;
    ready_push(t->loop, t);
    switch_away(t->loop, t);
    return t->wake_result;
}

int acr_checkpoint(int64_t deadline)
{
    acr_task *t;
    int rc = enter(&t, deadline);
    if (rc != 0)
        return rc;
    if (t->budget > 0) {
        t->budget--;
        return 0;
    }
    acr__requeue(t);
    return acr__cancel_pending(t) ? ACR_ECANCELED : 0;
}

int acr_yield(void)
{
    acr_task *t;
    int rc = enter(&t, ACR_FOREVER);
    if (rc != 0)
        return rc;
    acr__requeue(t);
    return acr__cancel_pending(t) ? ACR_ECANCELED : 0;
}

int acr_sleep_until(int64_t deadline)
{
    int rc = acr__park(deadline);
    return rc == ACR_ETIMEOUT ? 0 : rc;
}

int acr_sleep_for(int64_t ns)
{
    return acr_sleep_until(acr_deadline_in(ns));
}

/* Called by task.c when a task's body has returned: hands the stack to the
 * scheduler, which frees it (a context cannot free the stack it runs on). */
_Noreturn void acr__task_exit(acr_task *t)
{
    acr_loop *l = t->loop;
    l->dead = t;
    l->current = NULL;
    acr__ctx_swap_final(&t->ctx, &l->main_ctx);
}

/* ---- spawning support for task.c ---- */

int acr__loop_start_task(acr_loop *l, acr_task *t)
{
    int rc = acr__stack_get(&l->stacks, &t->stack);
    if (rc != 0)
        return rc;
    acr__ctx_make(&t->ctx, t->stack->lo, t->stack->size, acr__task_entry, t);
    t->loop = l;
    t->id = ++l->next_id;
    t->heap_idx = SIZE_MAX;
    t->budget = ACR__RUN_BUDGET;
    l->ntasks++;
    acr__list_push(&l->alive, &t->alink);
    ready_push(l, t);
    return 0;
}

/* ---- polling ---- */

static int64_t next_timeout_ns(acr_loop *l)
{
    if (l->nready > 0)
        return 0;
    acr_task *t = acr__heap_top(&l->timers);
    if (!t)
        return -1;
    int64_t d = t->deadline - acr_now();
    return d < 0 ? 0 : d;
}

static void fire_timers(acr_loop *l)
{
    int64_t now = acr_now();
    for (acr_task *t = acr__heap_top(&l->timers); t && t->deadline <= now; t = acr__heap_top(&l->timers))
        acr__wake(t, ACR_ETIMEOUT);
}

static int poll_once(acr_loop *l)
{
    int64_t ns = next_timeout_ns(l);
    if (ns < 0 && l->io_waiters == 0)
        return ACR_EDEADLOCK;
    if (ns != 0 && l->on_block) {
        l->on_block(l->on_block_arg);
        if (l->nready > 0)
            ns = 0; /* the hook woke a task: poll, do not block */
    }
    /* I/O first: an operation that completed in the same iteration its deadline
     * expired counts as completed. */
    int rc = acr__poll_wait(l, ns);
    if (rc != 0)
        return rc;
    fire_timers(l);
    return 0;
}

static void reap(acr_loop *l)
{
    acr_task *t = l->dead;
    if (!t)
        return;
    l->dead = NULL;
    acr__stack_put(&l->stacks, t->stack);
    t->stack = NULL;
    l->ntasks--;
    acr__list_remove(&t->alink);
    acr_task_unref(t); /* the runtime's reference */
}

int acr_loop_run(acr_loop *l)
{
    acr_loop *saved = cur_loop;
    cur_loop = l;
    acr__ctx_init_thread(&l->main_ctx);
    int rc = 0;
    while (l->ntasks > 0) {
        if (l->pass_left == 0 || l->nready == 0) {
            rc = poll_once(l);
            if (rc != 0)
                break;
            /* A pass runs every task ready now, and at least PASS_MIN switches,
             * so that tasks yielding to each other do not pay a poll each time. */
            l->pass_left = l->nready > PASS_MIN ? l->nready : PASS_MIN;
            continue;
        }
        acr_task *t = ready_pop(l);
        l->pass_left--;
        l->current = t;
        t->state = ACR_TASK_RUNNING;
        acr__ctx_swap(&l->main_ctx, &t->ctx);
        reap(l);
    }
    cur_loop = saved;
    return rc;
}

/* ---- loop lifecycle ---- */

acr_loop *acr_loop_new(const acr_loop_opts *opts)
{
    acr_loop_opts o = {0};
    if (opts)
        o = *opts;
    if (o.stack_size == 0)
        o.stack_size = ACR_DEFAULT_STACK;
    acr_loop *l = acr_calloc(1, sizeof *l);
    if (!l)
        return NULL;
    if (acr__poll_init(l) != 0) {
        free(l);
        return NULL;
    }
    acr__heap_init(&l->timers, timer_less, timer_moved);
    acr__list_init(&l->alive);
    acr__stack_pool_init(&l->stacks, o.stack_size, (acr__guard_mode)o.guard, o.paint_stacks);
    acr__overflow_install();
    cur_loop = l;
    return l;
}

void acr_loop_free(acr_loop *l)
{
    if (!l)
        return;
    /* Tasks that never finished (a deadlock, or a loop stopped early) are
     * dropped without running further; handles to them become invalid. */
    for (acr__list *n = acr__list_shift(&l->alive); n; n = acr__list_shift(&l->alive)) {
        acr_task *t = acr__container_of(n, acr_task, alink);
        acr__stack_put(&l->stacks, t->stack);
        acr__task_free(t);
    }
    acr__stack_pool_release(&l->stacks);
    acr__heap_release(&l->timers);
    acr__poll_release(l);
    if (cur_loop == l)
        cur_loop = NULL;
    free(l);
}

acr_loop *acr_loop_current(void) { return cur_loop; }

void acr_loop_on_block(acr_loop *l, void (*fn)(void *), void *arg)
{
    l->on_block = fn;
    l->on_block_arg = arg;
}

size_t acr_loop_stack_high_water(const acr_loop *l) { return l->stacks.high_water; }
size_t acr_loop_tasks(const acr_loop *l) { return l->ntasks; }
