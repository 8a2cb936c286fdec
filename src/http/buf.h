/* buf.h -- private: a growable byte buffer for the http modules. On allocation
 * failure it records oom and stops growing, so callers check once at the end. */
#ifndef ACR_HTTP_BUF_H
#define ACR_HTTP_BUF_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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

/* Decimal digits of v into buf (at least 21 bytes); returns the length. Used on
 * the request path instead of snprintf, whose frame would cost a stack page per
 * request in flight. */
static inline size_t acr_utoa(char *buf, unsigned long long v)
{
    char tmp[21];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = 0;
    return n;
}

static inline void acr_buf_release(acr_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

#endif
