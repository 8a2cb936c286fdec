/* smoke.c -- the runtime on its own (libc only), for other architectures and the
 * ucontext fallback: register preservation across switches (integer and floating
 * point callee-saved), ping-pong, spawn/join, timers, cancellation, groups, semaphore.
 * Prints "N passed, M failed". */
#include <stdio.h>
#include <string.h>

#include "acrawl/error.h"
#include "acrawl/loop.h"
#include "acrawl/sync.h"
#include "acrawl/task.h"

static int passed, failed;

#define CHECK(cond, what)                                                                               \
    do {                                                                                                \
        if (cond) {                                                                                     \
            passed++;                                                                                   \
        } else {                                                                                        \
            failed++;                                                                                   \
            fprintf(stderr, "FAIL: %s (%s:%d)\n", what, __FILE__, __LINE__);                            \
        }                                                                                               \
    } while (0)

/* Many values live across yields: the compiler keeps them in callee-saved registers,
 * integer and floating point, which the switch must preserve. */
static int busy(void *arg)
{
    long seed = (long)(intptr_t)arg;
    volatile long sink = 0;
    long a = seed, b = seed * 3, c = seed * 5, d = seed * 7, e = seed * 11, f = seed * 13;
    double x = (double)seed, y = x * 0.5, z = x * 0.25, w = x * 0.125, v = x * 2.0, u = x * 4.0, t = x * 8.0,
           s = x * 16.0;
    for (int i = 0; i < 1000; i++) {
        acr_yield();
        a += 1, b += 2, c += 3, d += 4, e += 5, f += 6;
        x += 1.0, y += 0.5, z += 0.25, w += 0.125, v += 2.0, u += 4.0, t += 8.0, s += 16.0;
        sink = a;
    }
    (void)sink;
    long want = seed * 40 + 21000;
    double dwant = (double)seed * 31.875 + 31875.0;
    bool ok = a + b + c + d + e + f == want && x + y + z + w + v + u + t + s == dwant;
    return ok ? 0 : -1;
}

static int empty(void *arg)
{
    (void)arg;
    return 7;
}

static int sleeper(void *arg)
{
    return acr_sleep_for((int64_t)(intptr_t)arg * ACR_MSEC);
}

static int main_task(void *arg)
{
    (void)arg;
    acr_task *ts[8];
    for (long i = 0; i < 8; i++)
        acr_spawn(NULL, &ts[i], busy, (void *)(intptr_t)(i + 1));
    for (int i = 0; i < 8; i++) {
        int st = -99;
        acr_task_join(ts[i], ACR_FOREVER, &st);
        CHECK(st == 0, "callee-saved registers survive 1000 switches");
        acr_task_unref(ts[i]);
    }

    int ok = 0;
    for (int i = 0; i < 10000; i++) {
        acr_task *t;
        int st = 0;
        acr_spawn(NULL, &t, empty, NULL);
        acr_task_join(t, ACR_FOREVER, &st);
        ok += st == 7;
        acr_task_unref(t);
    }
    CHECK(ok == 10000, "10 000 spawn+join");

    int64_t t0 = acr_now();
    acr_sleep_for(20 * ACR_MSEC);
    int64_t el = (acr_now() - t0) / ACR_MSEC;
    CHECK(el >= 20 && el < 500, "sleep 20 ms");

    acr_task *s;
    acr_spawn(NULL, &s, sleeper, (void *)10000);
    acr_sleep_for(ACR_MSEC);
    acr_task_cancel(s);
    int st = 0;
    acr_task_join(s, ACR_FOREVER, &st);
    CHECK(st == ACR_ECANCELED && acr_task_state_of(s) == ACR_TASK_CANCELLED, "cancel a sleeping task");
    acr_task_unref(s);

    acr_group *g = acr_group_new();
    int delays[] = {30, 10, 20};
    for (int i = 0; i < 3; i++)
        acr_group_spawn(g, NULL, sleeper, (void *)(intptr_t)delays[i]);
    int order[3], n = 0;
    acr_task *t;
    while (acr_group_next(g, ACR_FOREVER, &t) == 0) {
        order[n++] = (int)acr_task_id(t);
        acr_task_unref(t);
    }
    acr_group_free(g);
    CHECK(n == 3 && order[0] == order[2] + 1 && order[1] == order[2] + 2, "as_completed order (10, 20, 30 ms)");

    acr_sem *sem = acr_sem_new(1);
    CHECK(acr_sem_acquire(sem, ACR_FOREVER) == 0, "semaphore acquire");
    CHECK(acr_sem_acquire(sem, acr_deadline_in(5 * ACR_MSEC)) == ACR_ETIMEOUT, "semaphore deadline");
    acr_sem_release(sem);
    acr_sem_free(sem);
    return 0;
}

int main(void)
{
    acr_loop *l = acr_loop_new(NULL);
    acr_spawn(l, NULL, main_task, NULL);
    CHECK(acr_loop_run(l) == 0, "loop ran to completion");
    acr_loop_free(l);
    printf("smoke: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
