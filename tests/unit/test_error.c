/* test_error.c -- error codes: messages and names from ACR_ERRNO_MAP, kinds from the
 * program's mapping, and README's table of error kinds held against the list. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "acrawl/error.h"
#include "app/kind.h"
#include "helpers.h"

Test(error, messages_and_names)
{
    cr_assert_str_eq(acr_strerror(ACR_ETIMEOUT), "deadline elapsed");
    cr_assert_str_eq(acr_errname(ACR_ECANCELED), "ECANCELED");
    cr_assert_str_eq(acr_errname(ACR_ETLSCONFIG), "ETLSCONFIG");
    cr_assert_str_eq(acr_errname(-ECONNREFUSED), "ECONNREFUSED");
    cr_assert_str_eq(acr_errname(0), "OK");
    cr_assert_str_eq(acr_strerror(-ECONNREFUSED), strerror(ECONNREFUSED));
    cr_assert_str_eq(acr_strerror(12345), "unknown error");
    cr_assert_str_eq(acr_errname(12345), "EUNKNOWN");
}

Test(error, codes_are_distinct_and_beyond_errno)
{
    static const int codes[] = {
#define CODE(name, n, kind, msg) ACR_##name,
        ACR_ERRNO_MAP(CODE)
#undef CODE
    };
    size_t n = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < n; i++) {
        cr_assert_lt(codes[i], -4096, "%s is inside errno's range", acr_errname(codes[i]));
        for (size_t j = i + 1; j < n; j++)
            cr_assert_neq(codes[i], codes[j], "%s and %s share a code", acr_errname(codes[i]), acr_errname(codes[j]));
    }
}

Test(error, kinds)
{
    cr_assert_str_eq(acr_error_kind(0), "ok");
    cr_assert_str_eq(acr_error_kind(ACR_EBADURL), "bad-url");
    cr_assert_str_eq(acr_error_kind(ACR_ECANCELED), "cancelled");
    cr_assert_str_eq(acr_error_kind(-ENOMEM), "system");
    cr_assert_str_eq(acr_error_kind(ACR_ENOSTACK), "system");
}

/* The kinds README's "Error kinds" table lists, one per row: "| `kind` | ...". */
static size_t readme_kinds(char kinds[][32], size_t max)
{
    FILE *f = fopen("README.md", "r");
    cr_assert_not_null(f, "README.md not found: run the tests from the repository's root");
    char line[1024];
    bool in_table = false;
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "### Error kinds", 15)) {
            in_table = true;
            continue;
        }
        if (in_table && !strncmp(line, "###", 3))
            break;
        char k[32];
        if (in_table && n < max && sscanf(line, "| `%31[^`]` |", k) == 1)
            snprintf(kinds[n++], sizeof kinds[0], "%s", k);
    }
    fclose(f);
    return n;
}

static bool listed(char kinds[][32], size_t n, const char *kind)
{
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(kinds[i], kind))
            return true;
    }
    return false;
}

Test(error, readme_table_lists_exactly_the_kinds_of_the_code_list)
{
    char doc[64][32];
    size_t ndoc = readme_kinds(doc, 64);
    cr_assert_gt(ndoc, 0, "no error kinds table in README.md");
    static const char *const code_kinds[] = {
#define KIND(name, n, kind, msg) kind,
        ACR_ERRNO_MAP(KIND)
#undef KIND
        "system",
    };
    size_t nk = sizeof code_kinds / sizeof code_kinds[0];
    for (size_t i = 0; i < nk; i++)
        cr_expect(listed(doc, ndoc, code_kinds[i]), "kind '%s' of ACR_ERRNO_MAP is missing from README's table",
                  code_kinds[i]);
    for (size_t i = 0; i < ndoc; i++) {
        bool found = false;
        for (size_t j = 0; j < nk && !found; j++)
            found = !strcmp(doc[i], code_kinds[j]);
        cr_expect(found, "README lists kind '%s', which no code has", doc[i]);
    }
}
