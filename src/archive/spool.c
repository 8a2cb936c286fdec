/* spool.c -- bytes in memory up to a limit, then in an unlinked temporary file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/spool.h"
#include "util/alloc.h"
#include "util/fdio.h"

void acr_spool_init(acr_spool *s, size_t mem_max)
{
    memset(s, 0, sizeof *s);
    s->mem_max = mem_max;
    s->fd = -1;
}

/* A file nobody else can open: O_TMPFILE where the file system has it, else a
 * mkstemp name removed at once. */
static int open_tmp(void)
{
    const char *dir = getenv("TMPDIR");
    if (dir == NULL || dir[0] == 0)
        dir = "/tmp";
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/acrawl-spool-XXXXXX", dir);
    if (n < 0 || (size_t)n >= sizeof path)
        return -ENAMETOOLONG;
    fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0)
        return -errno;
    unlink(path);
    return fd;
}

static int spill(acr_spool *s)
{
    int fd = open_tmp();
    if (fd < 0)
        return fd;
    int rc = acr__write_all(fd, s->mem, s->len);
    if (rc < 0) {
        close(fd);
        return rc;
    }
    free(s->mem);
    s->mem = NULL;
    s->len = 0;
    s->cap = 0;
    s->fd = fd;
    return 0;
}

static int grow(acr_spool *s, size_t need)
{
    size_t cap = s->cap ? s->cap : 4096;
    while (cap < need)
        cap *= 2;
    if (cap > s->mem_max)
        cap = s->mem_max;
    char *p = acr_realloc(s->mem, cap);
    if (p == NULL)
        return -ENOMEM;
    s->mem = p;
    s->cap = cap;
    return 0;
}

static int add(acr_spool *s, const void *p, size_t n)
{
    if (s->fd < 0 && n > s->mem_max - s->len) {
        int rc = spill(s);
        if (rc < 0)
            return rc;
    }
    if (s->fd >= 0)
        return acr__write_all(s->fd, p, n);
    if (s->len + n > s->cap) {
        int rc = grow(s, s->len + n);
        if (rc < 0)
            return rc;
    }
    memcpy(s->mem + s->len, p, n);
    s->len += n;
    return 0;
}

int acr_spool_add(acr_spool *s, const void *p, size_t n)
{
    if (s->err)
        return s->err;
    if (n == 0)
        return 0;
    int rc = add(s, p, n);
    if (rc < 0) {
        s->err = rc;
        return rc;
    }
    s->size += n;
    return 0;
}

void acr_spool_clear(acr_spool *s)
{
    s->len = 0;
    s->size = 0;
    if (s->fd < 0)
        return;
    /* A file that cannot shrink is replaced by memory again, as new. */
    if (ftruncate(s->fd, 0) < 0 || lseek(s->fd, 0, SEEK_SET) < 0) {
        close(s->fd);
        s->fd = -1;
    }
}

static int each_file(const acr_spool *s, acr_spool_fn *fn, void *arg, char *scratch, size_t scratchlen)
{
    uint64_t off = 0;
    while (off < s->size) {
        size_t want = scratchlen;
        if (s->size - off < want)
            want = (size_t)(s->size - off);
        ssize_t k = pread(s->fd, scratch, want, (off_t)off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -errno;
        if (k == 0)
            return -EIO;
        int rc = fn(arg, scratch, (size_t)k);
        if (rc != 0)
            return rc;
        off += (uint64_t)k;
    }
    return 0;
}

int acr_spool_each(const acr_spool *s, acr_spool_fn *fn, void *arg, char *scratch, size_t scratchlen)
{
    if (s->err)
        return s->err;
    if (s->fd >= 0)
        return each_file(s, fn, arg, scratch, scratchlen);
    if (s->len == 0)
        return 0;
    return fn(arg, s->mem, s->len);
}

void acr_spool_release(acr_spool *s)
{
    free(s->mem);
    if (s->fd >= 0)
        close(s->fd);
    acr_spool_init(s, s->mem_max);
}
