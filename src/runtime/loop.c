/* loop.c -- the scheduler: ready queue, timer heap and epoll, one loop per thread.
 * Tasks switch directly to the next ready task; the scheduler context only runs
 * to poll for I/O and timers between passes, and to free finished tasks' stacks. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "acrawl/error.h"
#include "fmt.h"
#include "sched.h"

struct acr_io {
    int fd;
    unsigned ready;         /* edges seen and not yet consumed by a wait */
    acr_task *reader, *writer;
    acr_task *watcher;
    acr_loop *loop;
};

static __thread acr_loop *cur_loop;

#define PASS_MIN 256
/* Checkpoints (and immediately satisfied io waits) a task may pass before it
 * must let the others run: a peer that always has data ready cannot hold the loop. */
#define RUN_BUDGET 64

/* ---- clock ---- */

int64_t acr_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * ACR_SEC + ts.tv_nsec;
}

int64_t acr_deadline_in(int64_t ns)
{
    int64_t now = acr_now();
    if (ns >= ACR_FOREVER - now)
        return ACR_FOREVER;
    return now + ns;
}

/* ---- timer heap (binary, by deadline then seq) ---- */

static bool heap_less(const acr_task *a, const acr_task *b)
{
    if (a->deadline != b->deadline)
        return a->deadline < b->deadline;
    return a->seq < b->seq;
}

static void heap_set(acr_loop *l, size_t i, acr_task *t)
{
    l->heap[i] = t;
    t->heap_idx = i;
}

static void heap_up(acr_loop *l, size_t i)
{
    acr_task *t = l->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!heap_less(t, l->heap[parent]))
            break;
        heap_set(l, i, l->heap[parent]);
        i = parent;
    }
    heap_set(l, i, t);
}

static void heap_down(acr_loop *l, size_t i)
{
    acr_task *t = l->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= l->heap_len)
            break;
        if (c + 1 < l->heap_len && heap_less(l->heap[c + 1], l->heap[c]))
            c++;
        if (!heap_less(l->heap[c], t))
            break;
        heap_set(l, i, l->heap[c]);
        i = c;
    }
    heap_set(l, i, t);
}

static int heap_push(acr_loop *l, acr_task *t)
{
    if (l->heap_len == l->heap_cap) {
        size_t cap = l->heap_cap ? l->heap_cap * 2 : 64;
        acr_task **h = realloc(l->heap, cap * sizeof *h);
        if (!h)
            return -ENOMEM;
        l->heap = h;
        l->heap_cap = cap;
    }
    t->seq = l->seq++;
    heap_set(l, l->heap_len++, t);
    heap_up(l, t->heap_idx);
    return 0;
}

static void heap_remove(acr_loop *l, acr_task *t)
{
    size_t i = t->heap_idx;
    t->heap_idx = SIZE_MAX;
    l->heap_len--;
    if (i == l->heap_len)
        return;
    heap_set(l, i, l->heap[l->heap_len]);
    heap_up(l, i);
    heap_down(l, l->heap[i]->heap_idx);
}

/* ---- ready queue and switching ---- */

static void ready_push(acr_loop *l, acr_task *t)
{
    t->queued = true;
    t->rnext = NULL;
    if (l->ready_tail)
        l->ready_tail->rnext = t;
    else
        l->ready_head = t;
    l->ready_tail = t;
    l->nready++;
}

static acr_task *ready_pop(acr_loop *l)
{
    acr_task *t = l->ready_head;
    if (!t)
        return NULL;
    l->ready_head = t->rnext;
    if (!l->ready_head)
        l->ready_tail = NULL;
    l->nready--;
    t->queued = false;
    return t;
}

/* Leaves the current task (already queued or parked) for the next ready task of
 * this pass, or for the scheduler when the pass is over. */
static void switch_away(acr_loop *l, acr_task *self)
{
    acr_task *next = NULL;
    if (l->pass_left > 0) {
        next = ready_pop(l);
        if (next)
            l->pass_left--;
    }
    if (next == self) {
        self->state = ACR_TASK_RUNNING;
        return;
    }
    if (next) {
        l->current = next;
        next->state = ACR_TASK_RUNNING;
        acr__ctx_swap(&self->ctx, &next->ctx);
    } else {
        l->current = NULL;
        acr__ctx_swap(&self->ctx, &l->main_ctx);
    }
    /* Resumed: whoever switched here set l->current = self. */
}

acr_task *acr__self(void)
{
    return cur_loop ? cur_loop->current : NULL;
}

