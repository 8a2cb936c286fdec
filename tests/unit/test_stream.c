/* test_stream.c -- stream layers: a socket stream and TLS pushed on it answer the same
 * calls (read, write, EOF, the idle check, close), and TLS works over any layer. */
#include <errno.h>
#include <openssl/ssl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "acrawl/sync.h"
#include "fixtures.h"
#include "helpers.h"
#include "transport/tls.h"

#define PAYLOAD (1024 * 1024) /* several socket buffers: writers wait for readers */

static void socket_stream(acr_stream *s, int fd)
{
    *s = (acr_stream){.fd = fd};
    cr_assert_eq(acr_io_open(&s->io, fd), 0);
}

static int pair(acr_stream *s)
{
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    socket_stream(s, sv[0]);
    return sv[1];
}

static int read_full(acr_stream *s, char *buf, size_t len)
{
    for (size_t got = 0; got < len;) {
        ssize_t n = acr_stream_read(s, buf + got, len - got, acr_deadline_in(5 * ACR_SEC));
        if (n <= 0)
            return n < 0 ? (int)n : ACR_ERESET;
        got += (size_t)n;
    }
    return 0;
}

static void pattern(char *buf, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)((i * 31 + seed) & 0xff);
}

/* ---- the socket layer ---- */

static int socket_main(void *arg)
{
    (void)arg;
    acr_stream s;
    int peer = pair(&s);
    char buf[16];
    cr_assert_eq(acr_stream_read(&s, buf, sizeof buf, ACR_NOWAIT), -EAGAIN, "ACR_NOWAIT never parks");
    int64_t t0 = acr_now();
    cr_assert_eq(acr_stream_await(&s, acr_deadline_in(20 * ACR_MSEC)), ACR_ETIMEOUT);
    cr_assert_geq(ms_since(t0), 15);
    cr_assert_eq(acr_stream_write(&s, "ping", 4, acr_deadline_in(ACR_SEC)), 0);
    cr_assert_eq(read(peer, buf, sizeof buf), 4);
    cr_assert_eq(write(peer, "pong", 4), 4);
    cr_assert_eq(acr_stream_await(&s, acr_deadline_in(ACR_SEC)), 0);
    cr_assert_eq(acr_stream_read(&s, buf, sizeof buf, acr_deadline_in(ACR_SEC)), 4);
    cr_assert_eq(memcmp(buf, "pong", 4), 0);
    close(peer);
    cr_assert_eq(acr_stream_read(&s, buf, sizeof buf, acr_deadline_in(ACR_SEC)), 0, "EOF");
    acr_stream_close(&s);
    cr_assert_eq(s.fd, -1);
    acr_stream_close(&s); /* closing twice does nothing */
    return 0;
}

Test(stream, socket_reads_writes_and_ends) { run_in_loop(socket_main, NULL); }

static int socket_check_main(void *arg)
{
    (void)arg;
    acr_stream s;
    int peer = pair(&s);
    cr_assert_eq(acr_stream_check(&s), 0, "quiet");
    cr_assert_eq(write(peer, "x", 1), 1);
    cr_assert_eq(acr_stream_check(&s), 1, "bytes nobody asked for");
    cr_assert(acr_stream_dead(&s), "a plain connection with stray bytes is not reused");
    shutdown(peer, SHUT_WR);
    cr_assert_lt(acr_stream_check(&s), 0, "a FIN behind unread bytes");
    acr_stream_close(&s);
    close(peer);
    return 0;
}

Test(stream, socket_check_tells_quiet_stray_and_closed) { run_in_loop(socket_check_main, NULL); }

/* ---- a pass-through layer that counts, to show TLS needs nothing but the ops ---- */

struct tap {
    acr_stream below;
    size_t in, out;
    bool *closed;
};

static ssize_t tap_read(acr_stream *s, void *buf, size_t len, int64_t deadline)
{
    struct tap *t = s->ctx;
    ssize_t n = acr_stream_read(&t->below, buf, len, deadline);
    t->in += n > 0 ? (size_t)n : 0;
    return n;
}

