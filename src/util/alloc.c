/* alloc.c -- the allocation wrapper and its fault injection (see alloc.h). */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

static _Thread_local uint64_t count, fail_at;

/* True when this allocation is the one a test asked to fail. */
static int injected(void)
{
    count++;
    return fail_at != 0 && count == fail_at;
}

void acr_alloc_fail_nth(uint64_t n) { fail_at = n ? count + n : 0; }
uint64_t acr_alloc_count(void) { return count; }

void *acr_malloc(size_t n) { return injected() ? NULL : malloc(n); }
void *acr_calloc(size_t n, size_t size) { return injected() ? NULL : calloc(n, size); }
void *acr_realloc(void *p, size_t n) { return injected() ? NULL : realloc(p, n); }
char *acr_strdup(const char *s) { return injected() ? NULL : strdup(s); }
char *acr_strndup(const char *s, size_t n) { return injected() ? NULL : strndup(s, n); }