int acr__park(int64_t deadline)
{
    acr_task *t = acr__self();
    if (!t)
        return ACR_ENOTASK;
    if (acr__cancel_pending(t))
        return ACR_ECANCELED;
    acr_loop *l = t->loop;
    if (deadline != ACR_FOREVER && deadline <= acr_now())
        return ACR_ETIMEOUT;
    t->deadline = deadline;
    if (deadline != ACR_FOREVER && heap_push(l, t) != 0)
        return -ENOMEM;
    t->parked = true;
    t->wake_result = 0;
    t->budget = RUN_BUDGET;
    switch_away(l, t);
    return t->wake_result;
}

bool acr__wake(acr_task *t, int result)
{
    if (!t->parked)
        return false;
    t->parked = false;
    if (t->heap_idx != SIZE_MAX)
        heap_remove(t->loop, t);
    t->wake_result = result;
    ready_push(t->loop, t);
    return true;
}

/* Goes to the back of the ready queue. Returns what a waker left in wake_result
 * meanwhile (ACR_ECLOSED from an io closed under us), else 0. */
static int requeue(acr_task *t)
{
    t->wake_result = 0;
    t->budget = RUN_BUDGET;
    ready_push(t->loop, t);
    switch_away(t->loop, t);
    return t->wake_result;
}

int acr_checkpoint(int64_t deadline)
{
    acr_task *t = acr__self();
    if (!t)
        return ACR_ENOTASK;
    if (acr__cancel_pending(t))
        return ACR_ECANCELED;
    if (deadline != ACR_FOREVER && deadline <= acr_now())
        return ACR_ETIMEOUT;
    if (t->budget > 0) {
        t->budget--;
        return 0;
    }
    requeue(t);
    return acr__cancel_pending(t) ? ACR_ECANCELED : 0;
}

int acr_yield(void)
{
    acr_task *t = acr__self();
    if (!t)
        return ACR_ENOTASK;
    if (acr__cancel_pending(t))
        return ACR_ECANCELED;
    ready_push(t->loop, t);
    switch_away(t->loop, t);
    return acr__cancel_pending(t) ? ACR_ECANCELED : 0;
}

int acr_sleep_until(int64_t deadline)
{
    int rc = acr__park(deadline);
    return rc == ACR_ETIMEOUT ? 0 : rc;
}

int acr_sleep_for(int64_t ns)
{
    return acr_sleep_until(acr_deadline_in(ns));
}

/* Called by task.c when a task's body has returned: hands the stack to the
 * scheduler, which frees it (a context cannot free the stack it runs on). */
_Noreturn void acr__task_exit(acr_task *t)
{
    acr_loop *l = t->loop;
    l->dead = t;
    l->current = NULL;
    acr__ctx_swap_final(&t->ctx, &l->main_ctx);
}

/* ---- spawning support for task.c ---- */

int acr__loop_start_task(acr_loop *l, acr_task *t)
{
    int rc = acr__stack_get(&l->stacks, &t->stack);
    if (rc != 0)
        return rc;
    acr__ctx_make(&t->ctx, t->stack->lo, t->stack->size, acr__task_entry, t);
    t->loop = l;
    t->id = ++l->next_id;
    t->heap_idx = SIZE_MAX;
    t->budget = RUN_BUDGET;
    l->ntasks++;
    acr__list_push(&l->alive, &t->alink);
    ready_push(l, t);
    return 0;
}

/* ---- epoll ---- */

static void io_event(acr_io *io, uint32_t ev)
{
    unsigned r = 0;
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        r |= ACR_READABLE;
    if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR))
        r |= ACR_WRITABLE;
    io->ready |= r;
    if ((r & ACR_READABLE) && io->reader)
        acr__wake(io->reader, 0);
    if ((r & ACR_WRITABLE) && io->writer && io->writer != io->reader)
        acr__wake(io->writer, 0);
    if (io->watcher)
        acr__wake(io->watcher, 0);
}

static int64_t next_timeout_ns(acr_loop *l)
{
    if (l->nready > 0)
        return 0;
    if (l->heap_len == 0)
        return -1;
    int64_t d = l->heap[0]->deadline - acr_now();
    return d < 0 ? 0 : d;
}

static void fire_timers(acr_loop *l)
{
    int64_t now = acr_now();
    while (l->heap_len > 0 && l->heap[0]->deadline <= now)
        acr__wake(l->heap[0], ACR_ETIMEOUT);
}

