/* test_task.c -- tasks: spawn/join, cancellation, wait modes, wait_for, groups. */
#include <stdlib.h>

#include "helpers.h"

static int sleep_ms(void *arg)
{
    int ms = (int)(intptr_t)arg;
    int rc = acr_sleep_for(ms * ACR_MSEC);
    acr_task_set_result(arg);
    return rc == 0 ? ms : rc;
}

static int fail_after(void *arg)
{
    acr_sleep_for((int)(intptr_t)arg * ACR_MSEC);
    return -5;
}

static int spawn_join(void *arg)
{
    (void)arg;
    acr_task *t;
    cr_assert_eq(acr_spawn(NULL, &t, sleep_ms, (void *)10), 0);
    cr_assert_eq(acr_task_state_of(t), ACR_TASK_PENDING);
    int st = 0;
    cr_assert_eq(acr_task_join(t, ACR_FOREVER, &st), 0);
    cr_assert_eq(st, 10);
    cr_assert_eq(acr_task_result(t), (void *)10);
    cr_assert_eq(acr_task_state_of(t), ACR_TASK_DONE);
    acr_task_unref(t);
    return 0;
}

Test(task, spawn_and_join_returns_status_and_result) { cr_assert_eq(run_in_loop(spawn_join, NULL), 0); }

static int join_deadline(void *arg)
{
    (void)arg;
    acr_task *t;
    acr_spawn(NULL, &t, sleep_ms, (void *)50);
    int rc = acr_task_join(t, acr_deadline_in(10 * ACR_MSEC), NULL);
    cr_assert_eq(rc, ACR_ETIMEOUT);
    cr_assert_not(acr_task_done(t), "join must not cancel");
    cr_assert_eq(acr_task_join(t, ACR_FOREVER, NULL), 0);
    cr_assert_eq(acr_task_status(t), 50);
    acr_task_unref(t);
    return 0;
}

Test(task, join_with_deadline_times_out_without_cancelling) { cr_assert_eq(run_in_loop(join_deadline, NULL), 0); }

static int wait_for_case(void *arg)
{
    (void)arg;
    acr_task *t;
    acr_spawn(NULL, &t, sleep_ms, (void *)1000);
    int64_t t0 = acr_now();
    int st = 0;
    cr_assert_eq(acr_task_wait_for(t, acr_deadline_in(20 * ACR_MSEC), &st), ACR_ETIMEOUT);
    cr_assert(ms_since(t0) < 500);
    cr_assert_eq(acr_task_state_of(t), ACR_TASK_CANCELLED);
    cr_assert_eq(st, ACR_ECANCELED);
    acr_task_unref(t);
    return 0;
}

Test(task, wait_for_cancels_on_expiry) { cr_assert_eq(run_in_loop(wait_for_case, NULL), 0); }

static int cancel_sleep(void *arg)
{
    (void)arg;
    acr_task *t;
    acr_spawn(NULL, &t, sleep_ms, (void *)10000);
    acr_sleep_for(5 * ACR_MSEC);
    acr_task_cancel(t);
    int st;
    acr_task_join(t, ACR_FOREVER, &st);
    cr_assert_eq(st, ACR_ECANCELED);
    cr_assert_eq(acr_task_state_of(t), ACR_TASK_CANCELLED);
    acr_task_cancel(t); /* finished: no-op */
    cr_assert_eq(acr_task_state_of(t), ACR_TASK_CANCELLED);
    acr_task_unref(t);
    return 0;
}

Test(task, cancel_while_sleeping) { cr_assert_eq(run_in_loop(cancel_sleep, NULL), 0); }

static int body_runs_cleanup(void *arg)
{
    int *cleaned = arg;
    int rc = acr_sleep_for(ACR_SEC);
    int rc2 = acr_yield(); /* cancellation is sticky */
    *cleaned = 1;
    return rc == ACR_ECANCELED && rc2 == ACR_ECANCELED ? ACR_ECANCELED : 0;
}

static int cancel_before_start(void *arg)
{
    int *cleaned = arg;
    acr_task *t;
    acr_spawn(NULL, &t, body_runs_cleanup, cleaned);
    acr_task_cancel(t); /* still PENDING */
    acr_task_join(t, ACR_FOREVER, NULL);
    cr_assert_eq(acr_task_state_of(t), ACR_TASK_CANCELLED);
    acr_task_unref(t);
    return 0;
}

