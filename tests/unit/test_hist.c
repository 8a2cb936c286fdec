/* test_hist.c -- the latency histogram: quantiles, and the bands and labels the
 * report prints (labels must never repeat, whatever the spread). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "app/hist.h"

#define US 1000LL
#define MS (1000 * US)

/* A label's value in ms ("0.204 ms", "12 s"). */
static double label_ms(const char *label)
{
    char *end;
    double v = strtod(label, &end);
    cr_assert(!strcmp(end, " ms") || !strcmp(end, " s"), "unit of \"%s\"", label);
    return strcmp(end, " s") ? v : v * 1000;
}

/* Bands of h and their labels; checks what must hold for any histogram. */
static int bands_and_labels(const acr_hist *h, acr_hist_band *b, char (*labels)[ACR_HIST_LABEL])
{
    int n = acr_hist_bands(h, b, 12);
    cr_assert_gt(n, 0);
    cr_assert_leq(n, 12);
    acr_hist_band_labels(b, n, labels);
    uint64_t total = 0;
    for (int i = 0; i < n; i++) {
        cr_assert_gt(b[i].hi_ns, b[i].lo_ns, "band %d is [%lld, %lld)", i, (long long)b[i].lo_ns,
                     (long long)b[i].hi_ns);
        if (i > 0)
            cr_assert_eq(b[i].lo_ns, b[i - 1].hi_ns, "bands %d and %d touch", i - 1, i);
        total += b[i].n;
    }
    cr_assert_eq(total, h->count, "every value is in a band");
    cr_assert_leq(b[0].lo_ns, h->min_ns < 1000 ? 1000 : h->min_ns, "under 1 µs counts as 1 µs");
    cr_assert_gt(b[n - 1].hi_ns, h->max_ns);
    cr_assert_gt(b[n - 1].n, 0, "no band past the largest value");
    for (int i = 0; i <= n; i++) {
        for (int j = i + 1; j <= n; j++)
            cr_assert_str_neq(labels[i], labels[j], "labels %d and %d are both \"%s\"", i, j, labels[i]);
    }
    for (int i = 1; i <= n; i++)
        cr_assert_lt(label_ms(labels[i - 1]), label_ms(labels[i]), "\"%s\" before \"%s\"", labels[i - 1],
                     labels[i]);
    return n;
}

Test(hist, quantiles_within_bucket_error)
{
    acr_hist h;
    acr_hist_init(&h);
    for (int i = 1; i <= 1000; i++)
        acr_hist_add(&h, i * MS);
    cr_assert_eq(h.count, 1000);
    int64_t p50 = acr_hist_quantile(&h, 0.5);
    cr_assert(p50 > 480 * MS && p50 < 520 * MS, "p50 %lld", (long long)p50);
    cr_assert_eq(acr_hist_quantile(&h, 1.0), 1000 * MS);
}

Test(hist, narrow_spread_labels_do_not_repeat)
{
    /* The report once printed "0.2 ms - 0.2 ms" for every row of this. */
    acr_hist h;
    acr_hist_init(&h);
    for (int64_t us = 200; us < 216; us++)
        acr_hist_add(&h, us * US);
    acr_hist_band b[12];
    char labels[13][ACR_HIST_LABEL];
    int n = bands_and_labels(&h, b, labels);
    cr_assert_str_eq(labels[0], "0.200 ms");
    cr_assert_str_eq(labels[n], "0.216 ms");
}

Test(hist, microsecond_buckets_that_share_bounds_make_no_empty_bands)
{
    /* Below 32 µs several buckets share a lower bound: bands of such buckets would
     * have zero width and two equal labels. */
    acr_hist h;
    acr_hist_init(&h);
    for (int64_t us = 1; us <= 40; us++)
        acr_hist_add(&h, us * US);
    acr_hist_add(&h, 0);
    acr_hist_band b[12];
    char labels[13][ACR_HIST_LABEL];
    bands_and_labels(&h, b, labels);
}

Test(hist, a_single_value_and_two_close_values)
{
    acr_hist h;
    acr_hist_init(&h);
    acr_hist_add(&h, 1500 * US);
    acr_hist_band b[12];
    char labels[13][ACR_HIST_LABEL];
    cr_assert_eq(bands_and_labels(&h, b, labels), 1);
    acr_hist_add(&h, 1510 * US);
    bands_and_labels(&h, b, labels);
}

Test(hist, wide_spread_switches_to_seconds_and_keeps_labels_apart)
{
    acr_hist h;
    acr_hist_init(&h);
    for (int64_t v = 50 * US; v < 60000 * MS; v = v * 3 / 2)
        acr_hist_add(&h, v);
    acr_hist_band b[12];
    char labels[13][ACR_HIST_LABEL];
    int n = bands_and_labels(&h, b, labels);
    cr_assert_eq(n, 12);
    cr_assert(strstr(labels[n], " s") != NULL, "top label \"%s\" is in seconds", labels[n]);
    cr_assert(strstr(labels[0], " ms") != NULL, "bottom label \"%s\" is in milliseconds", labels[0]);
    cr_assert_leq(strlen(labels[0]), 8, "\"%s\" is not over-precise", labels[0]);
}

Test(hist, labels_round_the_same_way_at_every_spread)
{
    /* Many spreads and offsets: labels never repeat. */
    for (int64_t base = 1; base < 100000; base = base * 7 / 3 + 1) {
        for (int64_t spread = 1; spread < 400; spread = spread * 2 + 1) {
            acr_hist h;
            acr_hist_init(&h);
            for (int64_t k = 0; k <= spread; k += 1 + spread / 50)
                acr_hist_add(&h, (base + k) * US);
            acr_hist_band b[12];
            char labels[13][ACR_HIST_LABEL];
            bands_and_labels(&h, b, labels);
        }
    }
}

Test(hist, empty_gives_no_bands)
{
    acr_hist h;
    acr_hist_init(&h);
    acr_hist_band b[12];
    cr_assert_eq(acr_hist_bands(&h, b, 12), 0);
}
