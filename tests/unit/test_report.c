/* test_report.c -- the run summary and the text/JSON report: what req/s counts, when
 * there is no speedup figure, ASCII bars outside UTF-8 locales. */
#include <criterion/criterion.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acrawl/error.h"
#include "app/report.h"

#define MS 1000000LL

static void add(acr_summary *s, int error, unsigned attempt, int64_t total_ns)
{
    acr_record *r = acr_record_new(1, 0, "http://x.test/");
    cr_assert_not_null(r);
    r->status = error ? 0 : 200;
    r->error = error;
    r->attempt = attempt;
    r->t.total = total_ns;
    acr_summary_add(s, r);
    acr_record_free(r);
}

/* 3 completed requests of 10 ms, 1000 cancelled (started or not), 2 bad-url lines, in 1 s. */
static void interrupted_run(acr_summary *s)
{
    acr_summary_init(s, "acrawl", 50, 0);
    for (int i = 0; i < 3; i++)
        add(s, 0, 1, 10 * MS);
    for (int i = 0; i < 1000; i++)
        add(s, ACR_ECANCELED, i % 2, 0);
    add(s, ACR_EBADURL, 0, 0);
    add(s, ACR_EBADURL, 0, 0);
    s->wall_ns = 1000 * MS;
}

/* What a report function wrote, as a string to free. */
static char *text_report(const acr_summary *s, acr_report_style st)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    acr_report_text(f, s, st);
    fclose(f);
    return buf;
}

static char *json_report(const acr_summary *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    acr_report_json(f, s, NULL);
    fclose(f);
    return buf;
}

Test(report, req_per_s_counts_completed_requests_only)
{
    acr_summary s;
    interrupted_run(&s);
    cr_assert_eq(s.total, 1005);
    cr_assert_eq(s.completed, 3);
    cr_assert_float_eq(acr_summary_req_per_s(&s), 3.0, 1e-9);
    char *t = text_report(&s, (acr_report_style){0});
    cr_assert(strstr(t, "1005 URLs in 1.000 s (3.0 req/s, -c 50)"), "%s", t);
    free(t);
    char *j = json_report(&s);
    cr_assert(strstr(j, "\"req_per_s\":3.00,"), "%s", j);
    cr_assert(strstr(j, "\"completed\":3,"), "%s", j);
    free(j);
}

Test(report, no_speedup_figure_when_the_input_set_the_pace)
{
    acr_summary s;
    acr_summary_init(&s, "acrawl", 50, 0);
    add(&s, 0, 1, 2 * MS);
    add(&s, 0, 1, 2 * MS);
    s.wall_ns = 1200 * MS;
    s.input_wait_ns = 1190 * MS;
    char *t = text_report(&s, (acr_report_style){0});
    cr_assert(strstr(t, "no speedup estimate: 1.190 s of it went waiting for streamed input"), "%s", t);
    cr_assert_null(strstr(t, "0.0x"), "%s", t);
    free(t);
    char *j = json_report(&s);
    cr_assert(strstr(j, "\"speedup\":null,"), "%s", j);
    cr_assert(strstr(j, "\"input_wait_s\":1.190000,"), "%s", j);
    free(j);
}

Test(report, no_0_0x_speedup_when_requests_were_a_sliver_of_the_wall)
{
    acr_summary s;
    interrupted_run(&s);
    char *t = text_report(&s, (acr_report_style){0});
    cr_assert(strstr(t, "no speedup estimate: "), "%s", t);
    cr_assert(strstr(t, "1000 cancelled ones are not in the sum"), "%s", t);
    cr_assert_null(strstr(t, "0.0x"), "%s", t);
    free(t);
}

Test(report, speedup_figure_when_it_means_something)
{
    acr_summary s;
    acr_summary_init(&s, "acrawl", 50, 0);
    for (int i = 0; i < 50; i++)
        add(&s, 0, 1, 100 * MS);
    s.wall_ns = 200 * MS;
    char *t = text_report(&s, (acr_report_style){0});
    cr_assert(strstr(t, "vs 0.200 s wall: 25.0x speedup"), "%s", t);
    free(t);
    char *j = json_report(&s);
    cr_assert(strstr(j, "\"speedup\":25.00,"), "%s", j);
    free(j);
}

static bool has_non_ascii(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s >= 0x80)
            return true;
    }
    return false;
}

Test(report, ascii_bars_without_unicode_block_characters)
{
    acr_summary s;
    acr_summary_init(&s, "acrawl", 50, 0);
    for (int i = 1; i <= 40; i++)
        add(&s, 0, 1, i * MS);
    s.wall_ns = 100 * MS;
    char *t = text_report(&s, (acr_report_style){.unicode = false});
    cr_assert(strstr(t, "latency histogram"), "%s", t);
    cr_assert(strstr(t, "####"), "%s", t);
    cr_assert_not(has_non_ascii(t), "%s", t);
    free(t);
    t = text_report(&s, (acr_report_style){.unicode = true});
    cr_assert(strstr(t, "█"), "%s", t);
    free(t);
}

Test(report, unicode_only_in_a_utf8_locale_and_the_locale_is_left_alone)
{
    setenv("LC_ALL", "C", 1);
    cr_assert_not(acr_report_unicode());
    setenv("LC_ALL", "C.UTF-8", 1);
    cr_assert(acr_report_unicode());
    cr_assert_str_eq(setlocale(LC_CTYPE, NULL), "C", "the process locale is unchanged");
    unsetenv("LC_ALL");
    setenv("LC_CTYPE", "POSIX", 1);
    cr_assert_not(acr_report_unicode());
    setenv("LC_ALL", "xx_NOWHERE.UTF-8", 1);
    cr_assert_not(acr_report_unicode(), "a locale that is not installed is not trusted");
}
