/* fdio.h -- private: write(2) and pwrite(2) of a whole buffer, for the files acrawl
 * keeps (bodies, WARC, state, spools): short writes and EINTR retried. */
#ifndef ACR_UTIL_FDIO_H
#define ACR_UTIL_FDIO_H

#include <stddef.h>
#include <stdint.h>

/* 0, or -errno (-EIO when the kernel takes nothing). */
int acr__write_all(int fd, const void *p, size_t n);
/* The same at offset off, the file offset left as it is. */
int acr__pwrite_all(int fd, const void *p, size_t n, uint64_t off);

#endif
