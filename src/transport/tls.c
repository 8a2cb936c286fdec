/* tls.c -- OpenSSL 3 as a stream layer: a BIO moves records through the stream below,
 * WANT_READ/WANT_WRITE wait on that stream with the caller's deadline; OpenSSL's
 * reasons are kept for the record's message. */
#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acrawl/error.h"
#include "tls.h"
#include "util/alloc.h"

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
    acr_tls_ctx *c = acr_calloc(1, sizeof *c);
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
            return ACR_ETLSCONFIG;
        }
    }
    *out = c;
    return 0;
fail:
    free(c);
    snprintf(err, errlen, "cannot create TLS context");
    return ACR_ETLSCONFIG;
}

void acr_tls_ctx_free(acr_tls_ctx *c)
{
    if (!c)
        return;
    SSL_CTX_free(c->ctx);
    free(c);
}

/* ---- the BIO: OpenSSL's records go through the stream below, never suspending ---- */

/* The TLS layer's state (the stream's ctx once pushed). */
struct tls_layer {
    SSL *ssl;
    acr_stream lower;   /* borrowed during the handshake, owned once pushed */
    int io_rc;          /* the lower stream's error behind an SSL_ERROR_SYSCALL */
    bool eof;           /* the lower stream ended: what BIO_eof() reports */
};

static BIO_METHOD *bio_method;
static pthread_once_t bio_once = PTHREAD_ONCE_INIT;

/* Nothing to read yet is a retry: the layer then waits on the lower stream with the
 * caller's deadline, outside OpenSSL, so that no task suspends inside an SSL call
 * (OpenSSL's error queue is per thread, shared by every task). */
static int bio_read(BIO *b, char *buf, int len)
{
    struct tls_layer *t = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    ssize_t n = acr_stream_read(&t->lower, buf, (size_t)len, ACR_NOWAIT);
    if (n > 0)
        return (int)n;
    if (n == 0)
        t->eof = true;
    else if (n == -EAGAIN)
        BIO_set_retry_read(b);
    else
        t->io_rc = (int)n;
    return n == 0 ? 0 : -1;
}

static int bio_write(BIO *b, const char *buf, int len)
{
    struct tls_layer *t = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    ssize_t n = acr_stream_write_some(&t->lower, buf, (size_t)len, ACR_NOWAIT);
    if (n > 0)
        return (int)n;
    if (n == -EAGAIN)
        BIO_set_retry_write(b);
    else
        t->io_rc = (int)n;
    return -1;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)num;
    (void)ptr;
    struct tls_layer *t = BIO_get_data(b);
    if (cmd == BIO_CTRL_FLUSH)
        return 1; /* writes are never held back */
    if (cmd == BIO_CTRL_EOF)
        return t->eof; /* lets SSL_OP_IGNORE_UNEXPECTED_EOF tell an EOF from an error */
    return 0;
}

static void bio_method_init(void)
{
    int type = BIO_get_new_index();
    BIO_METHOD *m = type < 0 ? NULL : BIO_meth_new(type | BIO_TYPE_SOURCE_SINK, "acrawl stream");
    if (m && BIO_meth_set_read(m, bio_read) && BIO_meth_set_write(m, bio_write) && BIO_meth_set_ctrl(m, bio_ctrl))
        bio_method = m;
    else
        BIO_meth_free(m);
}

/* A layer over s, which it borrows until acr_stream_push() hands it over. */
static int layer_new(struct tls_layer **out, SSL_CTX *ctx, const acr_stream *s)
{
    pthread_once(&bio_once, bio_method_init);
    struct tls_layer *t = acr_calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    t->lower = *s;
    t->ssl = bio_method ? SSL_new(ctx) : NULL;
    BIO *b = t->ssl ? BIO_new(bio_method) : NULL;
    if (!b) {
        SSL_free(t->ssl);
        free(t);
        return ACR_ETLSHANDSHAKE;
    }
    BIO_set_data(b, t);
    BIO_set_init(b, 1);
    SSL_set_bio(t->ssl, b, b); /* one reference for both directions */
    *out = t;
    return 0;
}

/* Frees the layer, leaving the lower stream open. */
static void layer_free(struct tls_layer *t)
{
    SSL_free(t->ssl);
    free(t);
}

/* ---- driving SSL calls ---- */

static void before_call(struct tls_layer *t)
{
    ERR_clear_error();
    t->io_rc = 0;
}

/* After an SSL call that did not complete: parks on the lower stream and says retry
 * (0), or an error (ACR_ECLOSED for the peer's close_notify or a clean EOF). */
static int wait_for_ssl(struct tls_layer *t, int ret, int64_t deadline)
{
    int e = SSL_get_error(t->ssl, ret);
    if (e == SSL_ERROR_WANT_READ)
        return acr_stream_wait(&t->lower, ACR_READABLE, deadline);
    if (e == SSL_ERROR_WANT_WRITE)
        return acr_stream_wait(&t->lower, ACR_WRITABLE, deadline);
    if (e == SSL_ERROR_ZERO_RETURN)
        return ACR_ECLOSED;
    if (e == SSL_ERROR_SYSCALL)
        return t->io_rc ? t->io_rc : ACR_ERESET;
    return ACR_ETLSHANDSHAKE;
}

