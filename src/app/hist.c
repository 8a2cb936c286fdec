/* hist.c -- log-bucket histogram: bucket = (floor(log2 µs), 32 linear sub-steps). */
#include <string.h>

#include "hist.h"

void acr_hist_init(acr_hist *h)
{
    memset(h, 0, sizeof *h);
    h->min_ns = INT64_MAX;
}

static int bucket_of(int64_t ns)
{
    uint64_t us = ns < 1000 ? 1 : (uint64_t)ns / 1000;
    int p = 63 - __builtin_clzll(us);
    if (p >= ACR_HIST_POW)
        return ACR_HIST_POW * ACR_HIST_SUB - 1;
    uint64_t base = 1ull << p;
    int sub = (int)((us - base) * ACR_HIST_SUB / base);
    return p * ACR_HIST_SUB + sub;
}

int64_t acr_hist_bucket_lo(int i)
{
    int p = i / ACR_HIST_SUB, sub = i % ACR_HIST_SUB;
    uint64_t base = 1ull << p;
    return (int64_t)(base + base * (uint64_t)sub / ACR_HIST_SUB) * 1000;
}

void acr_hist_add(acr_hist *h, int64_t ns)
{
    if (ns < 0)
        ns = 0;
    h->count++;
    h->sum_ns += ns;
    if (ns < h->min_ns)
        h->min_ns = ns;
    if (ns > h->max_ns)
        h->max_ns = ns;
    h->b[bucket_of(ns)]++;
}

int64_t acr_hist_quantile(const acr_hist *h, double q)
{
    if (h->count == 0)
        return 0;
    uint64_t want = (uint64_t)(q * (double)(h->count - 1)) + 1;
    uint64_t seen = 0;
    for (int i = 0; i < ACR_HIST_POW * ACR_HIST_SUB; i++) {
        seen += h->b[i];
        if (seen >= want) {
            /* Middle of the bucket, clamped to what was really seen. */
            int64_t lo = acr_hist_bucket_lo(i), hi = acr_hist_bucket_lo(i + 1);
            int64_t v = (lo + hi) / 2;
            if (v < h->min_ns)
                v = h->min_ns;
            if (v > h->max_ns)
                v = h->max_ns;
            return v;
        }
    }
    return h->max_ns;
}