static ssize_t tap_write(acr_stream *s, const void *buf, size_t len, int64_t deadline)
{
    struct tap *t = s->ctx;
    ssize_t n = acr_stream_write_some(&t->below, buf, len, deadline);
    t->out += n > 0 ? (size_t)n : 0;
    return n;
}

static int tap_wait(acr_stream *s, unsigned events, int64_t deadline)
{
    struct tap *t = s->ctx;
    return acr_stream_wait(&t->below, events, deadline);
}

static int tap_check(acr_stream *s)
{
    struct tap *t = s->ctx;
    return acr_stream_check(&t->below);
}

static void tap_close(acr_stream *s)
{
    struct tap *t = s->ctx;
    acr_stream_close(&t->below);
    *t->closed = true;
}

static const acr_stream_ops tap_ops = {"tap", tap_read, tap_write, tap_wait, tap_check, tap_close};

/* ---- TLS over a socketpair: an echo-like exchange with the test server's certificate ---- */

struct tls_peer {
    int fd;
    SSL_CTX *ctx;
    acr_sem *stray_sent, *may_close, *closed;
    int rc;
};

static SSL_CTX *server_ctx(void)
{
    char cert[256], key[256];
    cert_path(cert, sizeof cert, "good", "pem");
    cert_path(key, sizeof key, "good", "key");
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    cr_assert_not_null(ctx);
    cr_assert_eq(SSL_CTX_use_certificate_chain_file(ctx, cert), 1, "%s", cert);
    cr_assert_eq(SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM), 1);
    return ctx;
}

/* Reads PAYLOAD bytes, answers PAYLOAD others, sends one stray byte, closes when told. */
static int tls_server_main(void *arg)
{
    struct tls_peer *p = arg;
    acr_stream s;
    socket_stream(&s, p->fd);
    char *buf = malloc(PAYLOAD), *want = malloc(PAYLOAD);
    p->rc = acr_tls_accept(p->ctx, &s, acr_deadline_in(5 * ACR_SEC));
    if (p->rc == 0)
        p->rc = read_full(&s, buf, PAYLOAD);
    pattern(want, PAYLOAD, 1);
    if (p->rc == 0 && memcmp(buf, want, PAYLOAD) != 0)
        p->rc = -EBADMSG;
    pattern(buf, PAYLOAD, 2);
    if (p->rc == 0)
        p->rc = acr_stream_write(&s, buf, PAYLOAD, acr_deadline_in(5 * ACR_SEC));
    if (p->rc == 0)
        p->rc = acr_stream_write(&s, "x", 1, acr_deadline_in(ACR_SEC));
    acr_sem_release(p->stray_sent);
    acr_sem_acquire(p->may_close, acr_deadline_in(5 * ACR_SEC));
    acr_stream_close(&s);
    acr_sem_release(p->closed);
    free(buf);
    free(want);
    return 0;
}

struct tls_case {
    bool tap;                   /* TLS over the counting layer, not over the socket */
    acr_tls_session_slot slot;
    bool resumed[2];
};

static void client_exchange(acr_stream *s, struct tls_peer *p)
{
    char *buf = malloc(PAYLOAD), *want = malloc(PAYLOAD);
    pattern(buf, PAYLOAD, 1);
    cr_assert_eq(acr_stream_write(s, buf, PAYLOAD, acr_deadline_in(5 * ACR_SEC)), 0);
    cr_assert_eq(read_full(s, buf, PAYLOAD), 0);
    pattern(want, PAYLOAD, 2);
    cr_assert_eq(memcmp(buf, want, PAYLOAD), 0, "the answer arrives intact");
    cr_assert_eq(acr_sem_acquire(p->stray_sent, acr_deadline_in(5 * ACR_SEC)), 0);
    cr_assert_eq(acr_stream_dead(s), 0, "records on an idle TLS stream may be a ticket: not dead");
    acr_sem_release(p->may_close);
    cr_assert_eq(acr_sem_acquire(p->closed, acr_deadline_in(5 * ACR_SEC)), 0);
    cr_assert(acr_stream_dead(s), "the peer closed: dead, even with a record unread");
    cr_assert_eq(acr_stream_read(s, buf, PAYLOAD, acr_deadline_in(ACR_SEC)), 1);
    cr_assert_eq(buf[0], 'x');
    cr_assert_eq(acr_stream_read(s, buf, PAYLOAD, acr_deadline_in(ACR_SEC)), 0, "EOF, as on a socket");
    free(buf);
    free(want);
}

