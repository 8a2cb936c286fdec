/* test_args.c -- command-line syntax: exact option names, suggestions, bundles,
 * operands anywhere. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "app/args.h"

enum { O_RATE = 256 };

static const acr_opt opts[] = {
    {"concurrency", 'c', 'c', ACR_ARG_REQUIRED},
    {"user-agent", 'A', 'A', ACR_ARG_REQUIRED},
    {"header", 'H', 'H', ACR_ARG_REQUIRED},
    {"first", '1', '1', ACR_ARG_OPTIONAL},
    {"quiet", 'q', 'q', ACR_ARG_NONE},
    {"rate", 0, O_RATE, ACR_ARG_REQUIRED},
    {NULL, 0, 0, ACR_ARG_NONE},
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
    cr_assert_str_eq(got[1].value, "5");
    cr_assert_str_eq(got[1].flag, "-c");
    cr_assert_str_eq(got[2].value, "3", "a bare number after --first is its value");
    cr_assert_str_eq(got[3].value, "2.5");
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
