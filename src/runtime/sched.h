/* sched.h -- private: the loop and task structures and the park/wake primitive
 * every suspending call in the runtime is built on. */
#ifndef ACR_RUNTIME_SCHED_H
#define ACR_RUNTIME_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include "acrawl/loop.h"
#include "acrawl/task.h"
#include "check.h"
#include "coro.h"
#include "list.h"
#include "util/heap.h"

struct acr_task {
    acr__ctx ctx;
    acr__stack *stack;
    acr_loop *loop;
    acr_task_fn *fn;
    void *arg;
    void *result;
    int status;
    acr_task_state state;
    bool parked;            /* suspended in acr__park */
    bool queued;            /* in the ready queue */
    bool cancel_requested;
    bool shielded;          /* cancellation deferred (acr_shield) */
    int wake_result;        /* what acr__park returns */
    size_t heap_idx;        /* position in the loop's timers, or SIZE_MAX */
    int64_t deadline;
    uint64_t seq;           /* tie-break for equal deadlines: earlier first */
    acr_task *rnext;        /* ready queue (singly linked FIFO) */
    /* Wait queues (sem, chan, cond, group). A task is linked on at most one. A
     * peer that serves it (hands it a permit, an item, a slot, a signal or a close)
     * takes it off the queue and sets wserved and wcode in the same step; the
     * hand-off stands even when a deadline or a cancel woke the task first and it
     * has not run yet: wcode, not the park's result, is what it returns. So a
     * linked task is never served, and a served one is never linked. */
    acr__list wlink;
    bool wserved;
    int wcode;
    void *witem;            /* channel hand-off slot */
    unsigned budget;        /* checkpoints left before it must yield (acr_checkpoint) */
    acr__list joiners;      /* acr__joiner nodes of tasks waiting for this one */
    struct acr_group *group;
    acr__list glink;        /* group's running or done list */
    acr__list alink;        /* loop's list of live tasks */
    unsigned refs;
    uint64_t id;
    const char *name;
};

/* A task waiting for another to finish (join, wait): one node per awaited task. */
typedef struct acr__joiner {
    acr__list link;
    acr_task *waiter;
} acr__joiner;

struct acr_loop {
    acr__ctx main_ctx;      /* the thread's own stack: runs the scheduler */
    acr_task *current;
    acr_task *ready_head, *ready_tail;
    size_t nready;
    size_t pass_left;       /* tasks still to run before polling again */
    acr__heap timers;       /* parked tasks with a deadline, by (deadline, seq) */
    uint64_t seq;
    uint64_t next_id;
    int pollfd;             /* poll_epoll.c */
    size_t ntasks;          /* spawned, not finished */
    acr__list alive;        /* those tasks, to free them if the loop is abandoned */
    size_t io_waiters;      /* tasks parked on a descriptor */
    acr_task *dead;         /* finished task whose stack the scheduler frees */
    acr__stack_pool stacks;
    void (*on_block)(void *);
    void *on_block_arg;
};

/* A cancel was asked for and no shield defers it: suspending calls must refuse. */
static inline bool acr__cancel_pending(const acr_task *t) { return t->cancel_requested && !t->shielded; }

/* Suspends the current task until acr__wake, its deadline (ACR_ETIMEOUT) or
 * cancellation (ACR_ECANCELED). Returns at once with ACR_ECANCELED if a cancel is
 * pending. Callers remove themselves from any wait queue when it returns non-zero. */
int acr__park(int64_t deadline);
/* Makes a parked task ready with `result` as acr__park's return. False (no-op)
 * when t is not parked. */
bool acr__wake(acr_task *t, int result);
/* Takes the first task off wait queue q and serves it with result (see wlink).
 * NULL when q is empty. */
acr_task *acr__serve_first(acr__list *q, int result);
/* Parks the current task on wait queue q until a peer serves it (returns the
 * served code), its deadline or a cancel. Off the queue on return, always. */
int acr__park_on(acr__list *q, int64_t deadline);
/* The running task, or NULL (and *err = ACR_ENOTASK) outside tasks. */
acr_task *acr__self(void);

/* Checkpoints (and immediately satisfied io waits) a task may pass before it must
 * let the others run: a peer that always has data ready cannot hold the loop. */
#define ACR__RUN_BUDGET 64
/* Puts the running task at the back of the ready queue and switches away. Returns
 * what a waker left meanwhile (ACR_ECLOSED from an io closed under it), else 0. */
int acr__requeue(acr_task *t);
/* overflow.c: reports a task's stack overflow on SIGSEGV (once per process). */
void acr__overflow_install(void);

/* task.c hooks for loop.c */
void acr__task_entry(void *arg);
void acr__task_free(acr_task *t);
/* loop.c hooks for task.c: queue a new task (its stack taken from the pool), and
 * leave a finished one for the scheduler to free. */
int acr__loop_start_task(acr_loop *l, acr_task *t);
_Noreturn void acr__task_exit(acr_task *t);

#endif
