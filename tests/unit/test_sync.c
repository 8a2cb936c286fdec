/* test_sync.c -- semaphore (limit, FIFO, deadline, cancel) and channel (hand-off, close). */
#include <stdlib.h>

#include "acrawl/sync.h"
#include "helpers.h"

struct semcase {
    acr_sem *sem;
    int inside, max_inside;
    int order[64];
    int norder;
};

struct worker {
    struct semcase *sc;
    int id;
};

static int sem_worker(void *arg)
{
    struct worker *w = arg;
    struct semcase *sc = w->sc;
    int rc = acr_sem_acquire(sc->sem, ACR_FOREVER);
    if (rc != 0)
        return rc;
    sc->order[sc->norder++] = w->id;
    sc->inside++;
    if (sc->inside > sc->max_inside)
        sc->max_inside = sc->inside;
    acr_sleep_for((w->id % 3) * ACR_MSEC);
    sc->inside--;
    acr_sem_release(sc->sem);
    return 0;
}

static int sem_limit(void *arg)
{
    struct semcase *sc = arg;
    sc->sem = acr_sem_new(4);
    struct worker ws[64];
    acr_task *ts[64];
    for (int i = 0; i < 64; i++) {
        ws[i] = (struct worker){sc, i};
        acr_spawn(NULL, &ts[i], sem_worker, &ws[i]);
    }
    acr_wait(ts, 64, ACR_ALL_COMPLETED, ACR_FOREVER, NULL);
    for (int i = 0; i < 64; i++)
        acr_task_unref(ts[i]);
    cr_assert_eq(acr_sem_available(sc->sem), 4);
    acr_sem_free(sc->sem);
    return 0;
}

Test(sync, semaphore_never_exceeds_limit_and_is_fifo)
{
    struct semcase sc = {0};
    run_in_loop(sem_limit, &sc);
    cr_assert_eq(sc.max_inside, 4);
    cr_assert_eq(sc.norder, 64);
    for (int i = 0; i < 64; i++)
        cr_assert_eq(sc.order[i], i, "acquired out of order at %d", i);
}

static int holder(void *arg)
{
    acr_sem *s = arg;
    acr_sem_acquire(s, ACR_FOREVER);
    acr_sleep_for(30 * ACR_MSEC);
    acr_sem_release(s);
    return 0;
}

static int acquirer(void *arg)
{
    return acr_sem_acquire(arg, ACR_FOREVER);
}

static int sem_deadline_cancel(void *arg)
{
    (void)arg;
    acr_sem *s = acr_sem_new(1);
    acr_spawn(NULL, NULL, holder, s);
    acr_yield();
    cr_assert_eq(acr_sem_try_acquire(s), ACR_ETIMEOUT);
    cr_assert_eq(acr_sem_acquire(s, acr_deadline_in(5 * ACR_MSEC)), ACR_ETIMEOUT);
    acr_task *a, *b;
    acr_spawn(NULL, &a, acquirer, s);
    acr_spawn(NULL, &b, acquirer, s);
    acr_sleep_for(ACR_MSEC);
    acr_task_cancel(a); /* a leaves the queue; b must still get the permit */
    int sa, sb;
    acr_task_join(a, ACR_FOREVER, &sa);
    acr_task_join(b, ACR_FOREVER, &sb);
    cr_assert_eq(sa, ACR_ECANCELED);
    cr_assert_eq(sb, 0);
    cr_assert_eq(acr_sem_available(s), 0);
    acr_sem_release(s);
    acr_task_unref(a);
    acr_task_unref(b);
    acr_sem_free(s);
    return 0;
}

Test(sync, semaphore_deadline_and_cancel_leave_the_queue)
{
    cr_assert_eq(run_in_loop(sem_deadline_cancel, NULL), 0);
}

/* ---- channel ---- */

struct chcase {
    acr_chan *ch;
    long sum;
    int received;
};

static int producer(void *arg)
{
    struct chcase *c = arg;
    for (intptr_t i = 1; i <= 1000; i++) {
        int rc = acr_chan_send(c->ch, (void *)i, ACR_FOREVER);
        cr_assert_eq(rc, 0);
        cr_assert_leq(acr_chan_len(c->ch), 8);
    }
    acr_chan_close(c->ch);
    return 0;
}

static int consumer(void *arg)
{
    struct chcase *c = arg;
    void *item;
    int rc;
    intptr_t last = 0;
    while ((rc = acr_chan_recv(c->ch, &item, ACR_FOREVER)) == 0) {
        cr_assert_gt((intptr_t)item, last, "FIFO order");
        last = (intptr_t)item;
        c->sum += (intptr_t)item;
        c->received++;
    }
    return rc;
}

