/* tls.h -- private: OpenSSL 3 client (and test-server) TLS as a layer pushed on an
 * acr_stream: verification on by default, SNI, ALPN http/1.1, session resumption
 * per origin. */
#ifndef ACR_TRANSPORT_TLS_H
#define ACR_TRANSPORT_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "stream.h"

typedef struct acr_tls_ctx acr_tls_ctx;
typedef struct ssl_session_st SSL_SESSION;
typedef struct ssl_ctx_st SSL_CTX;

/* Where a new session for an origin is kept (the pool owns one per origin). */
typedef struct acr_tls_session_slot {
    SSL_SESSION *sess;
} acr_tls_session_slot;

/* Client context. insecure skips chain and host checks (-k); cacert replaces the
 * system store. 0 or ACR_ETLSCONFIG with err. */
int acr_tls_ctx_new(acr_tls_ctx **out, bool insecure, const char *cacert, char *err, size_t errlen);
void acr_tls_ctx_free(acr_tls_ctx *c);

/* Client handshake over s, any connected stream: TLS reads and writes through s's
 * ops only. On success a TLS layer is pushed on s (acr_stream_push), so s now
 * carries plaintext and closing s closes both; on failure s is left as it was, the
 * caller's to close. host is checked against the certificate (as an IP address when
 * it parses as one). slot, if non-NULL, resumes and receives sessions.
 * 0, ACR_ETLSVERIFY, ACR_ETLSHANDSHAKE, ACR_ETIMEOUT, ACR_ECANCELED, ACR_ERESET,
 * -ENOMEM, or the lower stream's codes; err gets OpenSSL's reason. *resumed tells
 * whether the session was resumed. */
int acr_tls_connect(acr_tls_ctx *c, acr_stream *s, const char *host, acr_tls_session_slot *slot,
                    int64_t deadline, bool *resumed, char *err, size_t errlen);
/* Server side (test server): handshake with an SSL_CTX the caller built; pushes
 * the layer as acr_tls_connect does. 0, ACR_ETLSHANDSHAKE, ACR_ETIMEOUT,
 * ACR_ECANCELED, ACR_ERESET, -ENOMEM, or the lower stream's codes. */
int acr_tls_accept(SSL_CTX *ctx, acr_stream *s, int64_t deadline);

void acr_tls_session_release(acr_tls_session_slot *slot);

const char *acr_tls_version(void);

#endif
