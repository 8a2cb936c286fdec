/* url.h -- http/https URLs (RFC 3986): parsing with normalisation (lower-case scheme
 * and host, default port, dot-segments removed, fragment dropped) and resolution of
 * relative references against a base. */
#ifndef ACRAWL_URL_H
#define ACRAWL_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct acr_url {
    char *href;        /* normalised absolute URL, fragment dropped */
    const char *scheme;/* "http" or "https" (static) */
    char *host;        /* lower-case; IPv6 without brackets */
    uint16_t port;     /* explicit or the scheme's default */
    bool tls;
    bool ipv6;         /* host is an IPv6 literal */
    char *target;      /* request target: path and "?query", at least "/" */
    char *origin;      /* "scheme://host:port": the keep-alive pool key */
} acr_url;

/* Parses an absolute http(s) URL. 0 or ACR_EBADURL with a reason in err (if non-NULL,
 * errlen bytes), or -ENOMEM. On success the caller releases u with acr_url_release. */
int acr_url_parse(acr_url *u, const char *s, char *err, size_t errlen);
/* Resolves ref against base (RFC 3986 §5.2) and parses the result, as acr_url_parse. */
int acr_url_resolve(acr_url *u, const acr_url *base, const char *ref, char *err, size_t errlen);
/* Normalises a parsed URL further for deduplication (RFC 3986 §6.2.2, §6.2.3), on top
 * of what acr_url_parse already does (case of scheme and host, default port, fragment,
 * dot-segments, empty path as "/"): percent-escapes get upper-case hex ("%3a" ->
 * "%3A"), escapes of unreserved characters are decoded ("%7E" -> "~"), a "%" that does
 * not start an escape becomes "%25", and dot-segments that decoding uncovers are
 * removed. A trailing dot in the host is kept: "a.b." is not equivalent to "a.b" under
 * RFC 3986 and gives a different Host header and TLS name. Only href and target are
 * replaced (host and origin are already normal). Idempotent, and acr_url_parse of the
 * resulting href gives the same href. The fetcher does not call this: it sends what
 * users gave. 0, or -ENOMEM with u unchanged. */
int acr_url_normalize(acr_url *u);
/* Deep copy; 0 or -ENOMEM. */
int acr_url_copy(acr_url *dst, const acr_url *src);
void acr_url_release(acr_url *u);

#endif
