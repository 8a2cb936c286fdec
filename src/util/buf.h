/* buf.h -- private: a growable byte buffer. On allocation
 * failure it records oom and stops growing, so callers check once at the end. */
#ifndef ACR_UTIL_BUF_H
#define ACR_UTIL_BUF_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"

typedef struct acr_buf {
    char *p;
    size_t len, cap;
    bool oom;
} acr_buf;

/* Makes room for extra bytes and a NUL (out of line: the rare path). False on oom. */
bool acr_buf_grow(acr_buf *b, size_t extra);

static inline bool acr_buf_reserve(acr_buf *b, size_t extra)
{
    if (!b->oom && b->len + extra + 1 <= b->cap)
        return true;
    return acr_buf_grow(b, extra);
}

static inline void acr_buf_add(acr_buf *b, const void *s, size_t n)
{
    if (!acr_buf_reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static inline void acr_buf_puts(acr_buf *b, const char *s) { acr_buf_add(b, s, strlen(s)); }
static inline void acr_buf_putc(acr_buf *b, char c) { acr_buf_add(b, &c, 1); }

static inline void acr_buf_release(acr_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

#endif
