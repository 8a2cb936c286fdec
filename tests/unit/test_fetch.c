/* test_fetch.c -- the HTTP client end to end against the test server, real TLS
 * certificates and dnsmasq: every route and error kind, each under a deadline. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "acrawl/http.h"
#include "app/kind.h"
#include "util/buf.h"
#include "fixtures.h"
#include "helpers.h"

static struct server srv;

static void setup(void) { server_start(&srv); }
static void teardown(void) { server_stop(&srv); }

TestSuite(fetch, .init = setup, .fini = teardown, .timeout = 30);

/* One fetch on a fresh loop and client. */
struct one {
    acr_client_opts o;
    acr_request rq;
    int64_t timeout;
    acr_response r;
    acr_client_stats st;
    int64_t elapsed;
};

static int one_main(void *arg)
{
    struct one *x = arg;
    acr_client *c;
    char err[256];
    int rc = acr_client_new(&c, &x->o, err, sizeof err);
    cr_assert_eq(rc, 0, "client: %s", err);
    int64_t t0 = acr_now();
    acr_fetch(c, &x->rq, acr_deadline_in(x->timeout ? x->timeout : 5 * ACR_SEC), &x->r);
    x->elapsed = acr_now() - t0;
    acr_client_stats_get(c, &x->st);
    acr_client_free(c);
    return 0;
}

static char urlbuf[8][512];
static const char *url(int slot, const char *fmt, int port)
{
    snprintf(urlbuf[slot], sizeof urlbuf[slot], fmt, port);
    return urlbuf[slot];
}

static void fetch_one(struct one *x) { run_in_loop(one_main, x); }

#define EXPECT_KIND(x, kind)                                                                            \
    cr_assert_str_eq(acr_error_kind((x)->r.error), kind, "error %d (%s): %s", (x)->r.error,                \
                     acr_errname((x)->r.error), (x)->r.message)

Test(fetch, ok_response_with_timings)
{
    struct one x = {.rq.url = url(0, "http://127.0.0.1:%d/ok", srv.http), .rq.keep_body = true};
    fetch_one(&x);
    cr_assert_eq(x.r.error, 0, "%s", x.r.message);
    cr_assert_eq(x.r.status, 200);
    cr_assert_str_eq(x.r.body, "ok\n");
    cr_assert_eq(x.r.body_bytes, 3);
    cr_assert_str_eq(acr_headers_get(&x.r.headers, "server"), "acrawl-testserver");
    cr_assert(x.r.t.connect > 0 && x.r.t.ttfb >= x.r.t.connect && x.r.t.total >= x.r.t.ttfb);
    cr_assert_str_eq(x.r.final_url, urlbuf[0]);
    acr_response_release(&x.r);
}

Test(fetch, http_errors_are_responses_not_failures)
{
    int codes[] = {404, 500, 503};
    for (int i = 0; i < 3; i++) {
        char u[128];
        snprintf(u, sizeof u, "http://127.0.0.1:%d/status/%d", srv.http, codes[i]);
        struct one x = {.rq.url = u};
        fetch_one(&x);
        cr_assert_eq(x.r.error, 0);
        cr_assert_eq(x.r.status, codes[i]);
        acr_response_release(&x.r);
    }
}

Test(fetch, content_length_and_chunked_bodies)
{
    struct one x = {.rq.url = url(0, "http://127.0.0.1:%d/bytes/100000", srv.http)};
    fetch_one(&x);
    cr_assert_eq(x.r.body_bytes, 100000);
    acr_response_release(&x.r);
    struct one y = {.rq.url = url(1, "http://127.0.0.1:%d/chunked/2500", srv.http), .rq.keep_body = true};
    fetch_one(&y);
    cr_assert_eq(y.r.error, 0, "%s", y.r.message);
    cr_assert_eq(y.r.body_bytes, 2500);
    cr_assert_eq(strspn(y.r.body, "c"), 2500);
    acr_response_release(&y.r);
}

Test(fetch, gzip_and_deflate_decoded_when_asked)
{
    const char *paths[] = {"gzip", "deflate", "rawdeflate"};
    for (int i = 0; i < 3; i++) {
        char u[128];
        snprintf(u, sizeof u, "http://127.0.0.1:%d/%s/10000", srv.http, paths[i]);
        struct one x = {.rq.url = u, .rq.decode = true, .rq.keep_body = true};
        fetch_one(&x);
        cr_assert_eq(x.r.error, 0, "%s: %s", paths[i], x.r.message);
        cr_assert_eq(x.r.body_bytes, 10000, "%s", paths[i]);
        cr_assert_lt(x.r.raw_bytes, 1000, "%s raw %llu", paths[i], (unsigned long long)x.r.raw_bytes);
        cr_assert(!strncmp(x.r.body, "the quick brown fox ", 20));
        acr_response_release(&x.r);
        struct one y = {.rq.url = u};
        fetch_one(&y);
        cr_assert_eq(y.r.body_bytes, y.r.raw_bytes, "undecoded without --compressed");
        acr_response_release(&y.r);
    }
}

