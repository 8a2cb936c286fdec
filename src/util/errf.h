/* errf.h -- private: an error message into the caller's buffer, and the code back. */
#ifndef ACR_UTIL_ERRF_H
#define ACR_UTIL_ERRF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* Formats into err (when it has room) and returns rc, for `return acr__errf(...)`. */
static inline int acr__errf(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static inline int acr__errf(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

#endif
