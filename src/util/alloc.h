/* alloc.h -- private: every allocation of acrawl's own code goes through these, so
 * tests can count allocations and make the Nth one fail (neco's and libuv's OOM
 * tests do the same). free() stays free(). */
#ifndef ACR_UTIL_ALLOC_H
#define ACR_UTIL_ALLOC_H

#include <stddef.h>
#include <stdint.h>

void *acr_malloc(size_t n);
void *acr_calloc(size_t n, size_t size);
void *acr_realloc(void *p, size_t n);
char *acr_strdup(const char *s);
char *acr_strndup(const char *s, size_t n);

/* Fault injection: the nth allocation from now fails (1: the next one), and only
 * that one; 0 disarms. */
void acr_alloc_fail_nth(uint64_t n);
/* Allocations asked for so far (failed ones included). */
uint64_t acr_alloc_count(void);

#endif