Test(fetch, request_headers_defaults_and_custom)
{
    acr_header h[] = {{"X-Test", "yes"}, {"Accept", "text/html"}};
    static const char body[] = "hello=world";
    struct one x = {.rq.url = url(0, "http://127.0.0.1:%d/headers", srv.http), .rq.keep_body = true,
                    .rq.decode = true, .rq.headers = h, .rq.nheaders = 2, .rq.method = "PUT",
                    .rq.body = body, .rq.body_len = strlen(body)};
    fetch_one(&x);
    cr_assert_eq(x.r.status, 200);
    const char *b = x.r.body;
    cr_assert(strstr(b, "\"method\":\"PUT\""), "%s", b);
    cr_assert(strstr(b, "\"body_length\":11"), "%s", b);
    cr_assert(strstr(b, "\"User-Agent\":\"acrawl/" ACRAWL_VERSION "\""), "%s", b);
    cr_assert(strstr(b, "\"Accept-Encoding\":\"gzip, deflate\""), "%s", b);
    cr_assert(strstr(b, "\"X-Test\":\"yes\""), "%s", b);
    cr_assert(strstr(b, "\"Accept\":\"text/html\""), "%s", b);
    cr_assert_null(strstr(b, "*/*"), "custom Accept replaces the default: %s", b);
    acr_response_release(&x.r);
}

Test(fetch, header_injection_refused)
{
    acr_header h[] = {{"X-Evil", "a\r\nInjected: 1"}};
    struct one x = {.rq.url = url(0, "http://127.0.0.1:%d/headers", srv.http), .rq.headers = h, .rq.nheaders = 1};
    fetch_one(&x);
    EXPECT_KIND(&x, "protocol");
    acr_response_release(&x.r);
}

Test(fetch, informational_responses_skipped)
{
    struct one x = {.rq.url = url(0, "http://127.0.0.1:%d/1xx", srv.http), .rq.keep_body = true};
    fetch_one(&x);
    cr_assert_eq(x.r.status, 200);
    cr_assert_str_eq(x.r.body, "after 1xx\n");
    cr_assert_null(acr_headers_get(&x.r.headers, "Link"), "1xx headers are dropped");
    acr_response_release(&x.r);
}

/* Several requests on one client: HEAD, 204 and 304 carry no body and leave the
 * connection reusable. */
struct seq {
    const char *urls[8];
    const char *methods[8];
    int n;
    int status[8];
    uint64_t bytes[8];
    acr_client_stats st;
};

static int seq_main(void *arg)
{
    struct seq *s = arg;
    acr_client *c;
    acr_client_opts o = {0};
    char err[128];
    acr_client_new(&c, &o, err, sizeof err);
    for (int i = 0; i < s->n; i++) {
        acr_request rq = {.url = s->urls[i], .method = s->methods[i]};
        acr_response r;
        acr_fetch(c, &rq, acr_deadline_in(5 * ACR_SEC), &r);
        cr_assert_eq(r.error, 0, "%s: %s", s->urls[i], r.message);
        s->status[i] = r.status;
        s->bytes[i] = r.body_bytes;
        acr_response_release(&r);
    }
    acr_client_stats_get(c, &s->st);
    acr_client_free(c);
    return 0;
}

Test(fetch, bodyless_responses_keep_the_connection)
{
    struct seq s = {.n = 4};
    s.urls[0] = url(0, "http://127.0.0.1:%d/bytes/1000", srv.http);
    s.methods[0] = "HEAD";
    s.urls[1] = url(1, "http://127.0.0.1:%d/status/204", srv.http);
    s.urls[2] = url(2, "http://127.0.0.1:%d/status/304", srv.http);
    s.urls[3] = url(3, "http://127.0.0.1:%d/bytes/10", srv.http);
    run_in_loop(seq_main, &s);
    int want[] = {200, 204, 304, 200};
    uint64_t bytes[] = {0, 0, 0, 10};
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(s.status[i], want[i]);
        cr_assert_eq(s.bytes[i], bytes[i]);
    }
    cr_assert_eq(s.st.connections, 1, "one keep-alive connection, got %llu", (unsigned long long)s.st.connections);
    cr_assert_eq(s.st.reused, 3);
}

Test(fetch, stale_pooled_connection_is_retried_once_when_idempotent)
{
    struct seq s = {.n = 2};
    s.urls[0] = url(0, "http://127.0.0.1:%d/close-after", srv.http);
    s.urls[1] = url(1, "http://127.0.0.1:%d/ok", srv.http);
    run_in_loop(seq_main, &s);
    cr_assert_eq(s.status[1], 200);
    cr_assert_eq(s.st.connections, 2, "the retry opened a fresh connection");
}

Test(fetch, half_closed_pooled_connection_is_not_waited_on)
{
    struct seq s = {.n = 3};
    for (int i = 0; i < s.n; i++)
        s.urls[i] = url(i, "http://127.0.0.1:%d/halfclose", srv.http);
    int64_t t0 = acr_now();
    run_in_loop(seq_main, &s); /* 5 s deadline per fetch; seq_main asserts no error */
    cr_assert_lt(ms_since(t0), 1000, "took %lld ms", (long long)ms_since(t0));
    for (int i = 0; i < s.n; i++)
        cr_assert_eq(s.status[i], 200);
    cr_assert_eq(s.st.connections, 3, "each FIN'd connection is replaced");
}

