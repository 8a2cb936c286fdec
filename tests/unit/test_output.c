/* test_output.c -- record formats: JSON that stays valid for any bytes, and -w
 * variables that mean what curl's mean. Records are built by hand here. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acrawl/error.h"
#include "acrawl/loop.h"
#include "app/output.h"
#include "jobs/record.h"

/* Formats r with fmt (-w template, or NULL for JSON Lines) and returns the text. */
static char *render(const acr_record *r, const char *fmt)
{
    static acr_output o;
    static char text[65536];
    int p[2];
    cr_assert_eq(pipe(p), 0);
    acr_output_init(&o, p[1], fmt ? ACR_FMT_WRITEOUT : ACR_FMT_JSON, fmt);
    cr_assert_eq(acr_output_record(&o, r), 0);
    cr_assert_eq(acr_output_flush(&o), 0);
    close(p[1]);
    ssize_t n = read(p[0], text, sizeof text - 1);
    close(p[0]);
    cr_assert_geq(n, 0);
    text[n] = 0;
    return text;
}

static acr_record *ok_record(const char *url)
{
    acr_record *r = acr_record_new(3, 2, url);
    cr_assert_not_null(r);
    r->status = 200;
    r->attempt = 1;
    return r;
}

Test(output, json_escapes_invalid_utf8_and_control_characters)
{
    acr_record *r = ok_record("http://h/caf\xc3\xa9/\xff\xfe/\xe2\x82/q\"\\\x01\t");
    r->final_url = strdup("http://h/\xed\xa0\x80"); /* an encoded surrogate is not UTF-8 */
    acr_record_fail(r, ACR_EBADURL, "bad \xc0\xaf overlong, \xf4\x90\x80\x80 too high, \xf0\x9f\x98\x80 fine");
    char *out = render(r, NULL);
    cr_assert(strstr(out, "\"url\":\"http://h/caf\xc3\xa9/\\ufffd\\ufffd/\\ufffd\\ufffd/q\\\"\\\\\\u0001\\u0009\""),
              "%s", out);
    cr_assert(strstr(out, "\"final_url\":\"http://h/\\ufffd\\ufffd\\ufffd\""), "%s", out);
    cr_assert(strstr(out, "\"message\":\"bad \\ufffd\\ufffd overlong, \\ufffd\\ufffd\\ufffd\\ufffd too high, "
                          "\xf0\x9f\x98\x80 fine\""), "%s", out);
    acr_record_free(r);
}

Test(output, http_code_is_the_last_status_even_on_failure)
{
    acr_record *r = ok_record("http://h/");
    r->status = 302;
    acr_record_fail(r, ACR_EREDIRLOOP, "too many redirects");
    cr_assert_str_eq(render(r, "%{http_code} %{response_code} %{exitcode} %{errormsg}"),
                     "302 302 47 too many redirects");
    r->status = 0;
    cr_assert_str_eq(render(r, "%{http_code}"), "000");
    acr_record_free(r);
}

Test(output, size_download_is_bytes_received_size_decoded_after_decoding)
{
    acr_record *r = ok_record("http://h/");
    r->raw_bytes = 82;
    r->body_bytes = 10000;
    r->t.total = 2 * ACR_SEC;
    cr_assert_str_eq(render(r, "%{size_download} %{size_decoded} %{size_raw} %{speed_download}"), "82 10000 82 41");
    acr_record_free(r);
}

Test(output, phases_that_did_not_happen_are_zero)
{
    acr_record *r = ok_record("http://h/");
    r->t = (acr_timings){.dns = 1 * ACR_MSEC, .connect = 2 * ACR_MSEC, .tls = 4 * ACR_MSEC,
                         .ttfb = 8 * ACR_MSEC, .total = 9 * ACR_MSEC, .redirect = 5 * ACR_MSEC,
                         .phases = ACR_PHASE_DNS | ACR_PHASE_CONNECT | ACR_PHASE_TLS};
    const char *fmt = "%{time_namelookup} %{time_connect} %{time_appconnect} %{time_starttransfer} "
                      "%{time_redirect} %{time_total}";
    cr_assert_str_eq(render(r, fmt), "0.001000 0.003000 0.007000 0.008000 0.005000 0.009000");
    r->t.phases = ACR_PHASE_DNS | ACR_PHASE_CONNECT; /* plain http, or a failed handshake */
    r->t.tls = 0;
    cr_assert_str_eq(render(r, "%{time_appconnect}"), "0.000000");
    r->t.phases = ACR_PHASE_DNS; /* refused: time went by, but no connection */
    cr_assert_str_eq(render(r, "%{time_connect}"), "0.000000");
    r->t = (acr_timings){.ttfb = 1 * ACR_MSEC, .total = 1 * ACR_MSEC}; /* a pooled connection */
    cr_assert_str_eq(render(r, "%{time_namelookup} %{time_connect} %{time_appconnect}"),
                     "0.000000 0.000000 0.000000");
    acr_record_free(r);
}