Test(task, cancelled_pending_task_still_runs_its_cleanup)
{
    int cleaned = 0;
    run_in_loop(cancel_before_start, &cleaned);
    cr_assert_eq(cleaned, 1);
}

/* Cancel wins over a deadline that expires in the same tick: the canceller's timer
 * has the same deadline and an earlier seq, so it runs first in the pass. */
struct tick {
    int64_t deadline;
    acr_task *victim;
};

static int victim(void *arg)
{
    struct tick *tk = arg;
    return acr_sleep_until(tk->deadline) == 0 ? ACR_ETIMEOUT : ACR_ECANCELED;
}

static int canceller(void *arg)
{
    struct tick *tk = arg;
    acr_sleep_until(tk->deadline);
    acr_task_cancel(tk->victim);
    return 0;
}

static int cancel_same_tick(void *arg)
{
    (void)arg;
    struct tick tk = {.deadline = acr_deadline_in(10 * ACR_MSEC)};
    acr_spawn(NULL, NULL, canceller, &tk);
    acr_spawn(NULL, &tk.victim, victim, &tk);
    int st;
    acr_task_join(tk.victim, ACR_FOREVER, &st);
    acr_task_unref(tk.victim);
    return st;
}

Test(task, cancel_wins_over_deadline_in_same_tick)
{
    cr_assert_eq(run_in_loop(cancel_same_tick, NULL), ACR_ECANCELED);
}

static int spawn_many(void *arg)
{
    size_t n = (size_t)arg;
    acr_task **ts = calloc(n, sizeof *ts);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(acr_spawn(NULL, &ts[i], sleep_ms, (void *)(intptr_t)(i % 5)), 0);
    long sum = 0;
    for (size_t i = 0; i < n; i++) {
        int st;
        cr_assert_eq(acr_task_join(ts[i], ACR_FOREVER, &st), 0);
        sum += st;
        acr_task_unref(ts[i]);
    }
    free(ts);
    long want = 0;
    for (size_t i = 0; i < n; i++)
        want += (long)(i % 5);
    cr_assert_eq(sum, want);
    return 0;
}

Test(task, ten_thousand_tasks_spawned_and_joined)
{
    cr_assert_eq(run_in_loop(spawn_many, (void *)10000), 0);
}

/* ---- wait ---- */

static int wait_first_completed_same_tick(void *arg)
{
    (void)arg;
    acr_task *ts[4];
    acr_spawn(NULL, &ts[0], sleep_ms, (void *)500);
    for (int i = 1; i < 4; i++)
        acr_spawn(NULL, &ts[i], sleep_ms, (void *)5);
    /* Three finish in the same iteration; all three are reported done. */
    size_t nd;
    cr_assert_eq(acr_wait(ts, 4, ACR_FIRST_COMPLETED, ACR_FOREVER, &nd), 0);
    cr_assert_eq(nd, 3);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(acr_task_status(ts[i]), 5);
    cr_assert_eq(acr_task_result(ts[3]), NULL, "the slow one is partitioned last and pending");
    cr_assert_not(acr_task_done(ts[3]));
    acr_task_cancel(ts[3]);
    for (int i = 0; i < 4; i++) {
        acr_task_join(ts[i], ACR_FOREVER, NULL);
        acr_task_unref(ts[i]);
    }
    return 0;
}

Test(task, first_completed_reports_all_done_in_that_iteration)
{
    cr_assert_eq(run_in_loop(wait_first_completed_same_tick, NULL), 0);
}

