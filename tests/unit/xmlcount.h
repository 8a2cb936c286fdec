/* xmlcount.h -- test helper: libxml2's live heap, counted through xmlMemSetup, for
 * tests that hold the parsers to flat memory. xml_count_start() installs it. */
#ifndef ACR_TESTS_XMLCOUNT_H
#define ACR_TESTS_XMLCOUNT_H

#include <criterion/criterion.h>
#include <libxml/xmlmemory.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

static long long xml_live, xml_peak;

static void *count_malloc(size_t n)
{
    void *p = malloc(n);
    if (p) {
        xml_live += (long long)malloc_usable_size(p);
        xml_peak = xml_live > xml_peak ? xml_live : xml_peak;
    }
    return p;
}

static void count_free(void *p)
{
    if (p)
        xml_live -= (long long)malloc_usable_size(p);
    free(p);
}

static void *count_realloc(void *p, size_t n)
{
    size_t before = p ? malloc_usable_size(p) : 0;
    void *q = realloc(p, n);
    if (q) {
        xml_live += (long long)malloc_usable_size(q) - (long long)before;
        xml_peak = xml_live > xml_peak ? xml_live : xml_peak;
    }
    return q;
}

static char *count_strdup(const char *s)
{
    char *p = count_malloc(strlen(s) + 1);
    if (p)
        strcpy(p, s);
    return p;
}

static inline void xml_count_start(void)
{
    cr_assert_eq(xmlMemSetup(count_free, count_malloc, count_realloc, count_strdup), 0);
}

#endif
