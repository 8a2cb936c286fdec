/* test_args.c -- command-line syntax: exact option names, suggestions, bundles,
 * operands anywhere, numbers checked for syntax and range, and help made from the
 * option table. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/args.h"

enum { O_RATE = 256 };

static const acr_num_spec count = {ACR_NUM_COUNT, 1, 100, "a whole number"};
static const acr_num_spec real = {ACR_NUM_REAL, 0.001, 1000, "seconds"};
static const acr_num_spec size = {ACR_NUM_SIZE, 1, 1073741824.0, "bytes"};

static const acr_opt opts[] = {
    {"concurrency", 'c', 'c', ACR_ARG_REQUIRED, &count},
    {"user-agent", 'A', 'A', ACR_ARG_REQUIRED, NULL},
    {"header", 'H', 'H', ACR_ARG_REQUIRED, NULL},
    {"first", '1', '1', ACR_ARG_OPTIONAL, &count},
    {"quiet", 'q', 'q', ACR_ARG_NONE, NULL},
    {"rate", 0, O_RATE, ACR_ARG_REQUIRED, &real},
    {NULL, 0, 0, ACR_ARG_NONE, NULL},
};

/* Reads every option; returns the last acr_args_next result. */
static int scan(int argc, char **argv, acr_args *a, acr_arg *got, int *ngot, char *err)
{
    acr_args_init(a, opts, argc, argv);
    *ngot = 0;
    for (;;) {
        int rc = acr_args_next(a, &got[*ngot], err, 256);
        if (rc != 1)
            return rc;
        (*ngot)++;
    }
}

Test(args, a_prefix_of_a_long_name_is_refused_with_the_full_name_suggested)
{
    char *argv[] = {"acrawl", "--user", "a:b", NULL};
    acr_args a;
    acr_arg got[4];
    int n;
    char err[256];
    cr_assert_eq(scan(3, argv, &a, got, &n, err), -EINVAL);
    cr_assert_str_eq(err, "unknown option '--user'; did you mean '--user-agent'?");
}

Test(args, suggestions_prefer_prefixes_then_few_edits)
{
    cr_assert_str_eq(acr_args_suggest(opts, "head", 4), "header");
    cr_assert_str_eq(acr_args_suggest(opts, "concurency", 10), "concurrency");
    cr_assert_str_eq(acr_args_suggest(opts, "qiuet", 5), "quiet");
    cr_assert_null(acr_args_suggest(opts, "bogus", 5));
    cr_assert_null(acr_args_suggest(opts, "", 0));
}

Test(args, bundles_attached_values_operands_anywhere_and_the_terminator)
{
    char *argv[] = {"acrawl", "list.txt", "-qc5", "--first", "3", "-", "--rate=2.5", "--", "-q", NULL};
    acr_args a;
    acr_arg got[8];
    int n;
    char err[256];
    cr_assert_eq(scan(9, argv, &a, got, &n, err), 0, "%s", err);
    cr_assert_eq(n, 4);
    cr_assert_eq(got[0].opt->id, 'q');
    cr_assert_eq(got[1].opt->id, 'c');
    cr_assert_eq(got[1].num, 5.0);
    cr_assert_str_eq(got[1].flag, "-c");
    cr_assert_eq(got[2].num, 3.0, "a bare number after --first is its value");
    cr_assert_eq(got[3].num, 2.5);
    cr_assert_eq(a.noperands, 3);
    cr_assert_str_eq(argv[1], "list.txt");
    cr_assert_str_eq(argv[2], "-");
    cr_assert_str_eq(argv[3], "-q", "after -- everything is an operand");
}

Test(args, values_missing_or_unexpected_are_usage_errors)
{
    char *a1[] = {"acrawl", "-c", NULL};
    char *a2[] = {"acrawl", "--quiet=yes", NULL};
    char *a3[] = {"acrawl", "-Z", NULL};
    acr_args a;
    acr_arg got[2];
    int n;
    char err[256];
    cr_assert_eq(scan(2, a1, &a, got, &n, err), -EINVAL);
    cr_assert_str_eq(err, "option '-c' needs a value");
    cr_assert_eq(scan(2, a2, &a, got, &n, err), -EINVAL);
    cr_assert_str_eq(err, "option '--quiet' takes no value");
    cr_assert_eq(scan(2, a3, &a, got, &n, err), -EINVAL);
    cr_assert_str_eq(err, "unknown option '-Z'");
}

Test(args, a_number_out_of_range_names_the_flag_as_typed_and_the_range)
{
    char *argv[] = {"acrawl", "--rate", "1e-10", NULL};
    acr_args a;
    acr_arg got[2];
    int n;
    char err[256];
    cr_assert_eq(scan(3, argv, &a, got, &n, err), -EINVAL);
    cr_assert_str_eq(err, "--rate wants seconds from 0.001 to 1000, not '1e-10'");
}