static int wait_modes(void *arg)
{
    (void)arg;
    acr_task *ts[3];
    acr_spawn(NULL, &ts[0], sleep_ms, (void *)30);
    acr_spawn(NULL, &ts[1], fail_after, (void *)10);
    acr_spawn(NULL, &ts[2], sleep_ms, (void *)20);
    size_t nd;
    int64_t t0 = acr_now();
    cr_assert_eq(acr_wait(ts, 3, ACR_FIRST_ERROR, ACR_FOREVER, &nd), 0);
    cr_assert_eq(nd, 1);
    cr_assert_eq(acr_task_status(ts[0]), -5);
    cr_assert(ms_since(t0) < 25);
    cr_assert_eq(acr_wait(ts, 3, ACR_ALL_COMPLETED, acr_deadline_in(5 * ACR_MSEC), &nd), ACR_ETIMEOUT);
    cr_assert_eq(nd, 1);
    cr_assert_eq(acr_wait(ts, 3, ACR_ALL_COMPLETED, ACR_FOREVER, &nd), 0);
    cr_assert_eq(nd, 3);
    for (int i = 0; i < 3; i++)
        acr_task_unref(ts[i]);
    return 0;
}

Test(task, wait_first_error_then_timeout_then_all) { cr_assert_eq(run_in_loop(wait_modes, NULL), 0); }

/* ---- groups ---- */

static int as_completed(void *arg)
{
    (void)arg;
    acr_group *g = acr_group_new();
    int delays[] = {40, 10, 30, 0, 20};
    for (int i = 0; i < 5; i++)
        cr_assert_eq(acr_group_spawn(g, NULL, sleep_ms, (void *)(intptr_t)delays[i]), 0);
    int prev = -1;
    for (int i = 0; i < 5; i++) {
        acr_task *t;
        cr_assert_eq(acr_group_next(g, ACR_FOREVER, &t), 0);
        int st = acr_task_status(t);
        cr_assert_eq(st, i * 10, "completion %d had status %d", i, st);
        cr_assert_gt(st, prev);
        prev = st;
        acr_task_unref(t);
    }
    acr_task *t;
    cr_assert_eq(acr_group_next(g, ACR_FOREVER, &t), ACR_EEMPTY);
    acr_group_free(g);
    return 0;
}

Test(task, group_next_yields_in_completion_order) { cr_assert_eq(run_in_loop(as_completed, NULL), 0); }

static int group_cancel(void *arg)
{
    (void)arg;
    acr_group *g = acr_group_new();
    acr_group_spawn(g, NULL, sleep_ms, (void *)5);
    for (int i = 0; i < 3; i++)
        acr_group_spawn(g, NULL, sleep_ms, (void *)10000);
    acr_task *t;
    cr_assert_eq(acr_group_next(g, acr_deadline_in(ACR_SEC), &t), 0);
    cr_assert_eq(acr_task_status(t), 5);
    acr_task_unref(t);
    cr_assert_eq(acr_group_next(g, acr_deadline_in(5 * ACR_MSEC), &t), ACR_ETIMEOUT);
    int64_t t0 = acr_now();
    acr_group_cancel(g);
    int n = 0;
    while (acr_group_next(g, ACR_FOREVER, &t) == 0) {
        cr_assert_eq(acr_task_state_of(t), ACR_TASK_CANCELLED);
        acr_task_unref(t);
        n++;
    }
    cr_assert_eq(n, 3);
    cr_assert(ms_since(t0) < 100);
    acr_group_free(g);
    return 0;
}

Test(task, group_cancel_cancels_every_running_member) { cr_assert_eq(run_in_loop(group_cancel, NULL), 0); }

static int shielded_sleeper(void *arg)
{
    (void)arg;
    acr_shield(1);
    int rc1 = acr_sleep_for(20 * ACR_MSEC); /* runs to the end despite the cancel */
    acr_shield(0);
    int rc2 = acr_sleep_for(ACR_SEC);       /* the deferred cancel lands here */
    return rc1 == 0 && rc2 == ACR_ECANCELED ? 0 : -1;
}

static int shield_case(void *arg)
{
    (void)arg;
    acr_task *t;
    acr_spawn(NULL, &t, shielded_sleeper, NULL);
    acr_sleep_for(5 * ACR_MSEC);
    int64_t t0 = acr_now();
    acr_task_cancel(t);
    int st;
    acr_task_join(t, ACR_FOREVER, &st);
    cr_assert(ms_since(t0) >= 10 && ms_since(t0) < 500);
    acr_task_unref(t);
    return st;
}

Test(task, shield_defers_cancellation) { cr_assert_eq(run_in_loop(shield_case, NULL), 0); }
