/* fpset.h -- private: a set of 64-bit fingerprints (open addressing, linear probing,
 * at most three quarters full: 10.7 to 21.3 bytes per member, huge pages asked for
 * once the table passes 4 MiB). For --unique today and the
 * crawler's seen-set: fixed-size keys, never strings. */
#ifndef ACR_UTIL_FPSET_H
#define ACR_UTIL_FPSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct acr__fpset {
    uint64_t *v;            /* 0 marks a free slot */
    size_t cap, n;          /* cap: 0 or a power of two */
} acr__fpset;

/* An empty set; allocates nothing. */
void acr__fpset_init(acr__fpset *s);
void acr__fpset_release(acr__fpset *s);
/* Adds fp: 1 when it was new, 0 when it was there already, -ENOMEM (not added). */
int acr__fpset_add(acr__fpset *s, uint64_t fp);
bool acr__fpset_has(const acr__fpset *s, uint64_t fp);
/* Room for n members without growing. 0 or -ENOMEM (the set is as it was). */
int acr__fpset_reserve(acr__fpset *s, size_t n);
static inline size_t acr__fpset_len(const acr__fpset *s) { return s->n; }

/* A 64-bit fingerprint of n bytes (MurmurHash3's x64 block step over 8-byte words,
 * then its 64-bit finaliser so that every bit of the result depends on every input
 * bit). Fingerprints are kept in --state directories too: see ACR_HASH64_VERSION;
 * words are read in the host's byte order, so a state does not move between
 * architectures of another endianness. */
uint64_t acr__hash64(const void *p, size_t n);
/* Which acr__hash64 this is: a --state directory keeps fingerprints, so a change to
 * the function must change this too, and old states are then refused, not misread. */
#define ACR_HASH64_VERSION 2

#endif