Test(args, numbers_take_plain_decimal_only)
{
    double v;
    cr_assert_eq(acr_args_parse_num(&real, "1.5", &v), 0);
    cr_assert_eq(v, 1.5);
    cr_assert_eq(acr_args_parse_num(&real, ".5", &v), 0);
    cr_assert_eq(acr_args_parse_num(&real, "2e2", &v), 0);
    cr_assert_eq(v, 200.0);
    const char *bad[] = {"", "abc", "1x", " 1", "-1", "+1", "0x10", "inf", "nan", "1e", "."};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(acr_args_parse_num(&real, bad[i], &v), -EINVAL, "'%s'", bad[i]);
    cr_assert_eq(acr_args_parse_num(&count, "1.0", &v), -EINVAL, "counts are digits only");
    cr_assert_eq(acr_args_parse_num(&count, "1e1", &v), -EINVAL);
}

Test(args, ranges_hold_at_both_ends_and_catch_overflow_and_underflow)
{
    double v;
    cr_assert_eq(acr_args_parse_num(&real, "0.001", &v), 0);
    cr_assert_eq(acr_args_parse_num(&real, "1000", &v), 0);
    cr_assert_eq(acr_args_parse_num(&real, "0.0009", &v), -ERANGE);
    cr_assert_eq(acr_args_parse_num(&real, "1e999", &v), -ERANGE);
    cr_assert_eq(acr_args_parse_num(&real, "1e-999", &v), -ERANGE);
    cr_assert_eq(acr_args_parse_num(&count, "0", &v), -ERANGE);
    cr_assert_eq(acr_args_parse_num(&count, "99999999999999999999999", &v), -ERANGE);
}

Test(args, sizes_take_binary_suffixes_and_whole_bytes_only)
{
    double v;
    cr_assert_eq(acr_args_parse_num(&size, "1.5k", &v), 0);
    cr_assert_eq(v, 1536.0);
    cr_assert_eq(acr_args_parse_num(&size, "2M", &v), 0);
    cr_assert_eq(v, 2097152.0);
    cr_assert_eq(acr_args_parse_num(&size, "1G", &v), 0);
    cr_assert_eq(acr_args_parse_num(&size, "0.5", &v), -EINVAL, "half a byte is no limit at all");
    cr_assert_eq(acr_args_parse_num(&size, "2G", &v), -ERANGE);
    cr_assert_eq(acr_args_parse_num(&size, "1e30", &v), -ERANGE);
    cr_assert_eq(acr_args_parse_num(&size, "k", &v), -EINVAL);
}

/* ---- help from the table ---- */

static const acr_opt help_opts[] = {
    {"concurrency", 'c', 'c', ACR_ARG_REQUIRED, &count, "N", "Running", 0, 0, 0, "requests in flight"},
    {"timeout", 't', 't', ACR_ARG_REQUIRED, &real, "SECS", "Running", 0, 0, 0, "per request\n(SECS: fractions)"},
    {"max-time", 0, 't', ACR_ARG_REQUIRED, &real, "SECS", "Running", 0, 0, ACR_OPT_ALIAS, NULL},
    {"first", '1', '1', ACR_ARG_OPTIONAL, &count, "N", "Running", 0, 0, 0, "stop early"},
    {"report", 0, 'r', ACR_ARG_REQUIRED, NULL, "text|json|none", "Output", 0, 0, 0, "the report"},
    {"write-out", 'w', 'w', ACR_ARG_REQUIRED, NULL, "FMT", "Output", 0, 0, 0, "%% and %{VAR}"},
    {"list-options", 0, 'l', ACR_ARG_NONE, NULL, NULL, NULL, 0, 0, ACR_OPT_HIDDEN, "secret"},
    {NULL},
};

static char *help_of(const acr_opt *o)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    acr_args_help(f, o);
    fclose(f);
    return buf;
}

Test(args, help_is_made_from_the_rows_in_their_order_under_their_groups)
{
    char *h = help_of(help_opts);
    cr_assert_str_eq(h, "Running:\n"
                        "  -c, --concurrency N      requests in flight\n"
                        "  -t, --timeout SECS       per request; also --max-time\n"
                        "                           (SECS: fractions)\n"
                        "  -1, --first[=N]          stop early\n"
                        "Output:\n"
                        "      --report text|json|none  the report\n"
                        "  -w, --write-out FMT      %% and %{VAR}\n");
    free(h);
}

Test(args, hidden_options_parse_but_are_neither_shown_nor_suggested)
{
    char *argv[] = {"acrawl", "--list-options", NULL};
    acr_args a;
    acr_arg got;
    char err[256];
    acr_args_init(&a, help_opts, 2, argv);
    cr_assert_eq(acr_args_next(&a, &got, err, sizeof err), 1, "%s", err);
    cr_assert_eq(got.opt->id, 'l');
    cr_assert_null(acr_args_suggest(help_opts, "list-option", 11));
    char *h = help_of(help_opts);
    cr_assert_null(strstr(h, "list-options"), "%s", h);
    free(h);
}
