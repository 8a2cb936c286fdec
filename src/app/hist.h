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
/* Lower bound in ns of bucket i. */
int64_t acr_hist_bucket_lo(int i);

#endif
