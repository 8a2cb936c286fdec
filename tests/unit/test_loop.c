/* test_loop.c -- loop: sleep, yield, fd waits, deadlines, stacks and the guard page. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "acrawl/sync.h"
#include "helpers.h"

static int sleeper(void *arg)
{
    (void)arg;
    int64_t t0 = acr_now();
    int rc = acr_sleep_for(30 * ACR_MSEC);
    cr_expect_eq(rc, 0);
    int64_t el = ms_since(t0);
    cr_expect(el >= 30 && el < 200, "slept %lld ms", (long long)el);
    return 0;
}

Test(loop, sleep_waits_until_deadline) { cr_assert_eq(run_in_loop(sleeper, NULL), 0); }

Test(loop, suspending_calls_outside_a_task_say_so)
{
    acr_loop *l = acr_loop_new(NULL);
    cr_assert_eq(acr_sleep_for(1), ACR_ENOTASK);
    cr_assert_eq(acr_yield(), ACR_ENOTASK);
    acr_loop_free(l);
}

static int order[8];
static int norder;

static int yielder(void *arg)
{
    int id = (int)(intptr_t)arg;
    for (int i = 0; i < 2; i++) {
        order[norder++] = id;
        acr_yield();
    }
    return 0;
}

static int spawn_yielders(void *arg)
{
    (void)arg;
    norder = 0;
    acr_spawn(NULL, NULL, yielder, (void *)1);
    acr_spawn(NULL, NULL, yielder, (void *)2);
    return 0;
}

Test(loop, yield_round_robins_in_fifo_order)
{
    run_in_loop(spawn_yielders, NULL);
    int want[] = {1, 2, 1, 2};
    cr_assert_eq(norder, 4);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(order[i], want[i], "position %d", i);
}

/* ---- descriptors ---- */

struct pipe_case {
    int fds[2];
    acr_io *io;
    int rc;
};

static int reader(void *arg)
{
    struct pipe_case *pc = arg;
    char c;
    for (;;) {
        ssize_t n = read(pc->fds[0], &c, 1);
        if (n == 1)
            return c;
        pc->rc = acr_io_wait(pc->io, ACR_READABLE, acr_deadline_in(2 * ACR_SEC));
        if (pc->rc != 0)
            return pc->rc;
    }
}

static int writer_later(void *arg)
{
    struct pipe_case *pc = arg;
    acr_sleep_for(10 * ACR_MSEC);
    cr_assert_eq(write(pc->fds[1], "x", 1), 1);
    return 0;
}

static int fd_readable(void *arg)
{
    struct pipe_case *pc = arg;
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, pc->fds), 0);
    cr_assert_eq(acr_io_open(&pc->io, pc->fds[0]), 0);
    acr_task *r;
    acr_spawn(NULL, &r, reader, pc);
    acr_spawn(NULL, NULL, writer_later, pc);
    int st;
    cr_assert_eq(acr_task_join(r, ACR_FOREVER, &st), 0);
    acr_task_unref(r);
    acr_io_close(pc->io);
    close(pc->fds[1]);
    return st;
}

Test(loop, wait_readable_wakes_on_data)
{
    struct pipe_case pc = {0};
    cr_assert_eq(run_in_loop(fd_readable, &pc), 'x');
}

static int fd_timeout(void *arg)
{
    (void)arg;
    int fds[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, fds);
    acr_io *io;
    acr_io_open(&io, fds[0]);
    int64_t t0 = acr_now();
    int rc = acr_io_wait(io, ACR_READABLE, acr_deadline_in(20 * ACR_MSEC));
    cr_expect(ms_since(t0) >= 20);
    acr_io_close(io);
    close(fds[1]);
    return rc;
}

Test(loop, wait_on_fd_times_out) { cr_assert_eq(run_in_loop(fd_timeout, NULL), ACR_ETIMEOUT); }

static int fd_cancel(void *arg)
{
    struct pipe_case *pc = arg;
    socketpair(AF_UNIX, SOCK_STREAM, 0, pc->fds);
    acr_io_open(&pc->io, pc->fds[0]);
    acr_task *r;
    acr_spawn(NULL, &r, reader, pc);
    acr_sleep_for(5 * ACR_MSEC);
    acr_task_cancel(r);
    int st;
    acr_task_join(r, ACR_FOREVER, &st);
    cr_expect_eq(acr_task_state_of(r), ACR_TASK_CANCELLED);
    acr_task_unref(r);
    acr_io_close(pc->io);
    close(pc->fds[1]);
    return st;
}