static int poll_once(acr_loop *l)
{
    struct epoll_event evs[256];
    int64_t ns = next_timeout_ns(l);
    if (ns < 0 && l->io_waiters == 0)
        return ACR_EDEADLOCK;
    if (ns != 0 && l->on_block)
        l->on_block(l->on_block_arg);
    struct timespec ts = {.tv_sec = ns / ACR_SEC, .tv_nsec = ns % ACR_SEC};
    int n = epoll_pwait2(l->epfd, evs, 256, ns < 0 ? NULL : &ts, NULL);
    if (n < 0 && errno == ENOSYS) {
        int ms = ns < 0 ? -1 : (int)((ns + ACR_MSEC - 1) / ACR_MSEC);
        n = epoll_wait(l->epfd, evs, 256, ms);
    }
    if (n < 0) {
        if (errno != EINTR)
            return -errno;
        n = 0;
    }
    /* I/O first: an operation that completed in the same iteration its deadline
     * expired counts as completed. */
    for (int i = 0; i < n; i++)
        io_event(evs[i].data.ptr, evs[i].events);
    fire_timers(l);
    return 0;
}

static void reap(acr_loop *l)
{
    acr_task *t = l->dead;
    if (!t)
        return;
    l->dead = NULL;
    acr__stack_put(&l->stacks, t->stack);
    t->stack = NULL;
    l->ntasks--;
    acr__list_remove(&t->alink);
    acr_task_unref(t); /* the runtime's reference */
}

int acr_loop_run(acr_loop *l)
{
    acr_loop *saved = cur_loop;
    cur_loop = l;
    acr__ctx_init_thread(&l->main_ctx);
    int rc = 0;
    while (l->ntasks > 0) {
        if (l->pass_left == 0 || l->nready == 0) {
            rc = poll_once(l);
            if (rc != 0)
                break;
            /* A pass runs every task ready now, and at least PASS_MIN switches,
             * so that tasks yielding to each other do not pay a poll each time. */
            l->pass_left = l->nready > PASS_MIN ? l->nready : PASS_MIN;
            continue;
        }
        acr_task *t = ready_pop(l);
        l->pass_left--;
        l->current = t;
        t->state = ACR_TASK_RUNNING;
        acr__ctx_swap(&l->main_ctx, &t->ctx);
        reap(l);
    }
    cur_loop = saved;
    return rc;
}

/* ---- stack overflow reporting ---- */

static struct sigaction prev_segv;

static void write_str(const char *s)
{
    ssize_t r = write(STDERR_FILENO, s, strlen(s));
    (void)r;
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    acr_loop *l = cur_loop;
    acr_task *t = l ? l->current : NULL;
    if (t && t->stack && acr__stack_in_guard(t->stack, si->si_addr)) {
        char id[24];
        acr_utoa(id, t->id);
        write_str("acrawl: stack overflow in task ");
        write_str(id);
        write_str(" (");
        write_str(t->name ? t->name : "unnamed");
        write_str("): raise the stack size\n");
    }
    /* Hand over to whoever was there before (ASan, or the default action). */
    sigaction(SIGSEGV, &prev_segv, NULL);
    if (!(prev_segv.sa_flags & SA_SIGINFO) && prev_segv.sa_handler == SIG_DFL)
        return; /* the faulting instruction re-runs and the default action kills */
    if (prev_segv.sa_flags & SA_SIGINFO)
        prev_segv.sa_sigaction(sig, si, uc);
    else if (prev_segv.sa_handler != SIG_IGN)
        prev_segv.sa_handler(sig);
}

static void install_overflow_handler(void)
{
    /* Each thread with a loop needs its own alternate stack: the overflowing
     * stack cannot run the handler. */
    static __thread void *altstack; /* kept for the thread's lifetime */
    if (!altstack) {
        stack_t ss = {.ss_size = 64 * 1024};
        ss.ss_sp = malloc(ss.ss_size);
        if (ss.ss_sp && sigaltstack(&ss, NULL) == 0)
            altstack = ss.ss_sp;
        else
            free(ss.ss_sp);
    }
    static bool installed;
    if (installed)
        return;
    installed = true;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &prev_segv);
}

/* ---- loop lifecycle ---- */

acr_loop *acr_loop_new(const acr_loop_opts *opts)
{
    acr_loop_opts o = {0};
    if (opts)
        o = *opts;
    if (o.stack_size == 0)
        o.stack_size = ACR_DEFAULT_STACK;
    acr_loop *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        free(l);
        return NULL;
    }
    acr__list_init(&l->alive);
    acr__stack_pool_init(&l->stacks, o.stack_size, (acr__guard_mode)o.guard, o.paint_stacks);
    install_overflow_handler();
    cur_loop = l;
    return l;
}

void acr_loop_free(acr_loop *l)
{
    if (!l)
        return;
    /* Tasks that never finished (a deadlock, or a loop stopped early) are
     * dropped without running further; handles to them become invalid. */
    for (acr__list *n = acr__list_shift(&l->alive); n; n = acr__list_shift(&l->alive)) {
        acr_task *t = acr__container_of(n, acr_task, alink);
        acr__stack_put(&l->stacks, t->stack);
        acr__task_free(t);
    }
    acr__stack_pool_release(&l->stacks);
    free(l->heap);
    close(l->epfd);
    if (cur_loop == l)
        cur_loop = NULL;
    free(l);
}