static void one_connection(struct tls_case *tc, acr_tls_ctx *c, SSL_CTX *sctx, int i)
{
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct tls_peer p = {.fd = sv[1], .ctx = sctx, .stray_sent = acr_sem_new(0), .may_close = acr_sem_new(0),
                         .closed = acr_sem_new(0)};
    acr_task *srv;
    cr_assert_eq(acr_spawn(NULL, &srv, tls_server_main, &p), 0);
    acr_stream s;
    socket_stream(&s, sv[0]);
    struct tap tap = {0};
    bool tap_closed = false;
    tap.closed = &tap_closed;
    if (tc->tap)
        acr_stream_push(&s, &tap_ops, &tap, &tap.below);
    char err[256] = "";
    int rc = acr_tls_connect(c, &s, "localhost", &tc->slot, acr_deadline_in(5 * ACR_SEC), &tc->resumed[i], err,
                             sizeof err);
    cr_assert_eq(rc, 0, "%s (%s)", acr_strerror(rc), err);
    cr_assert_eq(s.fd, sv[0], "fd still names the socket at the bottom");
    client_exchange(&s, &p);
    acr_stream_close(&s);
    cr_assert_eq(acr_task_join(srv, acr_deadline_in(5 * ACR_SEC), NULL), 0);
    acr_task_unref(srv);
    cr_assert_eq(p.rc, 0, "server: %s", acr_strerror(p.rc));
    if (tc->tap) {
        cr_assert(tap_closed, "closing TLS closes the layer below it");
        cr_assert_gt(tap.in, (size_t)PAYLOAD, "ciphertext came up through the layer below");
        cr_assert_gt(tap.out, (size_t)PAYLOAD);
    }
    acr_sem_free(p.stray_sent);
    acr_sem_free(p.may_close);
    acr_sem_free(p.closed);
}

static int tls_main(void *arg)
{
    struct tls_case *tc = arg;
    char ca[256], err[256] = "";
    cert_path(ca, sizeof ca, "ca", "pem");
    acr_tls_ctx *c;
    cr_assert_eq(acr_tls_ctx_new(&c, false, ca, err, sizeof err), 0, "%s", err);
    SSL_CTX *sctx = server_ctx();
    for (int i = 0; i < 2; i++)
        one_connection(tc, c, sctx, i);
    acr_tls_session_release(&tc->slot);
    SSL_CTX_free(sctx);
    acr_tls_ctx_free(c);
    return 0;
}

Test(stream, tls_layer_reads_writes_checks_and_resumes)
{
    struct tls_case tc = {0};
    run_in_loop(tls_main, &tc);
    cr_assert_not(tc.resumed[0]);
    cr_assert(tc.resumed[1], "the second connection resumes the first one's session");
}

Test(stream, tls_runs_over_any_layer_through_its_ops)
{
    struct tls_case tc = {.tap = true};
    run_in_loop(tls_main, &tc);
    cr_assert(tc.resumed[1]);
}

/* A failed handshake leaves the stream as it was: still the caller's, plain. */
static int refused_main(void *arg)
{
    (void)arg;
    acr_stream s;
    int peer = pair(&s);
    close(peer);
    char ca[256], err[256] = "";
    cert_path(ca, sizeof ca, "ca", "pem");
    acr_tls_ctx *c;
    cr_assert_eq(acr_tls_ctx_new(&c, false, ca, err, sizeof err), 0, "%s", err);
    int rc = acr_tls_connect(c, &s, "localhost", NULL, acr_deadline_in(ACR_SEC), NULL, err, sizeof err);
    cr_assert(rc == ACR_ERESET || rc == ACR_ETLSHANDSHAKE, "%s", acr_strerror(rc));
    cr_assert_str_eq(err, "TLS handshake: connection closed by peer");
    cr_assert_null(s.ops, "no layer pushed");
    acr_stream_close(&s);
    acr_tls_ctx_free(c);
    return 0;
}

Test(stream, failed_handshake_leaves_the_stream_plain) { run_in_loop(refused_main, NULL); }
