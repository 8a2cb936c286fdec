/* poll_epoll.c -- the epoll backend of poll.h: one epoll set per loop, every fd
 * registered once, edge-triggered, with its acr_io as the event's data. */
#include <errno.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "poll.h"
#include "sched.h"

#define MAX_EVENTS 256

int acr__poll_init(acr_loop *l)
{
    l->pollfd = epoll_create1(EPOLL_CLOEXEC);
    return l->pollfd < 0 ? -errno : 0;
}

void acr__poll_release(acr_loop *l) { close(l->pollfd); }

int acr__poll_add(acr_loop *l, int fd, acr_io *io)
{
    struct epoll_event ev = {
        .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
        .data.ptr = io,
    };
    return epoll_ctl(l->pollfd, EPOLL_CTL_ADD, fd, &ev) != 0 ? -errno : 0;
}

void acr__poll_del(acr_loop *l, int fd) { epoll_ctl(l->pollfd, EPOLL_CTL_DEL, fd, NULL); }

static unsigned readiness(uint32_t ev)
{
    unsigned r = 0;
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        r |= ACR_READABLE;
    if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR))
        r |= ACR_WRITABLE;
    return r;
}

int acr__poll_wait(acr_loop *l, int64_t ns)
{
    struct epoll_event evs[MAX_EVENTS];
    struct timespec ts = {.tv_sec = ns / ACR_SEC, .tv_nsec = ns % ACR_SEC};
    /* epoll_pwait2 takes nanoseconds; kernels before 5.11 only have milliseconds. */
    int n = epoll_pwait2(l->pollfd, evs, MAX_EVENTS, ns < 0 ? NULL : &ts, NULL);
    if (n < 0 && errno == ENOSYS) {
        int ms = ns < 0 ? -1 : (int)((ns + ACR_MSEC - 1) / ACR_MSEC);
        n = epoll_wait(l->pollfd, evs, MAX_EVENTS, ms);
    }
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    for (int i = 0; i < n; i++)
        acr__io_event(evs[i].data.ptr, readiness(evs[i].events));
    return 0;
}
