/* poll.h -- private: the seam between the loop and the OS poller, as redis keeps
 * ae.c apart from ae_epoll.c. poll_epoll.c is the one backend today. */
#ifndef ACR_RUNTIME_POLL_H
#define ACR_RUNTIME_POLL_H

#include <stdint.h>

#include "acrawl/loop.h"

/* Sets up l's poller. 0 or -errno. */
int acr__poll_init(acr_loop *l);
void acr__poll_release(acr_loop *l);
/* Watches fd for both directions, edge-triggered, for its lifetime; events go to
 * acr__io_event(io, …). 0 or -errno (EPERM: a regular file or /dev/null). */
int acr__poll_add(acr_loop *l, int fd, acr_io *io);
/* Stops watching fd (closing fd does this too). */
void acr__poll_del(acr_loop *l, int fd);
/* Waits up to ns nanoseconds (-1: until an event) and reports each event through
 * acr__io_event. 0, or -errno when the poller fails (EINTR counts as 0). */
int acr__poll_wait(acr_loop *l, int64_t ns);

/* io.c: fd's io became readable and/or writable (ACR_READABLE | ACR_WRITABLE). */
void acr__io_event(acr_io *io, unsigned ready);

#endif
