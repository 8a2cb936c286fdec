/* io.c -- waiting on file descriptors: each fd is registered with the poller once
 * (edge-triggered); at most one task waits per direction, and a watcher task may
 * be woken by every event (for libraries that own several descriptors). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "acrawl/error.h"
#include "poll.h"
#include "sched.h"
#include "util/alloc.h"

struct acr_io {
    int fd;
    unsigned ready;         /* edges seen and not yet consumed by a wait */
    acr_task *reader, *writer;
    acr_task *watcher;
    acr_loop *loop;
};

void acr__io_event(acr_io *io, unsigned r)
{
    io->ready |= r;
    if ((r & ACR_READABLE) && io->reader)
        acr__wake(io->reader, 0);
    if ((r & ACR_WRITABLE) && io->writer && io->writer != io->reader)
        acr__wake(io->writer, 0);
    if (io->watcher)
        acr__wake(io->watcher, 0);
}

int acr_io_open(acr_io **out, int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0))
        return -errno;
    return acr_io_adopt(out, fd);
}

int acr_io_adopt(acr_io **out, int fd)
{
    acr_loop *l = acr_loop_current();
    if (!l)
        return ACR_ENOTASK;
    acr_io *io = acr_calloc(1, sizeof *io);
    if (!io)
        return -ENOMEM;
    io->fd = fd;
    io->loop = l;
    int rc = acr__poll_add(l, fd, io);
    if (rc != 0) {
        free(io);
        return rc;
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
        if (acr__requeue(t) == ACR_ECLOSED)
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
    acr__poll_del(io->loop, io->fd);
    io_release(io);
}
