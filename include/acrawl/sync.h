/* sync.h -- task synchronisation: FIFO semaphore, bounded channel with close, condition. */
#ifndef ACRAWL_SYNC_H
#define ACRAWL_SYNC_H

#include <stddef.h>
#include <stdint.h>

typedef struct acr_sem acr_sem;

acr_sem *acr_sem_new(long permits);  /* NULL on -ENOMEM */
void acr_sem_free(acr_sem *s);
/* Takes a permit; waiters are served strictly in arrival order (no barging).
 * 0, ACR_ETIMEOUT, ACR_ECANCELED, ACR_ENOTASK. */
int acr_sem_acquire(acr_sem *s, int64_t deadline);
/* 0 when a permit was free, -EAGAIN otherwise; never suspends. */
int acr_sem_try_acquire(acr_sem *s);
/* Returns a permit, handing it straight to the first waiter if any. */
void acr_sem_release(acr_sem *s);
long acr_sem_available(const acr_sem *s);

typedef struct acr_chan acr_chan;

/* A FIFO of pointers holding at most cap items (cap 0: every send meets a recv). */
acr_chan *acr_chan_new(size_t cap);
void acr_chan_free(acr_chan *ch);
/* Ownership: a send that returns 0 handed the item over, and one that returns
 * anything else did not (the sender still owns it). A hand-off wins over a deadline
 * or cancel that woke the waiting task in the same loop turn: the call then returns
 * 0 (the cancel shows at the next suspending call). The same holds for recv, for
 * semaphore permits and for condition signals: nothing is handed to a task that
 * then reports failure. */
/* 0, ACR_ECLOSED (closed before the item was taken in), ACR_ETIMEOUT, ACR_ECANCELED. */
int acr_chan_send(acr_chan *ch, void *item, int64_t deadline);
/* 0, ACR_ECLOSED (closed and drained), ACR_ETIMEOUT, ACR_ECANCELED. */
int acr_chan_recv(acr_chan *ch, void **item, int64_t deadline);
/* No more sends; wakes every waiter. Items already queued can still be received. */
void acr_chan_close(acr_chan *ch);
size_t acr_chan_len(const acr_chan *ch);

/* A condition: tasks wait until signalled (re-check your predicate after waking). */
typedef struct acr_cond acr_cond;

acr_cond *acr_cond_new(void);
void acr_cond_free(acr_cond *c);
/* 0 when signalled, ACR_ETIMEOUT, ACR_ECANCELED, ACR_ENOTASK. */
int acr_cond_wait(acr_cond *c, int64_t deadline);
void acr_cond_signal(acr_cond *c);     /* wakes the longest waiter */
void acr_cond_broadcast(acr_cond *c);  /* wakes every waiter */

#endif
