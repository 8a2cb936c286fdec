/* hist.c -- log-bucket histogram: bucket = (floor(log2 µs), 32 linear sub-steps). */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
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

/* ---- bands and their labels ---- */

/* The first bucket after i with a larger lower bound (or ACR_HIST_N). */
static int next_edge(int i)
{
    int64_t lo = acr_hist_bucket_lo(i);
    int j = i + 1;
    while (j < ACR_HIST_N && acr_hist_bucket_lo(j) == lo)
        j++;
    return j;
}

/* First and last non-empty bucket; false when h is empty. */
static bool used_range(const acr_hist *h, int *first, int *last)
{
    *first = -1;
    for (int i = 0; i < ACR_HIST_N; i++) {
        if (h->b[i] == 0)
            continue;
        if (*first < 0)
            *first = i;
        *last = i;
    }
    return *first >= 0;
}

int acr_hist_bands(const acr_hist *h, acr_hist_band *out, int max)
{
    int first, last;
    if (max <= 0 || !used_range(h, &first, &last))
        return 0;
    int edges = 0; /* distinct bucket ranges: equal bounds would make empty-width bands */
    for (int i = first; i <= last; i = next_edge(i))
        edges++;
    int rows = edges < max ? edges : max;
    int per = (edges + rows - 1) / rows;
    int n = 0, k = 0;
    for (int i = first; i <= last; k++) {
        int j = next_edge(i);
        if (k % per == 0)
            out[n++] = (acr_hist_band){.lo_ns = acr_hist_bucket_lo(i)};
        for (int b = i; b < j; b++)
            out[n - 1].n += h->b[b];
        out[n - 1].hi_ns = acr_hist_bucket_lo(j);
        i = j;
    }
    return n;
}

/* Rounding step for an edge between bands of widths w1 and w2 (ns): the largest power
 * of ten, in µs, at most half the narrower one. Two edges a band of width w apart then
 * move by at most w/4 each, so their labels never meet. */
static int64_t edge_step_us(int64_t w1_ns, int64_t w2_ns)
{
    int64_t half_us = (w1_ns < w2_ns ? w1_ns : w2_ns) / 2000;
    int64_t step = 1;
    while (step * 10 <= half_us)
        step *= 10;
    return step;
}

/* us rounded to step (a power of ten, in µs), with as many decimals as step needs:
 * milliseconds, or seconds from 10 s on when step is 0.1 s or more. Integer
 * arithmetic, so rounding is exact and ties go the same way. */
static void edge_label(char *buf, size_t len, int64_t us, int64_t step)
{
    bool secs = us >= 10000000 && step >= 100000;
    int64_t unit_us = secs ? 1000000 : 1000;
    const char *unit = secs ? "s" : "ms";
    int64_t r = (us + step / 2) / step * step;
    int decimals = 0;
    for (int64_t d = unit_us; d > step && decimals < 6; d /= 10)
        decimals++;
    if (decimals == 0) {
        snprintf(buf, len, "%" PRId64 " %s", r / unit_us, unit);
        return;
    }
    char frac[8]; /* every digit below the unit, then cut to the decimals step needs */
    snprintf(frac, sizeof frac, secs ? "%06" PRId64 : "%03" PRId64, r % unit_us);
    snprintf(buf, len, "%" PRId64 ".%.*s %s", r / unit_us, decimals, frac, unit);
}

void acr_hist_band_labels(const acr_hist_band *b, int n, char (*labels)[ACR_HIST_LABEL])
{
    for (int i = 0; i <= n && n > 0; i++) {
        int64_t left = i > 0 ? b[i - 1].hi_ns - b[i - 1].lo_ns : INT64_MAX;
        int64_t right = i < n ? b[i].hi_ns - b[i].lo_ns : INT64_MAX;
        int64_t edge = i < n ? b[i].lo_ns : b[n - 1].hi_ns;
        edge_label(labels[i], ACR_HIST_LABEL, edge / 1000, edge_step_us(left, right));
    }
}
