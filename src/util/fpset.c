/* fpset.c -- set of 64-bit fingerprints (see fpset.h). */
#include <errno.h>
#include <stdlib.h>

#include "fpset.h"
#include "util/alloc.h"

void acr__fpset_init(acr__fpset *s) { *s = (acr__fpset){0}; }

void acr__fpset_release(acr__fpset *s)
{
    free(s->v);
    acr__fpset_init(s);
}

/* 0 is the free-slot mark: the one fingerprint that could collide with it moves. */
static uint64_t key(uint64_t fp) { return fp ? fp : 1; }

/* The slot that holds k, or the free slot where it would go. cap > 0. */
static size_t slot(const uint64_t *v, size_t cap, uint64_t k)
{
    size_t i = (size_t)k & (cap - 1);
    while (v[i] && v[i] != k)
        i = (i + 1) & (cap - 1);
    return i;
}

static int grow(acr__fpset *s)
{
    size_t cap = s->cap ? s->cap * 2 : 1024;
    uint64_t *v = acr_calloc(cap, sizeof *v);
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < s->cap; i++) {
        if (s->v[i])
            v[slot(v, cap, s->v[i])] = s->v[i];
    }
    free(s->v);
    s->v = v;
    s->cap = cap;
    return 0;
}

int acr__fpset_add(acr__fpset *s, uint64_t fp)
{
    if ((s->n + 1) * 2 > s->cap && grow(s) != 0)
        return -ENOMEM;
    uint64_t k = key(fp);
    size_t i = slot(s->v, s->cap, k);
    if (s->v[i])
        return 0;
    s->v[i] = k;
    s->n++;
    return 1;
}

bool acr__fpset_has(const acr__fpset *s, uint64_t fp)
{
    if (!s->cap)
        return false;
    uint64_t k = key(fp);
    return s->v[slot(s->v, s->cap, k)] == k;
}

uint64_t acr__hash64(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ull;
    }
    /* MurmurHash3's fmix64: FNV's low bits alone probe badly. */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}