static int chan_pipeline(void *arg)
{
    struct chcase *c = arg;
    c->ch = acr_chan_new((size_t)(intptr_t)c->ch);
    acr_task *p, *q;
    acr_spawn(NULL, &q, consumer, c);
    acr_spawn(NULL, &p, producer, c);
    int sq;
    acr_task_join(q, ACR_FOREVER, &sq);
    acr_task_join(p, ACR_FOREVER, NULL);
    cr_assert_eq(sq, ACR_ECLOSED);
    acr_task_unref(p);
    acr_task_unref(q);
    acr_chan_free(c->ch);
    return 0;
}

Test(sync, channel_streams_in_order_then_closes)
{
    struct chcase c = {.ch = (acr_chan *)(intptr_t)8};
    run_in_loop(chan_pipeline, &c);
    cr_assert_eq(c.received, 1000);
    cr_assert_eq(c.sum, 500500);
}

Test(sync, unbuffered_channel_hands_off)
{
    struct chcase c = {.ch = (acr_chan *)(intptr_t)0};
    run_in_loop(chan_pipeline, &c);
    cr_assert_eq(c.received, 1000);
}

static int recv_one(void *arg)
{
    void *item;
    return acr_chan_recv(arg, &item, ACR_FOREVER);
}

static int send_one(void *arg)
{
    return acr_chan_send(arg, (void *)1, ACR_FOREVER);
}

static int chan_close_wakes(void *arg)
{
    (void)arg;
    acr_chan *in = acr_chan_new(1), *out = acr_chan_new(1);
    acr_task *ts[6];
    for (int i = 0; i < 3; i++)
        acr_spawn(NULL, &ts[i], recv_one, in);
    acr_chan_send(out, (void *)1, ACR_FOREVER); /* fill it */
    for (int i = 3; i < 6; i++)
        acr_spawn(NULL, &ts[i], send_one, out);
    acr_sleep_for(ACR_MSEC);
    acr_chan_close(in);
    acr_chan_close(out);
    acr_wait(ts, 6, ACR_ALL_COMPLETED, acr_deadline_in(ACR_SEC), NULL);
    for (int i = 0; i < 6; i++) {
        cr_assert(acr_task_done(ts[i]));
        cr_assert_eq(acr_task_status(ts[i]), ACR_ECLOSED);
        acr_task_unref(ts[i]);
    }
    void *item;
    cr_assert_eq(acr_chan_recv(out, &item, ACR_FOREVER), 0, "queued items survive close");
    cr_assert_eq(acr_chan_recv(out, &item, ACR_FOREVER), ACR_ECLOSED);
    cr_assert_eq(acr_chan_send(out, item, ACR_FOREVER), ACR_ECLOSED);
    acr_chan_free(in);
    acr_chan_free(out);
    return 0;
}

Test(sync, channel_close_wakes_every_waiter) { cr_assert_eq(run_in_loop(chan_close_wakes, NULL), 0); }

static int chan_cancel(void *arg)
{
    (void)arg;
    acr_chan *ch = acr_chan_new(1);
    acr_task *r;
    acr_spawn(NULL, &r, recv_one, ch);
    acr_sleep_for(ACR_MSEC);
    acr_task_cancel(r);
    int st;
    acr_task_join(r, ACR_FOREVER, &st);
    acr_task_unref(r);
    /* The cancelled receiver left the queue: a send is buffered, not handed to it. */
    acr_chan_send(ch, (void *)7, ACR_FOREVER);
    cr_assert_eq(acr_chan_len(ch), 1);
    acr_chan_free(ch);
    return st;
}

Test(sync, cancel_while_parked_on_channel) { cr_assert_eq(run_in_loop(chan_cancel, NULL), ACR_ECANCELED); }

static int cond_waiter(void *arg)
{
    return acr_cond_wait(arg, acr_deadline_in(ACR_SEC));
}

static int cond_case(void *arg)
{
    (void)arg;
    acr_cond *c = acr_cond_new();
    acr_task *ts[3];
    for (int i = 0; i < 3; i++)
        acr_spawn(NULL, &ts[i], cond_waiter, c);
    acr_yield();
    acr_cond_signal(c);
    acr_yield();
    cr_assert(acr_task_done(ts[0]));
    cr_assert_not(acr_task_done(ts[1]));
    acr_cond_broadcast(c);
    acr_wait(ts, 3, ACR_ALL_COMPLETED, ACR_FOREVER, NULL);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(acr_task_status(ts[i]), 0);
        acr_task_unref(ts[i]);
    }
    cr_assert_eq(acr_cond_wait(c, acr_deadline_in(ACR_MSEC)), ACR_ETIMEOUT);
    acr_cond_free(c);
    return 0;
}

Test(sync, cond_signal_and_broadcast) { cr_assert_eq(run_in_loop(cond_case, NULL), 0); }
