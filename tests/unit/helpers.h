/* helpers.h -- test helpers: run a function as the only top-level task of a fresh loop. */
#ifndef ACR_TEST_HELPERS_H
#define ACR_TEST_HELPERS_H

#include <criterion/criterion.h>

#include "acrawl/error.h"
#include "acrawl/loop.h"
#include "acrawl/task.h"

/* Runs fn(arg) in a task on a new loop until every task has finished; returns fn's status. */
static inline int run_in_loop(acr_task_fn *fn, void *arg)
{
    acr_loop *l = acr_loop_new(NULL);
    cr_assert_not_null(l);
    acr_task *t;
    cr_assert_eq(acr_spawn(l, &t, fn, arg), 0);
    int rc = acr_loop_run(l);
    cr_assert_eq(rc, 0, "loop ended with %d (%s)", rc, acr_strerror(rc));
    cr_assert(acr_task_done(t));
    int status = acr_task_status(t);
    acr_task_unref(t);
    acr_loop_free(l);
    return status;
}

static inline int64_t ms_since(int64_t t0) { return (acr_now() - t0) / ACR_MSEC; }

#endif
