/* sync.c -- FIFO semaphore and bounded channel. Both hand over directly to the
 * first waiter (a permit, an item, a free slot), so arrival order is service order. */
#include <errno.h>
#include <stdlib.h>

#include "acrawl/error.h"
#include "acrawl/sync.h"
#include "sched.h"

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

static acr_task *shift_waiter(acr__list *q)
{
    acr__list *n = acr__list_shift(q);
    return n ? acr__container_of(n, acr_task, wlink) : NULL;
}

/* Parks the current task on queue q. 0 when a peer served it; otherwise the
 * park's error, and the task is off the queue. */
static int park_on(acr__list *q, int64_t deadline)
{
    acr_task *self = acr__self();
    if (!self)
        return ACR_ENOTASK;
    acr__list_push(q, &self->wlink);
    int rc;
    do {
        /* Still queued after a 0 wake: woken as an io watcher, not served. */
        rc = acr__park(deadline);
    } while (rc == 0 && acr__list_linked(&self->wlink));
    if (acr__list_linked(&self->wlink))
        acr__list_remove(&self->wlink);
    return rc;
}

/* ---- semaphore ---- */

acr_sem *acr_sem_new(long permits)
{
    acr_sem *s = calloc(1, sizeof *s);
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
    return ACR_ETIMEOUT;
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
    return park_on(&s->waiters, deadline);
}

void acr_sem_release(acr_sem *s)
{
    acr_task *w = shift_waiter(&s->waiters);
    if (w)
        acr__wake(w, 0); /* the permit passes to w */
    else
        s->permits++;
}

long acr_sem_available(const acr_sem *s) { return s->permits; }

/* ---- channel ---- */

acr_chan *acr_chan_new(size_t cap)
{
    acr_chan *ch = calloc(1, sizeof *ch);
    if (!ch)
        return NULL;
    ch->buf = calloc(cap ? cap : 1, sizeof *ch->buf);
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
    acr_task *r = shift_waiter(&ch->receivers);
    if (r) {
        r->witem = item;
        acr__wake(r, 0);
        return 0;
    }
    if (ch->len < ch->cap) {
        buf_push(ch, item);
        return 0;
    }
    self->witem = item;
    return park_on(&ch->senders, deadline);
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
        acr_task *s = shift_waiter(&ch->senders);
        if (s) {
            buf_push(ch, s->witem); /* the freed slot goes to the first sender */
            acr__wake(s, 0);
        }
        return 0;
    }
    acr_task *s = shift_waiter(&ch->senders);
    if (s) {
        *item = s->witem; /* unbuffered: take straight from the sender */
        acr__wake(s, 0);
        return 0;
    }
    if (ch->closed)
        return ACR_ECLOSED;
    int rc = park_on(&ch->receivers, deadline);
    if (rc == 0)
        *item = self->witem;
    return rc;
}

void acr_chan_close(acr_chan *ch)
{
    ch->closed = true;
    for (acr_task *t = shift_waiter(&ch->receivers); t; t = shift_waiter(&ch->receivers))
        acr__wake(t, ACR_ECLOSED);
    for (acr_task *t = shift_waiter(&ch->senders); t; t = shift_waiter(&ch->senders))
        acr__wake(t, ACR_ECLOSED);
}

size_t acr_chan_len(const acr_chan *ch) { return ch->len; }

/* ---- condition ---- */

struct acr_cond {
    acr__list waiters;
};

acr_cond *acr_cond_new(void)
{
    acr_cond *c = calloc(1, sizeof *c);
    if (c)
        acr__list_init(&c->waiters);
    return c;
}

void acr_cond_free(acr_cond *c) { free(c); }

int acr_cond_wait(acr_cond *c, int64_t deadline) { return park_on(&c->waiters, deadline); }

void acr_cond_signal(acr_cond *c)
{
    acr_task *t = shift_waiter(&c->waiters);
    if (t)
        acr__wake(t, 0);
}

void acr_cond_broadcast(acr_cond *c)
{
    for (acr_task *t = shift_waiter(&c->waiters); t; t = shift_waiter(&c->waiters))
        acr__wake(t, 0);
}
