/* hist.h -- private: a fixed-size log-bucket latency histogram (O(1) memory,
 * about 3 % relative error), with exact count, sum, min and max. */
#ifndef ACR_APP_HIST_H
#define ACR_APP_HIST_H

#include <stdint.h>

#define ACR_HIST_SUB 32     /* buckets per power of two */
#define ACR_HIST_POW 40     /* 1 µs .. ~12 days */

typedef struct acr_hist {
    uint64_t count;
    int64_t sum_ns, min_ns, max_ns;
    uint32_t b[ACR_HIST_POW * ACR_HIST_SUB];
} acr_hist;

void acr_hist_init(acr_hist *h);
void acr_hist_add(acr_hist *h, int64_t ns);
/* Value at quantile q (0..1), in ns; 0 when empty. */
int64_t acr_hist_quantile(const acr_hist *h, double q);
/* Lower bound in ns of bucket i (0 <= i <= ACR_HIST_N). Below 32 µs neighbouring
 * buckets can share a bound; only the first of such a run ever holds values. */
int64_t acr_hist_bucket_lo(int i);

#define ACR_HIST_N (ACR_HIST_POW * ACR_HIST_SUB)

/* A band of the printed histogram: values in [lo_ns, hi_ns). */
typedef struct acr_hist_band {
    int64_t lo_ns, hi_ns;
    uint64_t n;
} acr_hist_band;

/* Merges the buckets from the first to the last non-empty one into at most max
 * (> 0) bands of equal bucket counts, every band wider than zero. Returns how many
 * bands were written to out; 0 when h is empty. */
int acr_hist_bands(const acr_hist *h, acr_hist_band *out, int max);

#define ACR_HIST_LABEL 40

/* Labels for the n + 1 edges of n bands (labels[i] is band i's lower edge, labels[n]
 * the last band's upper edge), each rounded to a precision chosen from the widths of
 * the bands beside it, so that no two labels are the same: "0.204 ms", "35 ms", "12 s". */
void acr_hist_band_labels(const acr_hist_band *b, int n, char (*labels)[ACR_HIST_LABEL]);

#endif