static int handshake(struct tls_layer *t, int (*step)(SSL *), int64_t deadline)
{
    for (;;) {
        before_call(t);
        int ret = step(t->ssl);
        if (ret == 1)
            return 0;
        int rc = wait_for_ssl(t, ret, deadline);
        if (rc != 0)
            return rc;
    }
}

static int clamp_len(size_t len) { return len > INT32_MAX ? INT32_MAX : (int)len; }

/* ---- the layer's ops ---- */

static ssize_t tls_read(acr_stream *s, void *buf, size_t len, int64_t deadline)
{
    struct tls_layer *t = s->ctx;
    for (;;) {
        before_call(t);
        int n = SSL_read(t->ssl, buf, clamp_len(len));
        if (n > 0)
            return n;
        int rc = wait_for_ssl(t, n, deadline);
        if (rc == ACR_ECLOSED)
            return 0;
        if (rc != 0) {
            ERR_clear_error();
            return rc;
        }
    }
}

/* SSL_MODE_ENABLE_PARTIAL_WRITE: one record at a time; after a WANT_WRITE, the same
 * bytes are offered again, as OpenSSL requires. */
static ssize_t tls_write(acr_stream *s, const void *buf, size_t len, int64_t deadline)
{
    struct tls_layer *t = s->ctx;
    for (;;) {
        before_call(t);
        int n = SSL_write(t->ssl, buf, clamp_len(len));
        if (n > 0)
            return n;
        int rc = wait_for_ssl(t, n, deadline);
        if (rc == ACR_ECLOSED)
            return ACR_ERESET;
        if (rc != 0) {
            ERR_clear_error();
            return rc;
        }
    }
}

static int tls_wait(acr_stream *s, unsigned events, int64_t deadline)
{
    struct tls_layer *t = s->ctx;
    /* Decrypted bytes, or a record read but not yet processed, are inside OpenSSL. */
    if ((events & ACR_READABLE) && (SSL_pending(t->ssl) > 0 || SSL_has_pending(t->ssl)))
        return 0;
    return acr_stream_wait(&t->lower, events, deadline);
}

static int tls_check(acr_stream *s)
{
    struct tls_layer *t = s->ctx;
    int rc = acr_stream_check(&t->lower);
    /* Records on an idle connection may be a session ticket, which the next read
     * consumes: not a reason to drop it. */
    return rc > 0 ? 0 : rc;
}

static void tls_close(acr_stream *s)
{
    struct tls_layer *t = s->ctx;
    /* No close_notify round trip: closing must never suspend. A quiet shutdown
     * still marks the connection closed properly, so its session stays resumable. */
    SSL_set_quiet_shutdown(t->ssl, 1);
    SSL_shutdown(t->ssl);
    SSL_free(t->ssl);
    acr_stream_close(&t->lower);
    free(t);
}

static const acr_stream_ops tls_ops = {
    .name = "tls",
    .read = tls_read,
    .write = tls_write,
    .wait = tls_wait,
    .check = tls_check,
    .close = tls_close,
};

/* ---- pushing the layer ---- */

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

static int client_setup(struct tls_layer *t, acr_tls_ctx *c, const char *host, acr_tls_session_slot *slot)
{
    if (!set_peer_name(t->ssl, host, !c->insecure))
        return 0;
    if (slot) {
        SSL_set_ex_data(t->ssl, slot_idx, slot);
        if (slot->sess)
            SSL_set_session(t->ssl, slot->sess);
    }
    return 1;
}

/* The message and the code for a failed client handshake. */
static int connect_error(struct tls_layer *t, int rc, char *err, size_t errlen)
{
    long vr = SSL_get_verify_result(t->ssl);
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

int acr_tls_connect(acr_tls_ctx *c, acr_stream *s, const char *host, acr_tls_session_slot *slot,
                    int64_t deadline, bool *resumed, char *err, size_t errlen)
{
    struct tls_layer *t;
    int rc = layer_new(&t, c->ctx, s);
    if (rc != 0) {
        ossl_reason(err, errlen, "TLS setup");
        return rc;
    }
    if (!client_setup(t, c, host, slot)) {
        ossl_reason(err, errlen, "TLS host check setup");
        rc = ACR_ETLSHANDSHAKE;
        goto fail;
    }
    rc = handshake(t, SSL_connect, deadline);
    if (rc != 0) {
        rc = connect_error(t, rc, err, errlen);
        goto fail;
    }
    if (resumed)
        *resumed = SSL_session_reused(t->ssl);
    acr_stream_push(s, &tls_ops, t, &t->lower);
    return 0;
fail:
    layer_free(t);
    return rc;
}

int acr_tls_accept(SSL_CTX *ctx, acr_stream *s, int64_t deadline)
{
    struct tls_layer *t;
    int rc = layer_new(&t, ctx, s);
    if (rc != 0)
        return rc;
    rc = handshake(t, SSL_accept, deadline);
    if (rc != 0) {
        ERR_clear_error();
        layer_free(t);
        return rc == ACR_ECLOSED ? ACR_ETLSHANDSHAKE : rc;
    }
    acr_stream_push(s, &tls_ops, t, &t->lower);
    return 0;
}

void acr_tls_session_release(acr_tls_session_slot *slot)
{
    if (slot->sess)
        SSL_SESSION_free(slot->sess);
    slot->sess = NULL;
}

const char *acr_tls_version(void) { return OpenSSL_version(OPENSSL_VERSION); }
