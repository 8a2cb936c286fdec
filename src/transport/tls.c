/* tls.c -- OpenSSL 3 over acr_stream. WANT_READ/WANT_WRITE park on the descriptor
 * with the caller's deadline; OpenSSL's reasons are kept for the record's message. */
#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acrawl/error.h"
#include "tls.h"

struct acr_tls_ctx {
    SSL_CTX *ctx;
    bool insecure;
};

static int slot_idx = -1; /* SSL ex-data index of the session slot */

static int new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
    acr_tls_session_slot *slot = SSL_get_ex_data(ssl, slot_idx);
    if (!slot)
        return 0;
    if (slot->sess)
        SSL_SESSION_free(slot->sess);
    slot->sess = sess;
    return 1; /* we keep the reference */
}

static void ossl_reason(char *err, size_t errlen, const char *what)
{
    unsigned long e = ERR_peek_last_error();
    char buf[256] = "";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;
    snprintf(err, errlen, "%s: %s", what, reason ? reason : (e ? buf : "connection closed"));
}

int acr_tls_ctx_new(acr_tls_ctx **out, bool insecure, const char *cacert, char *err, size_t errlen)
{
    acr_tls_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    if (slot_idx < 0)
        slot_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    c->ctx = SSL_CTX_new(TLS_client_method());
    if (!c->ctx)
        goto fail;
    c->insecure = insecure;
    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(c->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    /* RELEASE_BUFFERS: an idle keep-alive connection gives back its 34 KiB of record buffers. */
    SSL_CTX_set_mode(c->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                 SSL_MODE_RELEASE_BUFFERS);
    static const unsigned char alpn[] = "\x08http/1.1";
    SSL_CTX_set_alpn_protos(c->ctx, alpn, sizeof alpn - 1);
    SSL_CTX_set_session_cache_mode(c->ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(c->ctx, new_session_cb);
    if (insecure) {
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
    } else {
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
        int ok = cacert ? SSL_CTX_load_verify_locations(c->ctx, cacert, NULL)
                        : SSL_CTX_set_default_verify_paths(c->ctx);
        if (!ok) {
            ossl_reason(err, errlen, cacert ? "cannot load CA file" : "cannot load the system CA store");
            SSL_CTX_free(c->ctx);
            free(c);
            return ACR_ETLSHANDSHAKE;
        }
    }
    *out = c;
    return 0;
fail:
    free(c);
    snprintf(err, errlen, "cannot create TLS context");
    return ACR_ETLSHANDSHAKE;
}

void acr_tls_ctx_free(acr_tls_ctx *c)
{
    if (!c)
        return;
    SSL_CTX_free(c->ctx);
    free(c);
}

/* Drives one SSL call: returns its result (> 0), or parks and says retry (0), or an error. */
static int wait_for_ssl(acr_stream *s, int ret, int64_t deadline)
{
    int e = SSL_get_error(s->ssl, ret);
    if (e == SSL_ERROR_WANT_READ)
        return acr_io_wait(s->io, ACR_READABLE, deadline);
    if (e == SSL_ERROR_WANT_WRITE)
        return acr_io_wait(s->io, ACR_WRITABLE, deadline);
    if (e == SSL_ERROR_ZERO_RETURN)
        return ACR_ECLOSED;
    if (e == SSL_ERROR_SYSCALL)
        return errno == ECONNRESET || errno == EPIPE || errno == 0 ? ACR_ERESET : -errno;
    return ACR_ETLSHANDSHAKE;
}

/* SNI for names, never for addresses (RFC 6066 §3); with verify, the certificate
 * must also match the name or the address. 1 on success. */
static int set_peer_name(SSL *ssl, const char *host, bool verify)
{
    unsigned char buf[sizeof(struct in6_addr)];
    bool is_ip = inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
    if (!is_ip)
        SSL_set_tlsext_host_name(ssl, host);
    if (!verify)
        return 1;
    if (is_ip)
        return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    return SSL_set1_host(ssl, host);
}

int acr_tls_connect(acr_tls_ctx *c, acr_stream *s, const char *host, acr_tls_session_slot *slot,
                    int64_t deadline, bool *resumed, char *err, size_t errlen)
{
    s->ssl = SSL_new(c->ctx);
    if (!s->ssl || !SSL_set_fd(s->ssl, s->fd)) {
        ossl_reason(err, errlen, "TLS setup");
        return ACR_ETLSHANDSHAKE;
    }
    if (!set_peer_name(s->ssl, host, !c->insecure)) {
        ossl_reason(err, errlen, "TLS host check setup");
        return ACR_ETLSHANDSHAKE;
    }
    if (slot) {
        SSL_set_ex_data(s->ssl, slot_idx, slot);
        if (slot->sess)
            SSL_set_session(s->ssl, slot->sess);
    }
    for (;;) {
        ERR_clear_error();
        int ret = SSL_connect(s->ssl);
        if (ret == 1)
            break;
        int rc = wait_for_ssl(s, ret, deadline);
        if (rc == 0)
            continue;
        long vr = SSL_get_verify_result(s->ssl);
        if (rc == ACR_ETLSHANDSHAKE && vr != X509_V_OK) {
            snprintf(err, errlen, "certificate verify failed: %s", X509_verify_cert_error_string(vr));
            ERR_clear_error();
            return ACR_ETLSVERIFY;
        }
        if (rc == ACR_ETLSHANDSHAKE)
            ossl_reason(err, errlen, "TLS handshake failed");
        else if (rc == ACR_ERESET || rc == ACR_ECLOSED)
            snprintf(err, errlen, "TLS handshake: connection closed by peer");
        return rc == ACR_ECLOSED ? ACR_ETLSHANDSHAKE : rc;
    }
    if (resumed)
        *resumed = SSL_session_reused(s->ssl);
    return 0;
}

int acr_tls_accept(SSL_CTX *ctx, acr_stream *s, int64_t deadline)
{
    s->ssl = SSL_new(ctx);
    if (!s->ssl || !SSL_set_fd(s->ssl, s->fd))
        return ACR_ETLSHANDSHAKE;
    for (;;) {
        ERR_clear_error();
        int ret = SSL_accept(s->ssl);
        if (ret == 1)
            return 0;
        int rc = wait_for_ssl(s, ret, deadline);
        if (rc != 0) {
            ERR_clear_error();
            return rc == ACR_ECLOSED ? ACR_ETLSHANDSHAKE : rc;
        }
    }
}

ssize_t acr_tls_read(acr_stream *s, void *buf, size_t len, int64_t deadline)
{
    for (;;) {
        ERR_clear_error();
        int n = SSL_read(s->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
        if (n > 0)
            return n;
        int rc = wait_for_ssl(s, n, deadline);
        if (rc == ACR_ECLOSED)
            return 0;
        if (rc != 0) {
            ERR_clear_error();
            return rc;
        }
    }
}

int acr_tls_write(acr_stream *s, const void *buf, size_t len, int64_t deadline)
{
    const char *p = buf;
    while (len > 0) {
        ERR_clear_error();
        int n = SSL_write(s->ssl, p, len > INT32_MAX ? INT32_MAX : (int)len);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        int rc = wait_for_ssl(s, n, deadline);
        if (rc == ACR_ECLOSED)
            return ACR_ERESET;
        if (rc != 0) {
            ERR_clear_error();
            return rc;
        }
    }
    return 0;
}

int acr_tls_pending(const acr_stream *s) { return SSL_pending(s->ssl) > 0 || SSL_has_pending(s->ssl); }

void acr_tls_free(acr_stream *s)
{
    /* No close_notify round trip: closing must never suspend. A quiet shutdown
     * still marks the connection closed properly, so its session stays resumable. */
    SSL_set_quiet_shutdown(s->ssl, 1);
    SSL_shutdown(s->ssl);
    SSL_free(s->ssl);
    s->ssl = NULL;
}

void acr_tls_session_release(acr_tls_session_slot *slot)
{
    if (slot->sess)
        SSL_SESSION_free(slot->sess);
    slot->sess = NULL;
}

const char *acr_tls_version(void) { return OpenSSL_version(OPENSSL_VERSION); }