Test(loop, cancel_while_parked_on_fd)
{
    struct pipe_case pc = {0};
    cr_assert_eq(run_in_loop(fd_cancel, &pc), ACR_ECANCELED);
}

static int fd_closed_under(void *arg)
{
    struct pipe_case *pc = arg;
    socketpair(AF_UNIX, SOCK_STREAM, 0, pc->fds);
    acr_io_open(&pc->io, pc->fds[0]);
    acr_task *r;
    acr_spawn(NULL, &r, reader, pc);
    acr_sleep_for(5 * ACR_MSEC);
    acr_io_close(pc->io);
    int st;
    acr_task_join(r, ACR_FOREVER, &st);
    acr_task_unref(r);
    close(pc->fds[1]);
    return st;
}

Test(loop, closing_an_io_wakes_its_waiter)
{
    struct pipe_case pc = {0};
    cr_assert_eq(run_in_loop(fd_closed_under, &pc), ACR_ECLOSED);
}

/* Deadline and completion in the same iteration: the writer writes, then spins past
 * the reader's deadline, so the next poll sees both the edge and the expired timer. */
struct same_tick {
    int fds[2];
    acr_io *io;
    int64_t deadline;
};

static int same_tick_reader(void *arg)
{
    struct same_tick *st = arg;
    return acr_io_wait(st->io, ACR_READABLE, st->deadline);
}

static int same_tick_writer(void *arg)
{
    struct same_tick *st = arg;
    cr_assert_eq(write(st->fds[1], "x", 1), 1);
    while (acr_now() <= st->deadline + ACR_MSEC)
        ;
    return 0;
}

static int same_tick(void *arg)
{
    struct same_tick *st = arg;
    socketpair(AF_UNIX, SOCK_STREAM, 0, st->fds);
    acr_io_open(&st->io, st->fds[0]);
    st->deadline = acr_deadline_in(5 * ACR_MSEC);
    acr_task *r;
    acr_spawn(NULL, &r, same_tick_reader, st);
    acr_spawn(NULL, NULL, same_tick_writer, st);
    int status;
    acr_task_join(r, ACR_FOREVER, &status);
    acr_task_unref(r);
    acr_io_close(st->io);
    close(st->fds[1]);
    return status;
}

Test(loop, completion_beats_deadline_in_the_same_iteration)
{
    struct same_tick st = {0};
    cr_assert_eq(run_in_loop(same_tick, &st), 0);
}

static int join_self(void *arg)
{
    (void)arg;
    return acr_task_join(acr_task_self(), ACR_FOREVER, NULL);
}

Test(loop, joining_self_is_refused) { cr_assert_eq(run_in_loop(join_self, NULL), ACR_EDEADLOCK); }

static int park_forever(void *arg)
{
    (void)arg;
    return acr_sleep_until(ACR_FOREVER); /* nothing can wake us */
}

Test(loop, deadlock_is_reported_not_hung)
{
    acr_loop *l = acr_loop_new(NULL);
    acr_spawn(l, NULL, park_forever, NULL);
    cr_assert_eq(acr_loop_run(l), ACR_EDEADLOCK);
    acr_loop_free(l);
}

/* ---- stacks ---- */

static int deep(int n)
{
    volatile char buf[1024];
    memset((char *)buf, n, sizeof buf);
    return n == 0 ? buf[0] : deep(n - 1) + buf[1];
}

static int use_stack(void *arg)
{
    return deep((int)(intptr_t)arg) & 0;
}

Test(loop, painted_stacks_report_high_water)
{
    acr_loop_opts o = {.paint_stacks = true};
    acr_loop *l = acr_loop_new(&o);
    acr_spawn(l, NULL, use_stack, (void *)40);
    cr_assert_eq(acr_loop_run(l), 0);
    size_t hw = acr_loop_stack_high_water(l);
    cr_assert(hw >= 40 * 1024 && hw < 128 * 1024, "high water %zu", hw);
    acr_loop_free(l);
}

static int overflow(void *arg)
{
    (void)arg;
    acr_task_set_name(acr_task_self(), "recurser");
    return deep(1 << 20);
}