static int post_after_close_main(void *arg)
{
    (void)arg;
    acr_client *c;
    acr_client_opts o = {0};
    char err[128];
    acr_client_new(&c, &o, err, sizeof err);
    acr_request a = {.url = url(0, "http://127.0.0.1:%d/close-after", srv.http)};
    acr_response r;
    acr_fetch(c, &a, acr_deadline_in(5 * ACR_SEC), &r);
    acr_response_release(&r);
    acr_request b = {.url = url(1, "http://127.0.0.1:%d/headers", srv.http), .method = "POST", .body = "x", .body_len = 1};
    acr_fetch(c, &b, acr_deadline_in(5 * ACR_SEC), &r);
    int rc = r.error;
    cr_assert_eq(r.retries, 0);
    acr_response_release(&r);
    acr_client_free(c);
    return rc;
}

Test(fetch, post_is_not_retried_on_a_stale_connection)
{
    cr_assert_eq(run_in_loop(post_after_close_main, NULL), ACR_ERESET);
}

/* The pooled connection passes the liveness check, then is reset while the
 * request head (16 MB, more than both socket buffers) is still being written: the
 * server cannot have acted on a request it never fully got, so even a POST goes
 * again, once, on a fresh connection. */
static int post_unsent_main(void *arg)
{
    (void)arg;
    acr_client *c;
    acr_client_opts o = {0};
    char err[128];
    acr_client_new(&c, &o, err, sizeof err);
    acr_request a = {.url = url(0, "http://127.0.0.1:%d/reset-idle", srv.http)};
    acr_response r;
    acr_fetch(c, &a, acr_deadline_in(5 * ACR_SEC), &r);
    cr_assert_eq(r.status, 200, "%s", r.message);
    acr_response_release(&r);
    size_t big = 16u << 20;
    char *v = malloc(big + 1);
    memset(v, 'v', big);
    v[big] = 0;
    acr_header h = {.name = "X-Big", .value = v};
    acr_request b = {.url = url(1, "http://127.0.0.1:%d/ok", srv.http), .method = "POST", .body = "x",
                     .body_len = 1, .headers = &h, .nheaders = 1};
    acr_fetch(c, &b, acr_deadline_in(10 * ACR_SEC), &r);
    cr_assert_eq(r.error, 0, "%s: %s", acr_errname(r.error), r.message);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.retries, 1);
    acr_response_release(&r);
    free(v);
    acr_client_free(c);
    return 0;
}

Test(fetch, post_is_retried_when_its_head_never_left) { run_in_loop(post_unsent_main, NULL); }

Test(fetch, redirects_followed_with_chain)
{
    struct one x = {.rq.url = url(0, "http://127.0.0.1:%d/redirect/3", srv.http), .rq.follow = true};
    fetch_one(&x);
    cr_assert_eq(x.r.error, 0, "%s", x.r.message);
    cr_assert_eq(x.r.status, 200);
    cr_assert_eq(x.r.redirects, 3);
    cr_assert_eq(x.r.nchain, 3);
    cr_assert(strstr(x.r.chain[1], "/redirect/2"));
    cr_assert(strstr(x.r.final_url, "/ok"));
    acr_response_release(&x.r);
    struct one y = {.rq.url = urlbuf[0]};
    fetch_one(&y);
    cr_assert_eq(y.r.status, 302, "not followed without -L");
    acr_response_release(&y.r);
}

Test(fetch, redirect_loop_and_limit)
{
    struct one x = {.rq.url = url(0, "http://127.0.0.1:%d/loop", srv.http), .rq.follow = true};
    fetch_one(&x);
    EXPECT_KIND(&x, "redirect-loop");
    cr_assert(strstr(x.r.message, "loop"));
    acr_response_release(&x.r);
    struct one y = {.rq.url = url(1, "http://127.0.0.1:%d/redirect/20", srv.http), .rq.follow = true,
                    .rq.max_redirs = 5};
    fetch_one(&y);
    EXPECT_KIND(&y, "redirect-loop");
    cr_assert(strstr(y.r.message, "too many redirects"), "%s", y.r.message);
    acr_response_release(&y.r);
}

static void method_after(int status, const char *method, const char *want_method, int want_len)
{
    char u[256];
    snprintf(u, sizeof u, "http://127.0.0.1:%d/redirect-to?url=../headers&status=%d", srv.http, status);
    struct one x = {.rq.url = u, .rq.follow = true, .rq.method = method, .rq.body = "abc", .rq.body_len = 3,
                    .rq.keep_body = true};
    fetch_one(&x);
    cr_assert_eq(x.r.status, 200, "%d: %s", status, x.r.message);
    char m[64], l[64];
    snprintf(m, sizeof m, "\"method\":\"%s\"", want_method);
    snprintf(l, sizeof l, "\"body_length\":%d", want_len);
    cr_assert(strstr(x.r.body, m), "%d %s: %s", status, method, x.r.body);
    cr_assert(strstr(x.r.body, l), "%d %s: %s", status, method, x.r.body);
    acr_response_release(&x.r);
}

Test(fetch, redirect_method_rules)
{
    method_after(303, "POST", "GET", 0);
    method_after(303, "PUT", "GET", 0);
    method_after(301, "POST", "GET", 0);
    method_after(302, "POST", "GET", 0);
    method_after(307, "POST", "POST", 3);
    method_after(308, "PUT", "PUT", 3);
}

Test(fetch, credentials_not_forwarded_to_another_origin)
{
    acr_header h[] = {{"Authorization", "Bearer secret"}, {"X-Keep", "1"}};
    char u[256];
    snprintf(u, sizeof u, "http://127.0.0.1:%d/redirect-to?url=http://localhost:%d/headers", srv.http, srv.http);
    struct one x = {.rq.url = u, .rq.follow = true, .rq.headers = h, .rq.nheaders = 2, .rq.keep_body = true};
    fetch_one(&x);
    cr_assert_eq(x.r.status, 200, "%s", x.r.message);
    cr_assert_null(strstr(x.r.body, "secret"), "%s", x.r.body);
    cr_assert(strstr(x.r.body, "X-Keep"));
    acr_response_release(&x.r);
}

