/* stream.c -- the stream calls, dispatched to the top layer's ops, and the bottom
 * layer: a connected non-blocking socket whose waits park on the loop. */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "acrawl/error.h"
#include "stream.h"

/* ---- the socket layer ---- */

static int sock_errno(int e)
{
    if (e == ECONNRESET || e == EPIPE || e == ECONNABORTED)
        return ACR_ERESET;
    return -e;
}

static int sock_wait(acr_stream *s, unsigned events, int64_t deadline)
{
    if (deadline == ACR_NOWAIT)
        return -EAGAIN;
    return acr_io_wait(s->io, events, deadline);
}

static ssize_t sock_read(acr_stream *s, void *buf, size_t len, int64_t deadline)
{
    for (;;) {
        ssize_t n = read(s->fd, buf, len);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN)
            return sock_errno(errno);
        int rc = sock_wait(s, ACR_READABLE, deadline);
        if (rc != 0)
            return rc;
    }
}

static ssize_t sock_write(acr_stream *s, const void *buf, size_t len, int64_t deadline)
{
    for (;;) {
        ssize_t n = send(s->fd, buf, len, MSG_NOSIGNAL);
        if (n > 0)
            return n;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN)
            return sock_errno(errno);
        int rc = sock_wait(s, ACR_WRITABLE, deadline);
        if (rc != 0)
            return rc;
    }
}

static int sock_check(acr_stream *s)
{
    /* Asks the socket, not the loop's edge state: the edge of a FIN that arrived
     * with the last response was consumed by the read that took the response, so
     * "no edge pending" does not mean "nothing happened". POLLRDHUP also sees a FIN
     * queued behind unread bytes, which a MSG_PEEK read would not. One syscall. */
    struct pollfd pfd = {.fd = s->fd, .events = POLLIN | POLLRDHUP};
    int n;
    do {
        n = poll(&pfd, 1, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    if (n == 0)
        return 0;
    if (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))
        return ACR_ECLOSED;
    return 1;
}

static void sock_close(acr_stream *s)
{
    if (s->io)
        acr_io_close(s->io);
    else if (s->fd >= 0)
        close(s->fd);
}

static const acr_stream_ops sock_ops = {
    .name = "socket",
    .read = sock_read,
    .write = sock_write,
    .wait = sock_wait,
    .check = sock_check,
    .close = sock_close,
};

/* ---- dispatch ---- */

static const acr_stream_ops *ops_of(const acr_stream *s) { return s->ops ? s->ops : &sock_ops; }

ssize_t acr_stream_read(acr_stream *s, void *buf, size_t len, int64_t deadline)
{
    return ops_of(s)->read(s, buf, len, deadline);
}

ssize_t acr_stream_write_some(acr_stream *s, const void *buf, size_t len, int64_t deadline)
{
    return ops_of(s)->write(s, buf, len, deadline);
}

int acr_stream_write(acr_stream *s, const void *buf, size_t len, int64_t deadline)
{
    const acr_stream_ops *ops = ops_of(s);
    const char *p = buf;
    while (len > 0) {
        ssize_t n = ops->write(s, p, len, deadline);
        if (n < 0)
            return (int)n;
        if (n == 0)
            return -EIO; /* a write op that takes nothing breaks the contract: don't spin */
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int acr_stream_wait(acr_stream *s, unsigned events, int64_t deadline)
{
    return ops_of(s)->wait(s, events, deadline);
}

int acr_stream_await(acr_stream *s, int64_t deadline) { return acr_stream_wait(s, ACR_READABLE, deadline); }

int acr_stream_check(acr_stream *s) { return ops_of(s)->check(s); }

/* Stray bytes count: on an idle HTTP/1.1 connection the server misbehaved. */
int acr_stream_dead(acr_stream *s) { return acr_stream_check(s) != 0; }

void acr_stream_close(acr_stream *s)
{
    ops_of(s)->close(s);
    *s = (acr_stream){.fd = -1};
}

void acr_stream_push(acr_stream *s, const acr_stream_ops *ops, void *ctx, acr_stream *below)
{
    *below = *s;
    s->ops = ops;
    s->ctx = ctx;
}
