/* test_http1.c -- request heads, and responses parsed from canned server bytes written
 * into a socketpair (in the spirit of curl's test data files). */
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "acrawl/url.h"
#include "helpers.h"
#include "http/http1.h"

struct canned {
    const char *bytes;
    size_t len;
    const char *method;
    bool decode, keep_body, follow, close_after;
    bool expired;       /* parse with the deadline already past but the bytes pending */
    acr_http1_limits lim;
    acr_response resp;
    acr_http1_result res;
    int rc;
};

static int canned_main(void *arg)
{
    struct canned *c = arg;
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    cr_assert_eq(write(sv[1], c->bytes, c->len), (ssize_t)c->len);
    if (c->close_after)
        close(sv[1]);
    acr_stream s = {.fd = sv[0]};
    cr_assert_eq(acr_io_open(&s.io, sv[0]), 0);
    if (!c->lim.max_header)
        c->lim = (acr_http1_limits){.max_header = 64 * 1024, .max_ratio = 1000};
    acr_http1_read rd = {.method = c->method ? c->method : "GET", .decode = c->decode,
                         .keep_body = c->keep_body, .follow = c->follow, .lim = &c->lim};
    int64_t deadline = acr_deadline_in(ACR_SEC);
    if (c->expired) {
        acr_sleep_for(ACR_MSEC); /* the loop sees the readable edge */
        deadline = acr_now() - 1;
    }
    c->rc = acr_http1_response(&s, &rd, deadline, &c->resp, &c->res);
    acr_stream_close(&s);
    if (!c->close_after)
        close(sv[1]);
    return 0;
}

#define CANNED(s) .bytes = (s), .len = sizeof(s) - 1

static void parse(struct canned *c) { run_in_loop(canned_main, c); }

Test(http1, content_length_body_keeps_the_connection)
{
    struct canned c = {CANNED("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A:  spaced  \r\n\r\nhello"), .keep_body = true};
    parse(&c);
    cr_assert_eq(c.rc, 0, "%s", c.resp.message);
    cr_assert_eq(c.resp.status, 200);
    cr_assert_str_eq(c.resp.body, "hello");
    cr_assert_str_eq(acr_headers_get(&c.resp.headers, "x-a"), "spaced");
    cr_assert(c.res.keep_alive);
    acr_response_release(&c.resp);
}

Test(http1, chunked_with_extensions_and_trailers)
{
    struct canned c = {CANNED("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: done\r\n\r\n"),
                       .keep_body = true};
    parse(&c);
    cr_assert_eq(c.rc, 0, "%s", c.resp.message);
    cr_assert_str_eq(c.resp.body, "hello world");
    cr_assert_eq(c.resp.raw_bytes, 11);
    cr_assert(c.res.keep_alive);
    acr_response_release(&c.resp);
}

/* llhttp 8.1 rejects a second extension after a token value; RFC 9112 §7.1.1
 * allows it, with token or quoted values and optional whitespace around ; and =. */
Test(http1, chunk_extensions_with_several_names_token_and_quoted_values)
{
    struct canned c = {CANNED("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "6;a=b;c=d\r\nhello \r\n"
                              "5;a=\"x;y\";c=d;e=\"q\\\"z\"\r\nworld\r\n"
                              "1 ; a = b ;c\t;d=\"\"\r\n!\r\n"
                              "2;a=b;c=d;e=f;g\r\n!!\r\n"
                              "0;last=yes;n=1\r\nX-T: 1\r\n\r\n"),
                       .keep_body = true};
    parse(&c);
    cr_assert_eq(c.rc, 0, "%s", c.resp.message);
    cr_assert_str_eq(c.resp.body, "hello world!!!");
    cr_assert(c.res.keep_alive);
    acr_response_release(&c.resp);
}

/* A chunk-size line that a read splits: the second line starts a few bytes before
 * the 16 KiB read boundary, at several offsets so that some split lands inside it. */
