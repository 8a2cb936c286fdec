/* test_record.c -- the per-URL record: what survives a failure, and the packed
 * copy of response headers kept only when a template needs them. */
#include <criterion/criterion.h>
#include <string.h>

#include "acrawl/error.h"
#include "jobs/record.h"

static void response_with_headers(acr_response *resp)
{
    memset(resp, 0, sizeof *resp);
    resp->status = 200;
    acr_headers_add(&resp->headers, "Content-Type", 12, "text/plain", 10);
    acr_headers_add(&resp->headers, "X-Empty", 7, "", 0);
    memcpy(resp->remote_ip, "127.0.0.1", 10);
    resp->remote_port = 80;
    resp->scheme = "HTTP";
}

Test(record, headers_are_kept_only_when_asked)
{
    acr_response resp;
    response_with_headers(&resp);
    acr_record *r = acr_record_new(1, 0, "http://h/");
    acr_record_fill(r, &resp, false);
    cr_assert_null(r->headers);
    char ip[46];
    cr_assert_str_eq(acr_record_remote_ip(r, ip, sizeof ip), "127.0.0.1");
    cr_assert_eq(r->remote_port, 80);
    cr_assert_str_eq(r->scheme, "HTTP");
    acr_record_fill(r, &resp, true);
    cr_assert_str_eq(acr_record_header(r, "content-type"), "text/plain");
    cr_assert_str_eq(acr_record_header(r, "x-empty"), "");
    cr_assert_null(acr_record_header(r, "missing"));
    size_t pos = 0, count = 0;
    const char *n, *v;
    while (acr_record_header_next(r, &pos, &n, &v))
        count++;
    cr_assert_eq(count, 2);
    cr_assert_eq(r->headers_len, strlen("Content-Type") + strlen("text/plain") + strlen("X-Empty") + 4);
    acr_headers_release(&resp.headers);
    acr_record_free(r);
}

Test(record, remote_address_is_kept_compact)
{
    acr_record *r = acr_record_new(1, 0, "http://h/");
    char ip[46];
    acr_record_set_remote(r, "2001:db8::1", 443);
    cr_assert_str_eq(acr_record_remote_ip(r, ip, sizeof ip), "2001:db8::1");
    cr_assert_eq(r->remote_port, 443);
    acr_record_set_remote(r, "", 443);
    cr_assert_str_eq(acr_record_remote_ip(r, ip, sizeof ip), "");
    cr_assert_eq(r->remote_port, 0);
    acr_record_free(r);
}

Test(record, failing_keeps_the_status_received)
{
    acr_record *r = acr_record_new(1, 0, "http://h/");
    r->status = 302;
    acr_record_fail(r, ACR_EREDIRLOOP, NULL);
    cr_assert_eq(r->status, 302);
    cr_assert_eq(r->error, ACR_EREDIRLOOP);
    cr_assert_str_eq(r->message, acr_strerror(ACR_EREDIRLOOP));
    acr_record_free(r);
}
