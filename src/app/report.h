/* report.h -- private: the run summary (fixed size whatever the list length) and the
 * timing report: counts, latency percentiles and histogram, the sequential-vs-
 * concurrent line, the --compare table and the --timeline waterfall. */
#ifndef ACR_APP_REPORT_H
#define ACR_APP_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "jobs/crawljob.h"

#include "hist.h"
#include "jobs/record.h"

#define ACR_KINDS 24
#define ACR_TIMELINE_ROWS 40

typedef struct acr_tl_row {
    uint64_t line;
    int64_t queued, start, end;     /* relative to the run start, ns */
    bool ok;
} acr_tl_row;

typedef struct acr_summary {
    char label[16];                 /* "sync", "async", "libcurl" */
    unsigned concurrency;
    uint64_t total, ok, http_err, failed, cancelled;
    uint64_t completed;             /* requests that ran to an end: not cancelled, not bad-url */
    struct {
        char name[16];
        uint64_t n;
    } kinds[ACR_KINDS];
    uint64_t bytes;
    acr_hist lat, queue;
    int64_t sum_ns;                 /* sum of request times: a sequential run's length */
    int64_t t0, wall_ns;
    int64_t input_wait_ns;          /* waiting for a pipe or terminal to deliver (the caller sets it) */
    double cpu_s;
    long maxrss_kb;
    acr_tl_row rows[ACR_TIMELINE_ROWS];
    uint64_t nrows_seen;
    uint32_t rng;
} acr_summary;

void acr_summary_init(acr_summary *s, const char *label, unsigned concurrency, int64_t t0);
void acr_summary_add(acr_summary *s, const acr_record *r);
/* Wall time, CPU and peak RSS of this process so far. */
void acr_summary_finish(acr_summary *s);
/* Completed requests per second of wall time (cancelled ones and bad-url lines are
 * not requests that ran); 0 without wall time. */
double acr_summary_req_per_s(const acr_summary *s);

/* How the text report may draw: ANSI colours, and Unicode block characters for bars
 * (else '#'). */
typedef struct acr_report_style {
    bool color, unicode;
} acr_report_style;

/* True when LC_CTYPE from the environment (setlocale(LC_CTYPE, "")) has the UTF-8
 * codeset. The process's locale is left as it was. */
bool acr_report_unicode(void);

void acr_report_text(FILE *f, const acr_summary *s, acr_report_style st);
/* crawl: the crawl's figures in crawl mode, else NULL. */
void acr_report_json(FILE *f, const acr_summary *s, const acr_crawl_stats *crawl);
/* The crawl's figures, after the text report: pages by depth, skips by reason,
 * robots.txt outcomes, links, dedup hits, frontier peak. */
void acr_report_crawl(FILE *f, const acr_crawl_stats *c);
void acr_report_timeline(FILE *f, const acr_summary *s, bool color);
/* n runs side by side; the first is the baseline for the speedup column. */
void acr_report_compare(FILE *f, const acr_summary *const *runs, int n, acr_report_style st);
void acr_report_compare_json(FILE *f, const acr_summary *const *runs, int n);

#endif
