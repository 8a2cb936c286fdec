/* fmt.h -- private: decimal formatting without stdio, for the request path (snprintf's
 * frame would cost a stack page per request in flight) and for signal handlers
 * (async-signal-safe); and the value of a hex digit, for %-decoding. */
#ifndef ACR_UTIL_FMT_H
#define ACR_UTIL_FMT_H

#include <stddef.h>

/* Decimal digits of v and a NUL into buf (at least 21 bytes); returns the length. */
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

/* 0-15 for a hex digit (either case), else -1. */
static inline int acr_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
