/* loop.h -- the event loop (one per thread): scheduler, epoll, timers, the
 * monotonic clock, sleeping and waiting on file descriptors. */
#ifndef ACRAWL_LOOP_H
#define ACRAWL_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Deadlines are absolute CLOCK_MONOTONIC nanoseconds; ACR_FOREVER never expires. */
#define ACR_FOREVER INT64_MAX
#define ACR_MSEC (INT64_C(1000000))
#define ACR_SEC (INT64_C(1000000000))

typedef struct acr_loop acr_loop;

typedef enum {
    ACR_STACK_GUARD_AUTO = 0,  /* MADV_GUARD_INSTALL where the kernel has it, else mprotect */
    ACR_STACK_GUARD_MADVISE,
    ACR_STACK_GUARD_MPROTECT,
} acr_stack_guard;

typedef struct acr_loop_opts {
    size_t stack_size;       /* usable bytes per task stack; 0 = ACR_DEFAULT_STACK */
    acr_stack_guard guard;
    bool paint_stacks;       /* measure stack high-water marks (costs a memset per spawn) */
} acr_loop_opts;

/* Fits an OpenSSL 3 handshake and c-ares with room to spare (see README). */
#define ACR_DEFAULT_STACK (256 * 1024)

/* Creates a loop for the calling thread (opts may be NULL). Returns NULL on
 * failure with errno set. The loop becomes the thread's current loop. */
acr_loop *acr_loop_new(const acr_loop_opts *opts);
/* Frees the loop. Tasks still alive are abandoned: run the loop to completion first. */
void acr_loop_free(acr_loop *loop);
/* The calling thread's loop, or NULL. */
acr_loop *acr_loop_current(void);

/* Runs tasks until none is alive. Returns 0, ACR_EDEADLOCK when live tasks wait on
 * something nothing can ever signal, or -errno when epoll fails. */
int acr_loop_run(acr_loop *loop);

/* Called each time the loop is about to block in epoll (e.g. to flush output). fn must
 * not suspend; it may wake tasks (signal a condition), and the loop then runs them
 * before it blocks. */
void acr_loop_on_block(acr_loop *loop, void (*fn)(void *), void *arg);

/* Deepest stack use (bytes) seen on finished tasks; 0 unless paint_stacks. */
size_t acr_loop_stack_high_water(const acr_loop *loop);
/* Tasks spawned and not yet finished. */
size_t acr_loop_tasks(const acr_loop *loop);

/* Monotonic clock in nanoseconds. */
int64_t acr_now(void);
/* now + ns, saturating at ACR_FOREVER; a negative ns means "already expired". */
int64_t acr_deadline_in(int64_t ns);

/* Suspends the calling task until deadline. 0 when the deadline passes,
 * ACR_ECANCELED when the task is cancelled first, ACR_ENOTASK outside a task. */
int acr_sleep_until(int64_t deadline);
/* acr_sleep_until(now + ns). */
int acr_sleep_for(int64_t ns);
/* Lets every other ready task run once. 0 or ACR_ECANCELED. */
int acr_yield(void);
/* For loops that make progress without suspending (a socket that always has data):
 * ACR_ETIMEOUT once deadline has passed, ACR_ECANCELED when the task is cancelled,
 * else 0 — after letting the other tasks run once every so many calls, so one busy
 * peer cannot starve the loop. ACR_ENOTASK outside a task. */
int acr_checkpoint(int64_t deadline);

/* ---- waiting on file descriptors ---- */

typedef struct acr_io acr_io;

#define ACR_READABLE 1u
#define ACR_WRITABLE 2u

/* Registers fd (made non-blocking) with the current loop, once for its lifetime
 * (edge-triggered). 0 or -errno. */
int acr_io_open(acr_io **out, int fd);
/* As acr_io_open for a descriptor that is already non-blocking (no fcntl). */
int acr_io_adopt(acr_io **out, int fd);
/* Waits until fd is readable or writable (one of events) or deadline. 0 when an edge
 * arrived since the last wait: retry the syscall, it may still say EAGAIN. An edge
 * already pending does not override an expired deadline, and a task that keeps
 * finding edges pending yields to the others now and then (as acr_checkpoint).
 * ACR_ETIMEOUT, ACR_ECANCELED, ACR_ECLOSED (another task closed the io).
 * At most one task waits per direction. */
int acr_io_wait(acr_io *io, unsigned events, int64_t deadline);
int acr_io_fd(const acr_io *io);
/* Readiness edges seen and not consumed by a wait (ACR_READABLE | ACR_WRITABLE):
 * on an idle connection, ACR_READABLE means the peer sent or closed something. */
unsigned acr_io_pending(const acr_io *io);
/* Wakes waiters with ACR_ECLOSED, closes fd and frees io. */
void acr_io_close(acr_io *io);
/* As acr_io_close but leaves fd open (for descriptors another library closes). */
void acr_io_detach(acr_io *io);
/* Wake `task` (see task.h) whenever the io gets an event, whatever it is parked
 * on; used to pump libraries that own several descriptors (c-ares). */
struct acr_task;
void acr_io_set_watcher(acr_io *io, struct acr_task *task);

#endif
