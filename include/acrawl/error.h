/* error.h -- acrawl's one error-code space: 0 or negative; -errno for system
 * errors, acrawl's own codes in a range beyond errno (errno stays below 4096). */
#ifndef ACRAWL_ERROR_H
#define ACRAWL_ERROR_H

#define ACR__EBASE (-10000)

/* Runtime */
#define ACR_ETIMEOUT      (ACR__EBASE - 1)  /**< Deadline has elapsed */
#define ACR_ECANCELED     (ACR__EBASE - 2)  /**< The task was cancelled */
#define ACR_ECLOSED       (ACR__EBASE - 3)  /**< Channel or descriptor closed */
#define ACR_ENOSTACK      (ACR__EBASE - 4)  /**< No stack for a new task (memory maps exhausted) */
#define ACR_EEMPTY        (ACR__EBASE - 5)  /**< Nothing left to wait for */
#define ACR_EDEADLOCK     (ACR__EBASE - 6)  /**< Tasks wait, but nothing can ever wake them */
#define ACR_ENOTASK       (ACR__EBASE - 7)  /**< Called outside a task where a task is required */
/* Transport and HTTP */
#define ACR_EBADURL       (ACR__EBASE - 20) /**< Malformed or unsupported URL */
#define ACR_EDNS          (ACR__EBASE - 21) /**< Name resolution failed */
#define ACR_ECONNECT      (ACR__EBASE - 22) /**< Could not connect (unreachable, timed out) */
#define ACR_EREFUSED      (ACR__EBASE - 23) /**< Connection refused */
#define ACR_ERESET        (ACR__EBASE - 24) /**< Connection reset or closed early */
#define ACR_ETLSHANDSHAKE (ACR__EBASE - 25) /**< TLS handshake failed */
#define ACR_ETLSVERIFY    (ACR__EBASE - 26) /**< Certificate verification failed */
#define ACR_EPROTO        (ACR__EBASE - 27) /**< The peer broke the HTTP protocol */
#define ACR_ETOOLARGE     (ACR__EBASE - 28) /**< A size limit was exceeded */
#define ACR_EREDIRLOOP    (ACR__EBASE - 29) /**< Redirect loop or too many redirects */
#define ACR__ELAST        (ACR__EBASE - 30)

/* Short message for any code returned by an acrawl function (0, -errno or ACR_E*).
 * Never NULL; the string is static. */
const char *acr_strerror(int code);

/* Stable machine-readable name for ACR_E* codes ("timeout", "dns", ...); -errno
 * codes map to "system". Used as the record's error kind. */
const char *acr_errname(int code);

#endif
