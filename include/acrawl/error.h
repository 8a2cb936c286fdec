/* error.h -- acrawl's one error-code space: 0 or negative; -errno for system
 * errors, acrawl's own codes in a range beyond errno (errno stays below 4096). */
#ifndef ACRAWL_ERROR_H
#define ACRAWL_ERROR_H

#define ACR__EBASE (-10000)

/* acrawl's own codes, one row each, and the one source for all that names them:
 * X(NAME, n, kind, message) defines ACR_<NAME> = ACR__EBASE - n; acr_strerror gives
 * the message and acr_errname the name; `kind` is the error kind a record shows
 * for the code ("system" where no record should ever carry it). README's table of
 * error kinds is checked against this list by tests/unit/test_error.c. */
#define ACR_ERRNO_MAP(X)                                                                             \
    /* Runtime */                                                                                    \
    X(ETIMEOUT, 1, "timeout", "deadline elapsed")                                                    \
    X(ECANCELED, 2, "cancelled", "cancelled")                                                        \
    X(ECLOSED, 3, "system", "channel or descriptor closed")                                          \
    X(ENOSTACK, 4, "system", "no stack for a new task (memory maps exhausted; see vm.max_map_count)") \
    X(EEMPTY, 5, "system", "nothing left to wait for")                                               \
    X(EDEADLOCK, 6, "system", "tasks are waiting but nothing can wake them")                         \
    X(ENOTASK, 7, "system", "must be called from inside a task")                                     \
    /* Transport and HTTP */                                                                         \
    X(EBADURL, 20, "bad-url", "malformed or unsupported URL")                                        \
    X(EDNS, 21, "dns", "name resolution failed")                                                     \
    X(ECONNECT, 22, "connect", "could not connect")                                                  \
    X(EREFUSED, 23, "refused", "connection refused")                                                 \
    X(ERESET, 24, "reset", "connection reset by peer")                                               \
    X(ETLSHANDSHAKE, 25, "tls-handshake", "TLS handshake failed")                                    \
    X(ETLSVERIFY, 26, "tls-verify", "certificate verification failed")                               \
    X(EPROTO, 27, "protocol", "HTTP protocol error")                                                 \
    X(ETOOLARGE, 28, "too-large", "size limit exceeded")                                             \
    X(EREDIRLOOP, 29, "redirect-loop", "redirect loop or too many redirects")                        \
    X(ETLSCONFIG, 30, "system", "TLS set-up failed (CA file or library)")                           \
    /* A shared crawl (--redis) */                                                                   \
    X(EPOISON, 40, "poison", "handed to workers too many times without a result")

enum acr_errno {
#define ACR__ERRNO_ENUM(name, n, kind, msg) ACR_##name = ACR__EBASE - (n),
    ACR_ERRNO_MAP(ACR__ERRNO_ENUM)
#undef ACR__ERRNO_ENUM
};

/* Short message for any code returned by an acrawl function (0, -errno or ACR_E*).
 * Never NULL; the string is static. */
const char *acr_strerror(int code);

/* The code's symbolic name: "ETIMEOUT" for ACR_ETIMEOUT, "ECONNRESET" for
 * -ECONNRESET, "OK" for 0, "EUNKNOWN" otherwise. Static. */
const char *acr_errname(int code);

#endif
