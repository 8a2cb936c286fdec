/* sync.c -- FIFO semaphore and bounded channel. Both hand over directly to the
 * first waiter (a permit, an item, a free slot), so arrival order is service order. */
#include <errno.h>
#include <stdlib.h>

#include "acrawl/error.h"
#include "acrawl/sync.h"
#include "sched.h"
#include "util/alloc.h"

struct acr_sem {
    long permits;
    acr__list waiters;
};

struct acr_chan {
    void **buf;
    size_t cap, head, len;
    bool closed;
    acr__list senders;      /* parked senders, item in task->witem */
    acr__list receivers;    /* parked receivers, item delivered into task->witem */
};

acr_task *acr__serve_first(acr__list *q, int result)
{
    acr__list *n = acr__list_shift(q);
    if (!n)
        return NULL;
    acr_task *t = acr__container_of(n, acr_task, wlink);
    ACR_ASSERT(!t->wserved, "a task on a wait queue has not been served yet");
    t->wserved = true;
    t->wcode = result;
    acr__wake(t, result); /* false when a deadline or cancel woke it first: wcode still wins */
    return t;
}

int acr__park_on(acr__list *q, int64_t deadline)
{
    acr_task *self = acr__self();
    if (!self)
        return ACR_ENOTASK;
    ACR_ASSERT(!acr__list_linked(&self->wlink), "a task waits on one queue at a time");
    self->wserved = false;
    acr__list_push(q, &self->wlink);
    int rc;
    do {
        /* A 0 wake without a hand-off came from an io watcher: keep waiting. */
        rc = acr__park(deadline);
    } while (rc == 0 && !self->wserved);
    if (self->wserved) {
        self->wserved = false;
        return self->wcode;
    }
    ACR_ASSERT(acr__list_linked(&self->wlink), "an unserved waiter is still queued");
    acr__list_remove(&self->wlink);
    return rc;
}

/* ---- semaphore ---- */

acr_sem *acr_sem_new(long permits)
{
    acr_sem *s = acr_calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->permits = permits;
    acr__list_init(&s->waiters);
    return s;
}

void acr_sem_free(acr_sem *s) { free(s); }

int acr_sem_try_acquire(acr_sem *s)
{
    if (s->permits > 0 && acr__list_empty(&s->waiters)) {
        s->permits--;
        return 0;
    }
    return -EAGAIN;
}

int acr_sem_acquire(acr_sem *s, int64_t deadline)
{
    acr_task *self = acr__self();
    if (!self)
        return ACR_ENOTASK;
    if (acr__cancel_pending(self))
        return ACR_ECANCELED;
    if (acr_sem_try_acquire(s) == 0)
        return 0;
    return acr__park_on(&s->waiters, deadline);
}

void acr_sem_release(acr_sem *s)
{
    if (!acr__serve_first(&s->waiters, 0)) /* the permit passes to the first waiter */
        s->permits++;
}

long acr_sem_available(const acr_sem *s) { return s->permits; }

/* ---- channel ---- */

acr_chan *acr_chan_new(size_t cap)
{
    acr_chan *ch = acr_calloc(1, sizeof *ch);
    if (!ch)
        return NULL;
    ch->buf = acr_calloc(cap ? cap : 1, sizeof *ch->buf);
    if (!ch->buf) {
        free(ch);
        return NULL;
    }
    ch->cap = cap;
    acr__list_init(&ch->senders);
    acr__list_init(&ch->receivers);
    return ch;
}

void acr_chan_free(acr_chan *ch)
{
    if (!ch)
        return;
    free(ch->buf);
    free(ch);
}

static void buf_push(acr_chan *ch, void *item)
{
    ch->buf[(ch->head + ch->len) % ch->cap] = item;
    ch->len++;
}

static void *buf_shift(acr_chan *ch)
{
    void *item = ch->buf[ch->head];
    ch->head = (ch->head + 1) % ch->cap;
    ch->len--;
    return item;
}

int acr_chan_send(acr_chan *ch, void *item, int64_t deadline)
{
    acr_task *self = acr__self();
    if (!self)
        return ACR_ENOTASK;
    if (acr__cancel_pending(self))
        return ACR_ECANCELED;
    if (ch->closed)
        return ACR_ECLOSED;
    if (!acr__list_empty(&ch->receivers)) {
        acr__container_of(ch->receivers.next, acr_task, wlink)->witem = item;
        acr__serve_first(&ch->receivers, 0);
        return 0;
    }
    if (ch->len < ch->cap) {
        buf_push(ch, item);
        return 0;
    }
    self->witem = item;
    return acr__park_on(&ch->senders, deadline); /* 0: a receiver took the item */
}

int acr_chan_recv(acr_chan *ch, void **item, int64_t deadline)
{
    acr_task *self = acr__self();
    if (!self)
        return ACR_ENOTASK;
    if (acr__cancel_pending(self))
        return ACR_ECANCELED;
    if (ch->len > 0) {
        *item = buf_shift(ch);
        acr_task *s = acr__serve_first(&ch->senders, 0);
        if (s)
            buf_push(ch, s->witem); /* the freed slot goes to the first sender */
        return 0;
    }
    acr_task *s = acr__serve_first(&ch->senders, 0);
    if (s) {
        *item = s->witem; /* unbuffered: take straight from the sender */
        return 0;
    }
    if (ch->closed)
        return ACR_ECLOSED;
    int rc = acr__park_on(&ch->receivers, deadline);
    if (rc == 0)
        *item = self->witem; /* served: the item is ours even if we were cancelled meanwhile */
    return rc;
}

void acr_chan_close(acr_chan *ch)
{
    ch->closed = true;
    while (acr__serve_first(&ch->receivers, ACR_ECLOSED))
        ;
    while (acr__serve_first(&ch->senders, ACR_ECLOSED)) /* their items stay theirs */
        ;
}

size_t acr_chan_len(const acr_chan *ch) { return ch->len; }

/* ---- condition ---- */

struct acr_cond {
    acr__list waiters;
};

acr_cond *acr_cond_new(void)
{
    acr_cond *c = acr_calloc(1, sizeof *c);
    if (c)
        acr__list_init(&c->waiters);
    return c;
}

void acr_cond_free(acr_cond *c) { free(c); }

int acr_cond_wait(acr_cond *c, int64_t deadline) { return acr__park_on(&c->waiters, deadline); }

void acr_cond_signal(acr_cond *c)
{
    acr__serve_first(&c->waiters, 0);
}

void acr_cond_broadcast(acr_cond *c)
{
    while (acr__serve_first(&c->waiters, 0))
        ;
}
