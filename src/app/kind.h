/* kind.h -- private: the error kind a record shows for a code (from ACR_ERRNO_MAP). */
#ifndef ACR_APP_KIND_H
#define ACR_APP_KIND_H

/* "ok" for 0, the code's kind from ACR_ERRNO_MAP ("timeout", "bad-url", ...), and
 * "system" for -errno and anything else. Static strings, from a closed set. */
const char *acr_error_kind(int code);

#endif