Test(http1, chunk_size_line_split_across_reads)
{
    static const char head[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    static const char tail[] = "\r\n4;a=b;c=\"d\"\r\nabcd\r\n0\r\n\r\n";
    for (size_t back = 1; back <= 14; back++) {
        size_t first = 16384 - back - (sizeof head - 1) - 6; /* "hhhh\r\n" size line */
        char *b = malloc(20000);
        int len = snprintf(b, 20000, "%s%04zx\r\n", head, first);
        memset(b + len, 'x', first);
        len += (int)first;
        memcpy(b + len, tail, sizeof tail);
        struct canned c = {.bytes = b, .len = (size_t)len + sizeof tail - 1};
        parse(&c);
        cr_assert_eq(c.rc, 0, "back %zu: %s", back, c.resp.message);
        cr_assert_eq(c.resp.body_bytes, first + 4);
        acr_response_release(&c.resp);
        free(b);
    }
}

/* Real framing errors are still rejected, by the extension check or by llhttp. */
Test(http1, malformed_chunk_size_lines_are_protocol_errors)
{
    static const char *const bad[] = {
        "6;=b", "6;a=", "6;a=\"b", "6;a b", "6;a=b c", "6;a=\"\x01\"", "6 ", "6;", "6;a=b;",
        "0x6", "-6", ";a=b", "", "6\x01", "g", "6;a\rX", "fffffffffffffffff1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char b[256];
        int len = snprintf(b, sizeof b, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%s\r\nhello!\r\n0\r\n\r\n",
                           bad[i]);
        struct canned c = {.bytes = b, .len = (size_t)len};
        parse(&c);
        cr_assert_eq(c.rc, ACR_EPROTO, "'%s' gave %d: %s", bad[i], c.rc, c.resp.message);
        acr_response_release(&c.resp);
    }
}

Test(http1, endless_chunk_extension_is_a_protocol_error)
{
    static const char head[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6;a=";
    size_t len = sizeof head - 1 + 10000;
    char *b = malloc(len);
    memcpy(b, head, sizeof head - 1);
    memset(b + sizeof head - 1, 'v', 10000);
    struct canned c = {.bytes = b, .len = len};
    parse(&c);
    cr_assert_eq(c.rc, ACR_EPROTO, "%d: %s", c.rc, c.resp.message);
    cr_assert(strstr(c.resp.message, "chunk-size line over"), "%s", c.resp.message);
    acr_response_release(&c.resp);
    free(b);
}

Test(http1, close_delimited_body_ends_at_eof)
{
    struct canned c = {CANNED("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end"), .keep_body = true,
                       .close_after = true};
    parse(&c);
    cr_assert_eq(c.rc, 0, "%s", c.resp.message);
    cr_assert_str_eq(c.resp.body, "until the end");
    cr_assert_not(c.res.keep_alive);
    acr_response_release(&c.resp);
}

Test(http1, informational_responses_are_skipped)
{
    struct canned c = {CANNED("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"
                              "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")};
    parse(&c);
    cr_assert_eq(c.resp.status, 201);
    cr_assert_null(acr_headers_get(&c.resp.headers, "Link"));
    acr_response_release(&c.resp);
}

/* n interim responses, then a final 200, in a heap buffer the caller frees. */
static char *interim_then_ok(int n, size_t *len)
{
    static const char one[] = "HTTP/1.1 100 Continue\r\n\r\n";
    static const char fin[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    char *b = malloc((size_t)n * (sizeof one - 1) + sizeof fin);
    char *p = b;
    for (int i = 0; i < n; i++) {
        memcpy(p, one, sizeof one - 1);
        p += sizeof one - 1;
    }
    memcpy(p, fin, sizeof fin);
    *len = (size_t)(p - b) + sizeof fin - 1;
    return b;
}

Test(http1, interim_responses_are_capped_at_16)
{
    struct canned ok = {0};
    char *b = interim_then_ok(16, &ok.len);
    ok.bytes = b;
    parse(&ok);
    cr_assert_eq(ok.rc, 0, "%s", ok.resp.message);
    cr_assert_eq(ok.resp.status, 200);
    acr_response_release(&ok.resp);
    free(b);
    struct canned flood = {0};
    b = interim_then_ok(17, &flood.len);
    flood.bytes = b;
    parse(&flood);
    cr_assert_eq(flood.rc, ACR_EPROTO, "%d: %s", flood.rc, flood.resp.message);
    cr_assert(strstr(flood.resp.message, "too many 1xx responses"), "%s", flood.resp.message);
    acr_response_release(&flood.resp);
    free(b);
}

/* Bytes keep coming (100 KB are pending, then EOF) and the deadline has passed:
 * the read loop must stop at the deadline, not read on until the data runs out. */
Test(http1, deadline_holds_while_data_keeps_arriving)
{
    static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\n\r\n";
    size_t len = sizeof head - 1 + 100000;
    char *b = malloc(len);
    memcpy(b, head, sizeof head - 1);
    memset(b + sizeof head - 1, 'x', len - (sizeof head - 1));
    struct canned c = {.bytes = b, .len = len, .close_after = true, .expired = true};
    parse(&c);
    cr_assert_eq(c.rc, ACR_ETIMEOUT, "%s: %s", acr_errname(c.rc), c.resp.message);
    cr_assert_lt(c.resp.raw_bytes, 100000, "stopped early, not at the end of the data");
    acr_response_release(&c.resp);
    free(b);
}

Test(http1, head_204_and_304_have_no_body)
{
    struct canned h = {CANNED("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"), .method = "HEAD"};
    parse(&h);
    cr_assert_eq(h.rc, 0, "%s", h.resp.message);
    cr_assert_eq(h.resp.body_bytes, 0);
    cr_assert(h.res.keep_alive);
    acr_response_release(&h.resp);
    struct canned n = {CANNED("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n")};
    parse(&n);
    cr_assert_eq(n.rc, 0);
    cr_assert_eq(n.resp.status, 304);
    acr_response_release(&n.resp);
    struct canned z = {CANNED("HTTP/1.1 204 No Content\r\n\r\n")};
    parse(&z);
    cr_assert_eq(z.rc, 0);
    cr_assert(z.res.keep_alive);
    acr_response_release(&z.resp);
}

Test(http1, truncated_body_is_reset)
{
    struct canned c = {CANNED("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"), .close_after = true};
    parse(&c);
    cr_assert_eq(c.rc, ACR_ERESET);
    cr_assert(strstr(c.resp.message, "5 body bytes"), "%s", c.resp.message);
    acr_response_release(&c.resp);
}

Test(http1, nothing_before_eof_marks_a_stale_connection)
{
    struct canned c = {.bytes = "", .len = 0, .close_after = true};
    parse(&c);
    cr_assert_eq(c.rc, ACR_ERESET);
    cr_assert_not(c.res.got_bytes);
    acr_response_release(&c.resp);
}

Test(http1, garbage_is_protocol)
{
    struct canned c = {CANNED("SSH-2.0-OpenSSH_9.2\r\n"), .close_after = true};
    parse(&c);
    cr_assert_eq(c.rc, ACR_EPROTO);
    cr_assert(strstr(c.resp.message, "invalid HTTP response"));
    acr_response_release(&c.resp);
}

Test(http1, header_limit_is_too_large)
{
    struct canned c = {CANNED("HTTP/1.1 200 OK\r\nX-Big: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n"),
                       .lim = {.max_header = 40, .max_ratio = 1000}};
    parse(&c);
    cr_assert_eq(c.rc, ACR_ETOOLARGE);
    acr_response_release(&c.resp);
}

Test(http1, body_limit_is_too_large)
{
    struct canned c = {CANNED("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world"),
                       .lim = {.max_header = 1024, .max_body = 5, .max_ratio = 1000}};
    parse(&c);
    cr_assert_eq(c.rc, ACR_ETOOLARGE);
    acr_response_release(&c.resp);
}

Test(http1, bytes_after_the_response_forbid_reuse)
{
    struct canned c = {CANNED("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n")};
    parse(&c);
    cr_assert_eq(c.rc, 0);
    cr_assert_not(c.res.keep_alive);
    acr_response_release(&c.resp);
}

Test(http1, redirect_bodies_are_not_kept_when_following)
{
    struct canned c = {CANNED("HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 4\r\n\r\nbody"),
                       .keep_body = true, .follow = true};
    parse(&c);
    cr_assert_eq(c.resp.status, 302);
    cr_assert_eq(c.resp.body_len, 0);
    acr_response_release(&c.resp);
}

Test(http1, request_head_defaults_overrides_and_removals)
{
    acr_url u;
    cr_assert_eq(acr_url_parse(&u, "http://[::1]:8080/p?q=1", NULL, 0), 0);
    acr_header h[] = {{"Accept", "text/plain"}, {"User-Agent", ""}, {"X-Extra", "1"}};
    acr_buf b = {0};
    char err[64];
    cr_assert_eq(acr_http1_request(&b, "POST", &u, h, 3, "acrawl/test", true, 3, err, sizeof err), 0);
    cr_assert_str_eq(b.p, "POST /p?q=1 HTTP/1.1\r\nHost: [::1]:8080\r\nAccept-Encoding: gzip, deflate\r\n"
                          "Content-Length: 3\r\nAccept: text/plain\r\nX-Extra: 1\r\n\r\n");
    acr_buf_release(&b);
    acr_url_release(&u);
    cr_assert_eq(acr_url_parse(&u, "https://h.example/", NULL, 0), 0);
    cr_assert_eq(acr_http1_request(&b, "GET", &u, NULL, 0, "ua", false, 0, err, sizeof err), 0);
    cr_assert_str_eq(b.p, "GET / HTTP/1.1\r\nHost: h.example\r\nUser-Agent: ua\r\nAccept: */*\r\n\r\n");
    acr_buf_release(&b);
    acr_header bad[] = {{"X-A", "b\r\nInjected: 1"}};
    cr_assert_eq(acr_http1_request(&b, "GET", &u, bad, 1, "ua", false, 0, err, sizeof err), ACR_EPROTO);
    acr_buf_release(&b);
    acr_url_release(&u);
}
