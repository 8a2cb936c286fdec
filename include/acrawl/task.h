/* task.h -- tasks (stackful coroutines) as futures: spawn, join, cancel, wait on
 * several (asyncio.wait), wait_for, and groups yielding members as they complete. */
#ifndef ACRAWL_TASK_H
#define ACRAWL_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "acrawl/loop.h"

typedef struct acr_task acr_task;
/* A task body: returns 0 or a negative code; may leave a pointer with acr_task_set_result. */
typedef int acr_task_fn(void *arg);

typedef enum {
    ACR_TASK_PENDING,   /* spawned, has not run yet */
    ACR_TASK_RUNNING,   /* started (running, ready or suspended) */
    ACR_TASK_DONE,      /* returned */
    ACR_TASK_CANCELLED, /* was cancelled and returned ACR_ECANCELED */
} acr_task_state;

/* Spawns fn(arg) on loop (NULL: the current loop); it first runs when the
 * spawner next suspends. With out non-NULL the caller holds a reference and
 * must acr_task_unref it; with out NULL the task is detached.
 * 0, ACR_ENOSTACK, -ENOMEM, ACR_ENOTASK (no loop). */
int acr_spawn(acr_loop *loop, acr_task **out, acr_task_fn *fn, void *arg);

acr_task *acr_task_self(void);            /* NULL outside a task */
void acr_task_set_result(void *result);   /* on the calling task */
void acr_task_set_name(acr_task *t, const char *name); /* static string, for diagnostics */
const char *acr_task_name(const acr_task *t);
uint64_t acr_task_id(const acr_task *t);

acr_task_state acr_task_state_of(const acr_task *t);
int acr_task_done(const acr_task *t);     /* DONE or CANCELLED */
int acr_task_status(const acr_task *t);   /* the body's return value, once done */
void *acr_task_result(const acr_task *t);
void acr_task_ref(acr_task *t);
void acr_task_unref(acr_task *t);

/* Requests cancellation: t's current or next suspending call returns ACR_ECANCELED,
 * and so does every later one (cleanup must not need to suspend). Cancellation wins
 * over a deadline that expires in the same loop iteration. No-op on a finished task. */
void acr_task_cancel(acr_task *t);
/* True once the calling task has been asked to cancel. */
int acr_cancelled(void);
/* With on != 0, defers cancellation of the calling task: suspending calls behave
 * normally until the shield drops, after which they return ACR_ECANCELED. For
 * cleanup that must wait (joining cancelled helpers). Returns the previous state. */
int acr_shield(int on);

/* Waits until t finishes. 0 (its status in *status if non-NULL), ACR_ETIMEOUT,
 * ACR_ECANCELED (the caller was cancelled), ACR_EDEADLOCK (t is the caller),
 * ACR_ENOTASK. Cancels nothing. */
int acr_task_join(acr_task *t, int64_t deadline, int *status);
/* As join, but on expiry cancels t, waits for its cleanup and returns ACR_ETIMEOUT
 * (asyncio.wait_for). If the caller is cancelled, t is cancelled too. */
int acr_task_wait_for(acr_task *t, int64_t deadline, int *status);

typedef enum {
    ACR_FIRST_COMPLETED,
    ACR_FIRST_ERROR,     /* first task that ends with a non-zero status, or all */
    ACR_ALL_COMPLETED,
} acr_wait_mode;

/* asyncio.wait: suspends until mode is satisfied or deadline. On return tasks is
 * stably partitioned: tasks[0..*ndone) are done, the rest pending. Cancels nothing.
 * 0 (mode satisfied), ACR_ETIMEOUT, ACR_ECANCELED, -ENOMEM, ACR_ENOTASK. */
int acr_wait(acr_task **tasks, size_t n, acr_wait_mode mode, int64_t deadline, size_t *ndone);

/* ---- groups: as_completed ---- */

typedef struct acr_group acr_group;

acr_group *acr_group_new(void);          /* NULL on -ENOMEM */
/* Spawns into the group (the group holds a reference). out as in acr_spawn. */
int acr_group_spawn(acr_group *g, acr_task **out, acr_task_fn *fn, void *arg);
/* Next member in completion order; the caller owns a reference to *out.
 * 0, ACR_EEMPTY (no member left), ACR_ETIMEOUT, ACR_ECANCELED, ACR_ENOTASK. */
int acr_group_next(acr_group *g, int64_t deadline, acr_task **out);
/* Cancels every member still running. */
void acr_group_cancel(acr_group *g);
size_t acr_group_running(const acr_group *g);  /* members not yet finished */
size_t acr_group_ready(const acr_group *g);    /* finished, not yet taken by next */
/* Cancels members still running, detaches them and frees the group. No task may
 * be waiting in acr_group_next. */
void acr_group_free(acr_group *g);

#endif