Test(output, connection_and_position_variables)
{
    acr_record *r = ok_record("http://h/a");
    acr_record_set_remote(r, "::1", 8080);
    r->scheme = "HTTPS";
    r->final_url = strdup("https://h/b");
    cr_assert_str_eq(render(r, "%{remote_ip} %{remote_port} %{scheme} %{urlnum} %{line} %{url} %{url_effective}"),
                     "::1 8080 HTTPS 2 3 http://h/a https://h/b");
    acr_record_free(r);
    r = acr_record_new(1, 0, "nope");
    acr_record_fail(r, ACR_EBADURL, "no scheme");
    cr_assert_str_eq(render(r, "[%{remote_ip}] %{remote_port} [%{scheme}] [%{content_type}] %{exitcode}"),
                     "[] 0 [] [] 3");
    acr_record_free(r);
}

static void add_headers(acr_record *r)
{
    acr_headers h = {0};
    acr_headers_add(&h, "Content-Type", 12, "text/html", 9);
    acr_headers_add(&h, "Set-Cookie", 10, "a=1", 3);
    acr_headers_add(&h, "X-Odd", 5, "\xff\"", 2);
    acr_headers_add(&h, "set-cookie", 10, "b=2", 3);
    cr_assert_eq(acr_record_set_headers(r, &h), 0);
    acr_headers_release(&h);
}

Test(output, header_json_groups_repeated_names_in_lower_case)
{
    acr_record *r = ok_record("http://h/");
    add_headers(r);
    cr_assert_str_eq(render(r, "%{header_json}"),
                     "{\"content-type\":[\"text/html\"],\n\"set-cookie\":[\"a=1\",\"b=2\"],\n"
                     "\"x-odd\":[\"\\ufffd\\\"\"]\n}");
    cr_assert_str_eq(render(r, "%{content_type}"), "text/html");
    acr_record_free(r);
    r = ok_record("http://h/");
    cr_assert_str_eq(render(r, "%{header_json}"), "{}");
    acr_record_free(r);
}

Test(output, json_variable_lists_every_variable_once)
{
    acr_record *r = ok_record("http://h/");
    add_headers(r);
    char *out = render(r, "%{json}");
    cr_assert(strstr(out, "\"content_type\":\"text/html\""), "%s", out);
    cr_assert(strstr(out, "\"errormsg\":null,\"exitcode\":0,\"filename_effective\":null,\"http_code\":200"), "%s",
              out);
    cr_assert(strstr(out, "\"scheme\":null"), "%s", out);
    cr_assert_null(strstr(out, "size_raw"), "an alias is not listed twice");
    for (size_t i = 0; acr_output_writeout_name(i); i++) {
        const char *n = acr_output_writeout_name(i);
        if (strcmp(n, "json") && strcmp(n, "header_json") && strcmp(n, "size_raw")) {
            char key[64];
            snprintf(key, sizeof key, "\"%s\":", n);
            cr_assert(strstr(out, key), "%s missing from %s", n, out);
        }
    }
    acr_record_free(r);
}

Test(output, templates_are_checked_and_say_what_they_need)
{
    char bad[64];
    cr_assert_null(acr_output_check_writeout("%{http_code}\\n%% %{json} %{unclosed", bad, sizeof bad));
    cr_assert_str_eq(acr_output_check_writeout("a %{size_download} %{nope}", bad, sizeof bad), "nope");
    cr_assert_not(acr_output_writeout_needs_headers("%{http_code} %{url}"));
    cr_assert(acr_output_writeout_needs_headers("%{content_type}"));
    cr_assert(acr_output_writeout_needs_headers("%{header_json}"));
    cr_assert(acr_output_writeout_needs_headers("%{json}"));
}

Test(output, template_from_a_file_is_taken_verbatim)
{
    char path[] = "/tmp/acrawl-wXXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, "%{http_code}\n", 13), 13);
    close(fd);
    char arg[64], err[256], *t;
    snprintf(arg, sizeof arg, "@%s", path);
    cr_assert_eq(acr_output_load_writeout(arg, &t, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(t, "%{http_code}\n");
    free(t);
    unlink(path);
    cr_assert_lt(acr_output_load_writeout(arg, &t, err, sizeof err), 0);
    cr_assert(strstr(err, path), "%s", err);
    cr_assert_eq(acr_output_load_writeout("%{url}", &t, err, sizeof err), 0);
    cr_assert_str_eq(t, "%{url}");
    free(t);
}