acr_loop *acr_loop_current(void) { return cur_loop; }

void acr_loop_on_block(acr_loop *l, void (*fn)(void *), void *arg)
{
    l->on_block = fn;
    l->on_block_arg = arg;
}

size_t acr_loop_stack_high_water(const acr_loop *l) { return l->stacks.high_water; }
size_t acr_loop_tasks(const acr_loop *l) { return l->ntasks; }

/* ---- descriptors ---- */

int acr_io_open(acr_io **out, int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0))
        return -errno;
    return acr_io_adopt(out, fd);
}

int acr_io_adopt(acr_io **out, int fd)
{
    acr_loop *l = cur_loop;
    if (!l)
        return ACR_ENOTASK;
    acr_io *io = calloc(1, sizeof *io);
    if (!io)
        return -ENOMEM;
    io->fd = fd;
    io->loop = l;
    struct epoll_event ev = {
        .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
        .data.ptr = io,
    };
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        int err = errno;
        free(io);
        return -err;
    }
    *out = io;
    return 0;
}

int acr_io_fd(const acr_io *io) { return io->fd; }

unsigned acr_io_pending(const acr_io *io) { return io->ready; }

void acr_io_set_watcher(acr_io *io, acr_task *task)
{
    /* A watched descriptor can wake a task parked forever: not a deadlock. */
    if (io->watcher && !task)
        io->loop->io_waiters--;
    if (!io->watcher && task)
        io->loop->io_waiters++;
    io->watcher = task;
}

/* The event is already here. The deadline still holds, and a task that keeps
 * finding events pending yields now and then, registered as the waiter so that a
 * close meanwhile reaches it (ACR_ECLOSED, io freed). */
static int io_take_pending(acr_io *io, acr_task *t, unsigned events, int64_t deadline)
{
    if (deadline != ACR_FOREVER && deadline <= acr_now())
        return ACR_ETIMEOUT;
    if (t->budget > 0) {
        t->budget--;
    } else {
        io->reader = events & ACR_READABLE ? t : io->reader;
        io->writer = events & ACR_WRITABLE ? t : io->writer;
        if (requeue(t) == ACR_ECLOSED)
            return ACR_ECLOSED;
        io->reader = io->reader == t ? NULL : io->reader;
        io->writer = io->writer == t ? NULL : io->writer;
        if (acr__cancel_pending(t))
            return ACR_ECANCELED;
    }
    io->ready &= ~events;
    return 0;
}

int acr_io_wait(acr_io *io, unsigned events, int64_t deadline)
{
    acr_task *t = acr__self();
    if (!t)
        return ACR_ENOTASK;
    if (acr__cancel_pending(t))
        return ACR_ECANCELED;
    ACR_ASSERT(!(events & ACR_READABLE) || !io->reader, "at most one task waits to read an io");
    ACR_ASSERT(!(events & ACR_WRITABLE) || !io->writer, "at most one task waits to write an io");
    if (io->ready & events)
        return io_take_pending(io, t, events, deadline);
    if (events & ACR_READABLE)
        io->reader = t;
    if (events & ACR_WRITABLE)
        io->writer = t;
    acr_loop *l = io->loop;
    l->io_waiters++;
    int rc = acr__park(deadline);
    l->io_waiters--;
    if (rc == ACR_ECLOSED)
        return rc; /* io was closed under us and is freed */
    if (io->reader == t)
        io->reader = NULL;
    if (io->writer == t)
        io->writer = NULL;
    if (rc == 0)
        io->ready &= ~events;
    return rc;
}

/* A task inside acr_io_wait on io, parked or already woken, must learn that io is
 * gone before it touches it again. */
static void wake_closed(acr_task *t)
{
    if (!acr__wake(t, ACR_ECLOSED))
        t->wake_result = ACR_ECLOSED;
}

static void io_release(acr_io *io)
{
    if (io->reader)
        wake_closed(io->reader);
    if (io->writer && io->writer != io->reader)
        wake_closed(io->writer);
    if (io->watcher)
        io->loop->io_waiters--;
    free(io);
}

void acr_io_close(acr_io *io)
{
    if (!io)
        return;
    close(io->fd); /* also removes it from the epoll set */
    io_release(io);
}

void acr_io_detach(acr_io *io)
{
    if (!io)
        return;
    epoll_ctl(io->loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
    io_release(io);
}
