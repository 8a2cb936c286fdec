/* test_sync.c -- semaphore (limit, FIFO, deadline, cancel) and channel (hand-off, close). */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

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
    cr_assert_eq(acr_sem_try_acquire(s), -EAGAIN);
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

/* ---- a hand-off racing a cancel or a deadline (issue 7's crashes) ----
 * A task woken by a cancel or its deadline sits in the ready queue until it runs.
 * A peer that serves it in that window (takes its item, gives it an item or a
 * permit) must win: the woken task returns 0, and the item has one owner. */

struct race {
    acr_chan *ch;
    acr_sem *sem;
    int item, got_item;
    void *received;
    int rc;
};

static int race_sender(void *arg)
{
    struct race *r = arg;
    r->rc = acr_chan_send(r->ch, &r->item, ACR_FOREVER);
    return 0;
}

static int cancelled_sender_whose_item_was_taken(void *arg)
{
    struct race *r = arg;
    r->ch = acr_chan_new(1);
    int first = 1;
    cr_assert_eq(acr_chan_send(r->ch, &first, ACR_FOREVER), 0); /* full now */
    acr_task *s;
    acr_spawn(NULL, &s, race_sender, r);
    acr_yield(); /* the sender parks on the full channel */
    acr_task_cancel(s); /* woken with ECANCELED, still in the ready queue */
    void *p;
    cr_assert_eq(acr_chan_recv(r->ch, &p, ACR_FOREVER), 0);
    cr_assert_eq(p, &first);
    /* That recv moved the sender's item into the buffer: the send succeeded. */
    cr_assert_eq(acr_chan_len(r->ch), 1);
    acr_task_join(s, ACR_FOREVER, NULL);
    acr_task_unref(s);
    cr_assert_eq(r->rc, 0, "the sender's item was taken, yet its send said %d (%s)", r->rc,
                 acr_strerror(r->rc));
    cr_assert_eq(acr_chan_recv(r->ch, &p, ACR_FOREVER), 0);
    cr_assert_eq(p, &r->item);
    acr_chan_free(r->ch);
    return 0;
}

Test(sync, a_cancelled_sender_whose_item_was_taken_sees_success)
{
    struct race r = {0};
    run_in_loop(cancelled_sender_whose_item_was_taken, &r);
}

static int race_receiver(void *arg)
{
    struct race *r = arg;
    r->rc = acr_chan_recv(r->ch, &r->received, ACR_FOREVER);
    return 0;
}

static int cancelled_receiver_that_was_given_an_item(void *arg)
{
    struct race *r = arg;
    r->ch = acr_chan_new(4);
    acr_task *t;
    acr_spawn(NULL, &t, race_receiver, r);
    acr_yield(); /* parks on the empty channel */
    acr_task_cancel(t);
    cr_assert_eq(acr_chan_send(r->ch, &r->item, ACR_FOREVER), 0);
    acr_task_join(t, ACR_FOREVER, NULL);
    acr_task_unref(t);
    /* The item went to the receiver, not into the buffer: the receiver must have it. */
    cr_assert_eq(acr_chan_len(r->ch), 0);
    cr_assert_eq(r->rc, 0, "the item was handed over, yet recv said %d (%s)", r->rc, acr_strerror(r->rc));
    cr_assert_eq(r->received, &r->item);
    acr_chan_free(r->ch);
    return 0;
}

Test(sync, a_cancelled_receiver_that_was_handed_an_item_gets_it)
{
    struct race r = {0};
    run_in_loop(cancelled_receiver_that_was_given_an_item, &r);
}

static int race_acquirer(void *arg)
{
    struct race *r = arg;
    r->rc = acr_sem_acquire(r->sem, acr_deadline_in(5 * ACR_MSEC));
    if (r->rc == 0)
        acr_sem_release(r->sem);
    return 0;
}

static int late_releaser(void *arg)
{
    struct race *r = arg;
    acr_sleep_for(2 * ACR_MSEC); /* expires just before the acquirer's 5 ms */
    acr_sem_release(r->sem);
    return 0;
}

static int timed_out_waiter_given_the_permit(void *arg)
{
    struct race *r = arg;
    r->sem = acr_sem_new(1);
    cr_assert_eq(acr_sem_acquire(r->sem, ACR_FOREVER), 0);
    acr_task *t, *rel;
    acr_spawn(NULL, &t, race_acquirer, r);
    acr_spawn(NULL, &rel, late_releaser, r);
    acr_yield(); /* both park: the acquirer with a 5 ms deadline, the releaser for 2 ms */
    /* Hold the loop past both deadlines: one poll then queues the releaser (earlier
     * deadline) and, behind it, the acquirer woken with ETIMEOUT. The releaser runs
     * first and hands its permit to the acquirer, already woken. */
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    acr_task_join(t, ACR_FOREVER, NULL);
    acr_task_join(rel, ACR_FOREVER, NULL);
    acr_task_unref(t);
    acr_task_unref(rel);
    cr_assert_eq(r->rc, 0, "the permit was handed over, yet acquire said %d (%s)", r->rc, acr_strerror(r->rc));
    cr_assert_eq(acr_sem_available(r->sem), 1, "a permit was lost");
    acr_sem_free(r->sem);
    return 0;
}

Test(sync, a_timed_out_waiter_handed_the_permit_keeps_it_and_none_is_lost)
{
    struct race r = {0};
    run_in_loop(timed_out_waiter_given_the_permit, &r);
}
