/* fpset.c -- set of 64-bit fingerprints (see fpset.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

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

/* A large table is probed at random, a TLB miss per probe with 4 KiB pages: it asks
 * for transparent huge pages (a hint; THP set to "madvise" honours it). */
static void want_huge_pages(void *p, size_t bytes)
{
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = 2u << 20;
    if (bytes < 2 * huge)
        return;
    uintptr_t lo = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t hi = ((uintptr_t)p + bytes) & ~(huge - 1);
    if (hi > lo)
        (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
    (void)p;
    (void)bytes;
#endif
}

static int grow(acr__fpset *s)
{
    size_t cap = s->cap ? s->cap * 2 : 1024;
    uint64_t *v = acr_calloc(cap, sizeof *v);
    if (!v)
        return -ENOMEM;
    want_huge_pages(v, cap * sizeof *v);
    for (size_t i = 0; i < s->cap; i++) {
        if (s->v[i])
            v[slot(v, cap, s->v[i])] = s->v[i];
    }
    free(s->v);
    s->v = v;
    s->cap = cap;
    return 0;
}

int acr__fpset_reserve(acr__fpset *s, size_t n)
{
    while (n > SIZE_MAX / 8 || n * 4 > s->cap * 3) {
        if (n > SIZE_MAX / 8 || grow(s) != 0)
            return -ENOMEM;
    }
    return 0;
}

int acr__fpset_add(acr__fpset *s, uint64_t fp)
{
    /* At most three quarters full: 8 / 0.75 = 10.7 to 21.3 bytes a member, and
     * linear probing still ends within a cache line or two. */
    if ((s->n + 1) * 4 > s->cap * 3 && grow(s) != 0)
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

static inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

/* One 8-byte word into h (MurmurHash3's x64 block step on one lane). */
static inline uint64_t mix(uint64_t h, uint64_t k)
{
    k *= 0x87c37b91114253d5ull;
    k = rotl(k, 31);
    k *= 0x4cf5ad432745937full;
    h ^= k;
    return rotl(h, 27) * 5 + 0x52dce729;
}

uint64_t acr__hash64(const void *p, size_t n)
{
    /* Eight bytes a step (byte-wise FNV cost a multiply per byte, ~70 ns a URL). */
    const unsigned char *b = p;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t k;
        memcpy(&k, b + i, 8);
        h = mix(h, k);
    }
    if (i < n) {
        uint64_t k = 0;
        for (size_t j = 0; i + j < n; j++)
            k |= (uint64_t)b[i + j] << (8 * j);
        h = mix(h, k);
    }
    /* MurmurHash3's fmix64: every bit of the result depends on every input bit. */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}
