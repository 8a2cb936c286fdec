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