Test(fetch, size_limits_are_too_large)
{
    struct one a = {.rq.url = url(0, "http://127.0.0.1:%d/huge-headers", srv.http)};
    fetch_one(&a);
    EXPECT_KIND(&a, "too-large");
    cr_assert(strstr(a.r.message, "headers exceed 65536"), "%s", a.r.message);
    acr_response_release(&a.r);
    struct one b = {.rq.url = urlbuf[0], .o.max_header_bytes = 256 * 1024};
    fetch_one(&b);
    cr_assert_eq(b.r.status, 200, "a raised header limit admits it: %s", b.r.message);
    acr_response_release(&b.r);
    struct one c = {.rq.url = url(1, "http://127.0.0.1:%d/bytes/100000", srv.http), .o.max_body_bytes = 1000};
    fetch_one(&c);
    EXPECT_KIND(&c, "too-large");
    acr_response_release(&c.r);
    struct one d = {.rq.url = url(2, "http://127.0.0.1:%d/bomb/50", srv.http), .rq.decode = true};
    fetch_one(&d);
    EXPECT_KIND(&d, "too-large");
    cr_assert(strstr(d.r.message, "decompression ratio"), "%s", d.r.message);
    acr_response_release(&d.r);
}

Test(fetch, network_failures_have_kinds)
{
    struct {
        const char *path;
        const char *kind;
        const char *msg;
    } cases[] = {
        {"/reset", "reset", "reset"},
        {"/truncate", "reset", "closed before the response was complete"},
        {"/garbage", "protocol", "invalid HTTP response"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char u[128];
        snprintf(u, sizeof u, "http://127.0.0.1:%d%s", srv.http, cases[i].path);
        struct one x = {.rq.url = u};
        fetch_one(&x);
        EXPECT_KIND(&x, cases[i].kind);
        cr_assert(strstr(x.r.message, cases[i].msg), "%s: %s", cases[i].path, x.r.message);
        acr_response_release(&x.r);
    }
    char u[128];
    snprintf(u, sizeof u, "http://127.0.0.1:%d/", free_port(SOCK_STREAM));
    struct one r = {.rq.url = u};
    fetch_one(&r);
    EXPECT_KIND(&r, "refused");
    cr_assert(strstr(r.r.message, "Connection refused"), "%s", r.r.message);
    acr_response_release(&r.r);
    struct one b = {.rq.url = "http://exa mple.com/"};
    fetch_one(&b);
    EXPECT_KIND(&b, "bad-url");
    acr_response_release(&b.r);
}

Test(fetch, stall_and_drip_hit_the_deadline)
{
    struct one x = {.rq.url = url(0, "http://127.0.0.1:%d/stall", srv.http), .timeout = 200 * ACR_MSEC};
    fetch_one(&x);
    EXPECT_KIND(&x, "timeout");
    cr_assert(x.elapsed >= 190 * ACR_MSEC && x.elapsed < 600 * ACR_MSEC, "%lld ms", (long long)(x.elapsed / ACR_MSEC));
    acr_response_release(&x.r);
    struct one d = {.rq.url = url(1, "http://127.0.0.1:%d/drip?n=20&ms=50", srv.http), .timeout = 300 * ACR_MSEC};
    fetch_one(&d);
    EXPECT_KIND(&d, "timeout");
    cr_assert(strstr(d.r.message, "while receiving"), "%s", d.r.message);
    acr_response_release(&d.r);
    struct one ok = {.rq.url = url(2, "http://127.0.0.1:%d/drip?n=5&ms=10", srv.http), .timeout = 2 * ACR_SEC};
    fetch_one(&ok);
    cr_assert_eq(ok.r.body_bytes, 5);
    acr_response_release(&ok.r);
}

Test(fetch, connect_timeout_is_its_own_kind)
{
    int fill[4];
    int lfd = stalled_listener(AF_INET, 0, fill, 4);
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    getsockname(lfd, (struct sockaddr *)&a, &len);
    struct one x = {.rq.url = url(0, "http://127.0.0.1:%d/", ntohs(a.sin_port)), .o.connect_timeout = 200 * ACR_MSEC};
    fetch_one(&x);
    EXPECT_KIND(&x, "connect");
    cr_assert(strstr(x.r.message, "timed out"), "%s", x.r.message);
    cr_assert(x.elapsed < ACR_SEC);
    acr_response_release(&x.r);
    for (int i = 0; i < 4; i++)
        close(fill[i]);
    close(lfd);
}

Test(fetch, happy_eyeballs_falls_back_to_ipv4_after_the_stagger)
{
    int fill[4];
    int lfd = stalled_listener(AF_INET6, srv.http, fill, 4); /* [::1]:port hangs */
    char rs[128];
    snprintf(rs, sizeof rs, "dual.test:%d:[::1],127.0.0.1", srv.http);
    const char *resolve[] = {rs};
    struct one x = {.rq.url = url(0, "http://dual.test:%d/ok", srv.http), .o.resolve = resolve, .o.nresolve = 1};
    fetch_one(&x);
    cr_assert_eq(x.r.status, 200, "%s", x.r.message);
    cr_assert(x.r.t.connect >= 240 * ACR_MSEC && x.r.t.connect < 1500 * ACR_MSEC, "connect took %lld ms",
              (long long)(x.r.t.connect / ACR_MSEC));
    acr_response_release(&x.r);
    for (int i = 0; i < 4; i++)
        close(fill[i]);
    close(lfd);
    /* A refused IPv6 address falls through at once, not after 250 ms. */
    snprintf(rs, sizeof rs, "dual.test:%d:[::1],127.0.0.1", srv.http);
    struct one y = {.rq.url = urlbuf[0], .o.resolve = resolve, .o.nresolve = 1};
    fetch_one(&y);
    cr_assert_eq(y.r.status, 200, "%s", y.r.message);
    cr_assert(y.r.t.connect < 200 * ACR_MSEC, "connect took %lld ms", (long long)(y.r.t.connect / ACR_MSEC));
    acr_response_release(&y.r);
}

/* ---- TLS ---- */

static void tls_case(int which, const char *host, bool insecure, bool cacert, const char *kind, const char *msg)
{
    char u[128], ca[256];
    cert_path(ca, sizeof ca, "ca", "pem");
    snprintf(u, sizeof u, "https://%s:%d/ok", host, srv.https[which]);
    struct one x = {.rq.url = u, .o.insecure = insecure, .o.cacert = cacert ? ca : NULL};
    fetch_one(&x);
    EXPECT_KIND(&x, kind);
    if (msg)
        cr_assert(strstr(x.r.message, msg), "%s: %s", u, x.r.message);
    if (!strcmp(kind, "ok"))
        cr_assert_eq(x.r.status, 200);
    acr_response_release(&x.r);
}

Test(fetch, tls_good_certificate_verifies)
{
    tls_case(TLS_GOOD, "localhost", false, true, "ok", NULL);
    tls_case(TLS_GOOD, "127.0.0.1", false, true, "ok", NULL);
    /* Our CA is not in the system store: refused by default. */
    tls_case(TLS_GOOD, "localhost", false, false, "tls-verify", "unable to get local issuer");
}

Test(fetch, tls_bad_certificates_rejected_by_default_accepted_with_insecure)
{
    tls_case(TLS_EXPIRED, "localhost", false, true, "tls-verify", "expired");
    tls_case(TLS_WRONGHOST, "localhost", false, true, "tls-verify", "mismatch");
    tls_case(TLS_SELFSIGNED, "localhost", false, true, "tls-verify", "self-signed");
    tls_case(TLS_UNTRUSTED, "localhost", false, true, "tls-verify", "unable to get local issuer");
    for (int i = TLS_EXPIRED; i < NTLS; i++)
        tls_case(i, "localhost", true, false, "ok", NULL);
}

Test(fetch, tls_plain_http_to_a_tls_port_fails_cleanly)
{
    struct one x = {.rq.url = url(0, "http://127.0.0.1:%d/ok", srv.https[TLS_GOOD]), .timeout = ACR_SEC};
    fetch_one(&x);
    cr_assert_neq(x.r.error, 0);
    acr_response_release(&x.r);
    struct one y = {.rq.url = url(1, "https://127.0.0.1:%d/ok", srv.http), .o.insecure = true, .timeout = ACR_SEC};
    fetch_one(&y);
    EXPECT_KIND(&y, "tls-handshake");
    acr_response_release(&y.r);
}

static int tls_resume_main(void *arg)
{
    (void)arg;
    acr_client *c;
    char ca[256], err[128];
    cert_path(ca, sizeof ca, "ca", "pem");
    acr_client_opts o = {.cacert = ca};
    acr_client_new(&c, &o, err, sizeof err);
    acr_header close_h[] = {{"Connection", "close"}};
    int resumed = 0;
    for (int i = 0; i < 3; i++) {
        acr_request rq = {.url = url(0, "https://localhost:%d/ok", srv.https[TLS_GOOD]), .headers = close_h,
                          .nheaders = 1};
        acr_response r;
        acr_fetch(c, &rq, acr_deadline_in(5 * ACR_SEC), &r);
        cr_assert_eq(r.status, 200, "%s", r.message);
        resumed += r.tls_resumed;
        acr_response_release(&r);
    }
    acr_client_stats st;
    acr_client_stats_get(c, &st);
    cr_assert_eq(st.connections, 3);
    acr_client_free(c);
    return resumed;
}

Test(fetch, tls_sessions_resume_across_connections)
{
    cr_assert_eq(run_in_loop(tls_resume_main, NULL), 2);
}

/* ---- DNS through a real server ---- */

struct many {
    const char *url;
    int n;
    const char *dns;
    int ok;
    uint64_t lookups;
    int last_error;
    char msg[256];
};

static struct many *cur_many;
static acr_client *many_client;

static int many_one(void *arg)
{
    (void)arg;
    acr_request rq = {.url = cur_many->url};
    acr_response r;
    acr_fetch(many_client, &rq, acr_deadline_in(5 * ACR_SEC), &r);
    if (r.status == 200)
        cur_many->ok++;
    cur_many->last_error = r.error;
    snprintf(cur_many->msg, sizeof cur_many->msg, "%s", r.message);
    acr_response_release(&r);
    return 0;
}

static int many_main(void *arg)
{
    struct many *m = arg;
    cur_many = m;
    acr_client_opts o = {.dns_servers = m->dns};
    char err[128];
    cr_assert_eq(acr_client_new(&many_client, &o, err, sizeof err), 0, "%s", err);
    acr_group *g = acr_group_new();
    for (int i = 0; i < m->n; i++)
        acr_group_spawn(g, NULL, many_one, NULL);
    acr_task *t;
    while (acr_group_next(g, ACR_FOREVER, &t) == 0)
        acr_task_unref(t);
    acr_group_free(g);
    acr_client_stats st;
    acr_client_stats_get(many_client, &st);
    m->lookups = st.dns_lookups;
    acr_client_free(many_client);
    return 0;
}

Test(fetch, dns_concurrent_lookups_of_one_name_make_one_query)
{
    struct dnsmasq d;
    dnsmasq_start(&d);
    char dns[64];
    snprintf(dns, sizeof dns, "127.0.0.1:%d", d.port);
    struct many m = {.url = url(0, "http://www.acrawl.test:%d/ok", srv.http), .n = 200, .dns = dns};
    run_in_loop(many_main, &m);
    cr_assert_eq(m.ok, 200, "%d ok; last: %s", m.ok, m.msg);
    cr_assert_eq(m.lookups, 1);
    cr_assert_eq(dnsmasq_count(&d, "query[A] www.acrawl.test"), 1, "queries seen by dnsmasq");
    struct many nx = {.url = url(1, "http://nope.invalid:%d/ok", srv.http), .n = 5, .dns = dns};
    run_in_loop(many_main, &nx);
    cr_assert_eq(nx.ok, 0);
    cr_assert_str_eq(acr_error_kind(nx.last_error), "dns");
    cr_assert(strstr(nx.msg, "nope.invalid"), "%s", nx.msg);
    cr_assert_eq(nx.lookups, 1, "failures are cached and merged too");
    dnsmasq_stop(&d);
}

Test(fetch, bad_dns_server_option_is_reported)
{
    acr_client *c;
    char err[128] = "";
    acr_loop *l = acr_loop_new(NULL);
    acr_client_opts o = {.dns_servers = "not-an-ip"};
    cr_assert_eq(acr_client_new(&c, &o, err, sizeof err), ACR_EDNS);
    cr_assert_str_eq(err, "DNS servers 'not-an-ip': Misformatted string");
    const char *bad[] = {"host:80"};
    acr_client_opts o2 = {.resolve = bad, .nresolve = 1};
    cr_assert_eq(acr_client_new(&c, &o2, err, sizeof err), -EINVAL);
    acr_loop_free(l);
}

/* ---- cancellation and output ---- */

static int cancel_main(void *arg)
{
    (void)arg;
    struct one x = {.rq.url = url(0, "http://127.0.0.1:%d/stall", srv.http), .timeout = 10 * ACR_SEC};
    acr_task *t;
    acr_spawn(NULL, &t, one_main, &x);
    acr_sleep_for(50 * ACR_MSEC);
    acr_task_cancel(t);
    acr_task_join(t, ACR_FOREVER, NULL);
    acr_task_unref(t);
    int rc = x.r.error;
    acr_response_release(&x.r);
    return rc;
}

Test(fetch, cancelling_a_fetch_cleans_up)
{
    cr_assert_eq(run_in_loop(cancel_main, NULL), ACR_ECANCELED);
}

/* A body sink that counts, or fails after `fail_after` bytes. */
struct counted {
    uint64_t bytes;
    unsigned calls;
    uint64_t fail_after;
};

static int count_sink(void *arg, const char *data, size_t len, char *msg, size_t msglen)
{
    struct counted *c = arg;
    (void)data;
    c->bytes += len;
    c->calls++;
    if (c->fail_after && c->bytes > c->fail_after) {
        snprintf(msg, msglen, "disk full");
        return -ENOSPC;
    }
    return 0;
}

Test(fetch, the_sink_gets_the_decoded_body)
{
    struct counted c = {0};
    struct one x = {.rq.url = url(0, "http://127.0.0.1:%d/gzip/50000", srv.http), .rq.decode = true,
                    .rq.sink = count_sink, .rq.sink_arg = &c};
    fetch_one(&x);
    cr_assert_eq(x.r.error, 0, "%s", x.r.message);
    cr_assert_eq(c.bytes, 50000);
    cr_assert_eq(x.r.body_bytes, 50000);
    acr_response_release(&x.r);
}

Test(fetch, the_sink_never_sees_a_followed_redirects_body)
{
    struct counted c = {0};
    struct one x = {.rq.url = url(0, "http://127.0.0.1:%d/redirect/3", srv.http), .rq.follow = true,
                    .rq.sink = count_sink, .rq.sink_arg = &c};
    fetch_one(&x);
    cr_assert_eq(x.r.error, 0, "%s", x.r.message);
    cr_assert_eq(x.r.redirects, 3);
    cr_assert_eq(c.bytes, x.r.body_bytes, "sink %llu bytes, final body %llu", (unsigned long long)c.bytes,
                 (unsigned long long)x.r.body_bytes);
    acr_response_release(&x.r);
}

Test(fetch, a_failing_sink_fails_the_request_with_its_code_and_words)
{
    struct counted c = {.fail_after = 1000};
    struct one x = {.rq.url = url(0, "http://127.0.0.1:%d/bytes/100000", srv.http), .rq.sink = count_sink,
                    .rq.sink_arg = &c};
    fetch_one(&x);
    cr_assert_eq(x.r.error, -ENOSPC, "%d: %s", x.r.error, x.r.message);
    cr_assert_str_eq(x.r.message, "disk full");
    cr_assert_eq(x.r.status, 200, "the status received stays");
    acr_response_release(&x.r);
}

/* ---- what -w reports, as curl means it ---- */

Test(fetch, last_status_stays_when_the_request_then_fails)
{
    struct one x = {.rq.url = url(0, "http://127.0.0.1:%d/redirect/5", srv.http), .rq.follow = true,
                    .rq.max_redirs = 1};
    fetch_one(&x);
    EXPECT_KIND(&x, "redirect-loop");
    cr_assert_eq(x.r.status, 302, "the 302 beyond --max-redirs, as curl's http_code");
    acr_response_release(&x.r);
    struct one y = {.rq.url = url(1, "http://127.0.0.1:%d/reset", srv.http)};
    fetch_one(&y);
    EXPECT_KIND(&y, "reset");
    cr_assert_eq(y.r.status, 200, "the head arrived before the reset");
    acr_response_release(&y.r);
    char u[160];
    snprintf(u, sizeof u, "http://127.0.0.1:%d/redirect-to?url=http://127.0.0.1:%d/&status=302", srv.http,
             free_port(SOCK_STREAM));
    struct one z = {.rq.url = u, .rq.follow = true};
    fetch_one(&z);
    EXPECT_KIND(&z, "refused");
    cr_assert_eq(z.r.status, 302, "the redirect's status stays when its target is down");
    cr_assert_str_eq(z.r.remote_ip, "127.0.0.1", "the last connection that was made");
    cr_assert_eq(z.r.remote_port, srv.http);
    acr_response_release(&z.r);
}

Test(fetch, remote_address_scheme_and_phases)
{
    struct one x = {.rq.url = url(0, "http://127.0.0.1:%d/ok", srv.http)};
    fetch_one(&x);
    cr_assert_str_eq(x.r.remote_ip, "127.0.0.1");
    cr_assert_eq(x.r.remote_port, srv.http);
    cr_assert_str_eq(x.r.scheme, "HTTP");
    cr_assert_eq(x.r.t.phases, ACR_PHASE_DNS | ACR_PHASE_CONNECT, "no TLS phase on plain http");
    cr_assert_eq(x.r.t.redirect, 0);
    acr_response_release(&x.r);
    char u[128];
    snprintf(u, sizeof u, "http://127.0.0.1:%d/", free_port(SOCK_STREAM));
    struct one r = {.rq.url = u};
    fetch_one(&r);
    cr_assert_eq(r.r.t.phases, ACR_PHASE_DNS, "the connect never completed");
    cr_assert_str_eq(r.r.remote_ip, "");
    cr_assert_null(r.r.scheme);
    acr_response_release(&r.r);
}

Test(fetch, tls_phase_and_scheme_over_https)
{
    char ca[256];
    cert_path(ca, sizeof ca, "ca", "pem");
    struct one x = {.o.cacert = ca, .rq.url = url(0, "https://localhost:%d/ok", srv.https[TLS_GOOD])};
    fetch_one(&x);
    cr_assert_eq(x.r.error, 0, "%s", x.r.message);
    cr_assert_str_eq(x.r.scheme, "HTTPS");
    cr_assert_eq(x.r.remote_port, srv.https[TLS_GOOD]);
    cr_assert_eq(x.r.t.phases, ACR_PHASE_DNS | ACR_PHASE_CONNECT | ACR_PHASE_TLS);
    acr_response_release(&x.r);
}

Test(fetch, redirect_time_runs_to_the_start_of_the_final_hop)
{
    struct one x = {.rq.url = url(0, "http://127.0.0.1:%d/redirect-to?url=/delay/100&status=302", srv.http),
                    .rq.follow = true};
    fetch_one(&x);
    cr_assert_eq(x.r.error, 0, "%s", x.r.message);
    cr_assert_gt(x.r.t.redirect, 0);
    cr_assert_lt(x.r.t.redirect, x.r.t.total - 90 * ACR_MSEC, "the delayed final hop is not part of it");
    acr_response_release(&x.r);
}

static int reuse_main(void *arg)
{
    acr_response *r = arg;
    acr_client *c;
    acr_client_opts o = {0};
    char err[128];
    acr_client_new(&c, &o, err, sizeof err);
    acr_request rq = {.url = url(0, "http://127.0.0.1:%d/ok", srv.http)};
    for (int i = 0; i < 2; i++)
        acr_fetch(c, &rq, acr_deadline_in(5 * ACR_SEC), &r[i]);
    acr_client_free(c);
    return 0;
}

Test(fetch, reused_connection_has_no_connect_phase_but_its_peer)
{
    acr_response r[2] = {0};
    run_in_loop(reuse_main, r);
    cr_assert(r[1].reused);
    cr_assert_eq(r[1].t.phases, 0, "nothing resolved or connected on a pooled connection");
    cr_assert_str_eq(r[1].remote_ip, "127.0.0.1");
    cr_assert_eq(r[1].remote_port, srv.http);
    acr_response_release(&r[0]);
    acr_response_release(&r[1]);
}

/* What a tap saw: every callback in order, as one log line each, and the bytes. */
struct seen {
    acr_buf log, req, resp, payload;
};

static void seen_log(struct seen *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void seen_log(struct seen *s, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    acr_buf_puts(&s->log, line);
}

static void t_begin(void *arg, const char *u)
{
    struct seen *s = arg;
    seen_log(s, "begin %s\n", strchr(u + 8, '/'));
    s->req.len = s->resp.len = s->payload.len = 0;
}
static void t_request(void *arg, const char *p, size_t n) { acr_buf_add(&((struct seen *)arg)->req, p, n); }
static void t_response(void *arg, const char *p, size_t n) { acr_buf_add(&((struct seen *)arg)->resp, p, n); }
static void t_payload(void *arg, const char *p, size_t n) { acr_buf_add(&((struct seen *)arg)->payload, p, n); }
static void t_interim(void *arg)
{
    struct seen *s = arg;
    seen_log(s, "interim %.12s\n", s->resp.p);
    s->resp.len = 0;
}
static void t_end(void *arg, int error, const char *msg, const char *ip, bool again)
{
    struct seen *s = arg;
    seen_log(s, "end %s ip=%s req=%zu resp=%zu payload=%zu%s%s\n", acr_error_kind(error), ip, s->req.len,
         s->resp.len, s->payload.len, again ? " again" : "", error && !msg[0] ? " (no message)" : "");
}
static const acr_tap seen_tap = {t_begin, t_request, t_response, t_interim, t_payload, t_end};

static void seen_release(struct seen *s)
{
    acr_buf_release(&s->log);
    acr_buf_release(&s->req);
    acr_buf_release(&s->resp);
    acr_buf_release(&s->payload);
}

static bool ends_with(const acr_buf *b, const char *tail)
{
    size_t n = strlen(tail);
    return b->len >= n && !memcmp(b->p + b->len - n, tail, n);
}

Test(fetch, tap_sees_the_wire_bytes_and_the_payload)
{
    struct seen s = {0};
    struct one x = {.rq.url = url(0, "http://127.0.0.1:%d/chunked/2500", srv.http), .rq.tap = &seen_tap,
                    .rq.tap_arg = &s};
    fetch_one(&x);
    cr_assert_eq(x.r.error, 0, "%s", x.r.message);
    acr_buf_add(&s.log, "", 1);
    char want[256];
    snprintf(want, sizeof want, "begin /chunked/2500\nend ok ip=127.0.0.1 req=%zu resp=%zu payload=2500\n",
             s.req.len, s.resp.len);
    cr_assert_str_eq(s.log.p, want);
    cr_assert(s.req.len > 30 && !memcmp(s.req.p, "GET /chunked/2500 HTTP/1.1\r\n", 28));
    cr_assert(ends_with(&s.req, "\r\n\r\n"));
    cr_assert(!memcmp(s.resp.p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked", 43));
    cr_assert(ends_with(&s.resp, "0\r\nX-Trailer: done\r\n\r\n") || ends_with(&s.resp, "0\r\n\r\n"),
              "the last chunk and trailers are on the wire: %.*s", (int)s.resp.len, s.resp.p);
    cr_assert_gt(s.resp.len, 2500 + 3 * 7, "chunk framing is part of the response bytes");
    for (size_t i = 0; i < s.payload.len; i++)
        cr_assert_eq(s.payload.p[i], 'c', "the payload is de-chunked");
    acr_response_release(&x.r);
    seen_release(&s);
}

Test(fetch, tap_sees_interim_responses_redirect_hops_and_failures)
{
    struct seen s = {0};
    struct one x = {.rq.url = url(0, "http://127.0.0.1:%d/1xx", srv.http), .rq.tap = &seen_tap, .rq.tap_arg = &s};
    fetch_one(&x);
    cr_assert_eq(x.r.error, 0, "%s", x.r.message);
    cr_assert(ends_with(&s.resp, "\r\n\r\nafter 1xx\n"), "only the final response after the interims");
    acr_buf_add(&s.log, "", 1);
    cr_assert(!strncmp(s.log.p, "begin /1xx\ninterim HTTP/1.1 100\ninterim HTTP/1.1 103\nend ok ip=127.0.0.1", 72),
              "%s", s.log.p);
    acr_response_release(&x.r);
    seen_release(&s);

    struct seen t = {0};
    struct one y = {.rq.url = url(1, "http://127.0.0.1:%d/redirect/2", srv.http), .rq.follow = true,
                    .rq.tap = &seen_tap, .rq.tap_arg = &t};
    fetch_one(&y);
    cr_assert_eq(y.r.error, 0, "%s", y.r.message);
    acr_buf_add(&t.log, "", 1);
    cr_assert_eq(strstr(t.log.p, "begin /redirect/2\nend ok") == t.log.p, true, "%s", t.log.p);
    cr_assert(strstr(t.log.p, "begin /redirect/1\nend ok"), "%s", t.log.p);
    cr_assert(strstr(t.log.p, "begin /ok\nend ok"), "%s", t.log.p);
    acr_response_release(&y.r);
    seen_release(&t);

    struct seen u = {0};
    struct one z = {.rq.url = url(2, "http://127.0.0.1:%d/", free_port(SOCK_STREAM)), .rq.tap = &seen_tap, .rq.tap_arg = &u};
    fetch_one(&z);
    acr_buf_add(&u.log, "", 1);
    cr_assert_str_eq(u.log.p, "begin /\nend refused ip= req=0 resp=0 payload=0\n");
    acr_response_release(&z.r);
    seen_release(&u);
}