static void check_overflow_child(acr_stack_guard guard)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], STDERR_FILENO);
        acr_loop_opts o = {.stack_size = 64 * 1024, .guard = guard};
        acr_loop *l = acr_loop_new(&o);
        acr_spawn(l, NULL, overflow, NULL);
        acr_loop_run(l);
        _exit(0); /* not reached: the guard must stop us */
    }
    close(p[1]);
    char buf[8192] = {0};
    size_t len = 0;
    ssize_t n;
    while (len < sizeof buf - 1 && (n = read(p[0], buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)n;
    close(p[0]);
    int ws;
    waitpid(pid, &ws, 0);
    bool died = WIFSIGNALED(ws) || (WIFEXITED(ws) && WEXITSTATUS(ws) != 0);
    cr_assert(died, "child exited cleanly after overflowing its stack");
    cr_assert(strstr(buf, "stack overflow in task 1 (recurser)"), "stderr: %s", buf);
}

Test(loop, guard_page_catches_overflow_madvise) { check_overflow_child(ACR_STACK_GUARD_AUTO); }
Test(loop, guard_page_catches_overflow_mprotect) { check_overflow_child(ACR_STACK_GUARD_MPROTECT); }

/* ---- a peer that always has data must not beat the deadline or hold the loop ---- */

static int pending_edge_after_deadline(void *arg)
{
    (void)arg;
    int fds[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, fds);
    acr_io *io;
    cr_assert_eq(acr_io_open(&io, fds[0]), 0);
    cr_assert_eq(write(fds[1], "x", 1), 1);
    acr_sleep_for(5 * ACR_MSEC); /* the edge arrives and stays pending */
    cr_assert(acr_io_pending(io) & ACR_READABLE);
    int rc = acr_io_wait(io, ACR_READABLE, acr_now() - 1);
    acr_io_close(io);
    close(fds[1]);
    return rc;
}

Test(loop, a_pending_edge_does_not_override_an_expired_deadline)
{
    cr_assert_eq(run_in_loop(pending_edge_after_deadline, NULL), ACR_ETIMEOUT);
}

struct busy {
    int ticks;
    bool stop;
};

static int ticker(void *arg)
{
    struct busy *b = arg;
    while (!b->stop) {
        b->ticks++;
        acr_sleep_for(ACR_MSEC / 10);
    }
    return 0;
}

/* Never suspends on its own: only acr_checkpoint lets the ticker run. */
static int spinner(void *arg)
{
    struct busy *b = arg;
    int64_t deadline = acr_deadline_in(50 * ACR_MSEC);
    int rc;
    while ((rc = acr_checkpoint(deadline)) == 0)
        ;
    b->stop = true;
    return rc;
}

static int busy_main(void *arg)
{
    struct busy *b = arg;
    acr_task *t, *s;
    acr_spawn(NULL, &t, ticker, b);
    acr_spawn(NULL, &s, spinner, b);
    acr_task_join(s, ACR_FOREVER, NULL);
    acr_task_join(t, ACR_FOREVER, NULL);
    int rc = acr_task_status(s);
    acr_task_unref(s);
    acr_task_unref(t);
    return rc;
}

Test(loop, checkpoint_keeps_the_deadline_and_lets_others_run)
{
    struct busy b = {0};
    int64_t t0 = acr_now();
    cr_assert_eq(run_in_loop(busy_main, &b), ACR_ETIMEOUT);
    cr_assert_lt(ms_since(t0), 1000);
    cr_assert_gt(b.ticks, 10, "the other task ran only %d times while one spun", b.ticks);
}

/* A hook run as the loop is about to block may wake a task (signal a condition): the
 * loop must run it then, not sleep until its next timer first. */
static acr_cond *hook_cond;
static int hook_calls;

static void hook_signal(void *arg)
{
    (void)arg;
    if (hook_calls++ == 0)
        acr_cond_signal(hook_cond);
}

static int hook_waiter(void *arg)
{
    (void)arg;
    int64_t t0 = acr_now();
    int rc = acr_cond_wait(hook_cond, acr_now() + 5 * ACR_SEC);
    cr_expect_eq(rc, 0, "woken by the hook, not by its deadline: %d", rc);
    cr_expect_lt(ms_since(t0), 1000);
    return 0;
}

Test(loop, a_task_the_block_hook_wakes_runs_before_the_loop_sleeps)
{
    acr_loop *l = acr_loop_new(NULL);
    cr_assert_not_null(l);
    hook_cond = acr_cond_new();
    cr_assert_not_null(hook_cond);
    acr_loop_on_block(l, hook_signal, NULL);
    acr_task *t;
    cr_assert_eq(acr_spawn(l, &t, hook_waiter, NULL), 0);
    cr_assert_eq(acr_loop_run(l), 0);
    cr_assert_eq(hook_calls, 1, "the hook ran %d times", hook_calls);
    acr_task_unref(t);
    acr_cond_free(hook_cond);
    acr_loop_free(l);
}
