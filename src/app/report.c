/* report.c -- the timing report on stderr (text or JSON). */
#include <langinfo.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "kind.h"
#include "acrawl/error.h"
#include "acrawl/loop.h"
#include "report.h"

void acr_summary_init(acr_summary *s, const char *label, unsigned concurrency, int64_t t0)
{
    memset(s, 0, sizeof *s);
    snprintf(s->label, sizeof s->label, "%s", label);
    s->concurrency = concurrency;
    acr_hist_init(&s->lat);
    acr_hist_init(&s->queue);
    s->t0 = t0;
    s->rng = 0x9e3779b9u;
}

static void count_kind(acr_summary *s, const char *name)
{
    for (int i = 0; i < ACR_KINDS; i++) {
        if (!s->kinds[i].name[0])
            snprintf(s->kinds[i].name, sizeof s->kinds[i].name, "%s", name);
        if (!strcmp(s->kinds[i].name, name)) {
            s->kinds[i].n++;
            return;
        }
    }
}

/* Reservoir sampling keeps ACR_TIMELINE_ROWS rows whatever the list length. */
static void sample_row(acr_summary *s, const acr_record *r)
{
    if (r->start == 0)
        return;
    acr_tl_row row = {.line = r->line, .queued = r->start - r->t.queue - s->t0, .start = r->start - s->t0,
                      .end = r->end - s->t0, .ok = r->error == 0 && r->status < 400};
    uint64_t k = s->nrows_seen++;
    if (k < ACR_TIMELINE_ROWS) {
        s->rows[k] = row;
        return;
    }
    s->rng = s->rng * 1664525u + 1013904223u;
    uint64_t j = ((uint64_t)s->rng << 16 | (s->rng >> 16)) % (k + 1);
    if (j < ACR_TIMELINE_ROWS)
        s->rows[j] = row;
}

void acr_summary_add(acr_summary *s, const acr_record *r)
{
    s->total++;
    if (r->error == ACR_ECANCELED) {
        s->cancelled++;
    } else if (r->error) {
        s->failed++;
        count_kind(s, acr_error_kind(r->error));
    } else if (r->status >= 400) {
        s->http_err++;
    } else {
        s->ok++;
    }
    s->bytes += r->body_bytes;
    if (r->attempt > 0 && r->error != ACR_ECANCELED) {
        s->completed++;
        acr_hist_add(&s->lat, r->t.total);
        acr_hist_add(&s->queue, r->t.queue);
        s->sum_ns += r->t.total;
    }
    sample_row(s, r);
}

void acr_summary_finish(acr_summary *s)
{
    s->wall_ns = acr_now() - s->t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    s->cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
               ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
    s->maxrss_kb = ru.ru_maxrss;
}

double acr_summary_req_per_s(const acr_summary *s)
{
    return s->wall_ns > 0 ? (double)s->completed * 1e9 / (double)s->wall_ns : 0.0;
}

bool acr_report_unicode(void)
{
    const char *cur = setlocale(LC_CTYPE, NULL);
    char saved[256];
    snprintf(saved, sizeof saved, "%s", cur ? cur : "C");
    if (!setlocale(LC_CTYPE, ""))
        return false; /* the environment names a locale that is not installed */
    bool utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
    setlocale(LC_CTYPE, saved);
    return utf8;
}

/* ---- text ---- */

static const char *C(bool color, const char *code) { return color ? code : ""; }

static void fmt_ms(char *buf, size_t len, int64_t ns)
{
    double ms = (double)ns / 1e6;
    if (ms >= 10000)
        snprintf(buf, len, "%.1f s", ms / 1000);
    else if (ms >= 100)
        snprintf(buf, len, "%.0f ms", ms);
    else
        snprintf(buf, len, "%.1f ms", ms);
}

static void fmt_bytes(char *buf, size_t len, uint64_t b)
{
    if (b >= (1ull << 30))
        snprintf(buf, len, "%.2f GiB", (double)b / (1ull << 30));
    else if (b >= (1ull << 20))
        snprintf(buf, len, "%.2f MiB", (double)b / (1ull << 20));
    else if (b >= 1024)
        snprintf(buf, len, "%.1f KiB", (double)b / 1024);
    else
        snprintf(buf, len, "%llu B", (unsigned long long)b);
}

static void bar(FILE *f, double frac, int width, bool unicode)
{
    if (!unicode) {
        int n = (int)(frac * width + 0.5);
        for (int i = 0; i < n; i++)
            fputc('#', f);
        return;
    }
    int full = (int)(frac * width * 8 + 0.5);
    static const char *parts[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
    for (int i = 0; i < full / 8; i++)
        fputs("█", f);
    fputs(parts[full % 8], f);
}

#define HIST_ROWS 12

/* Latency histogram over at most HIST_ROWS rows: the log buckets merged into bands. */
static void histogram(FILE *f, const acr_summary *s, acr_report_style st)
{
    if (s->lat.count < 2)
        return;
    acr_hist_band band[HIST_ROWS];
    int n = acr_hist_bands(&s->lat, band, HIST_ROWS);
    char label[HIST_ROWS + 1][ACR_HIST_LABEL];
    acr_hist_band_labels(band, n, label);
    uint64_t max = 1;
    int width = 0;
    for (int r = 0; r <= n; r++) {
        if (r < n && band[r].n > max)
            max = band[r].n;
        if ((int)strlen(label[r]) > width)
            width = (int)strlen(label[r]);
    }
    fprintf(f, "  latency histogram:\n");
    for (int r = 0; r < n; r++) {
        fprintf(f, "    %*s - %-*s %s", width, label[r], width, label[r + 1], C(st.color, "\033[36m"));
        bar(f, (double)band[r].n / (double)max, 40, st.unicode);
        fprintf(f, "%s %llu\n", C(st.color, "\033[0m"), (unsigned long long)band[r].n);
    }
}

/* Why a speedup figure would mislead, in buf; NULL when it is meaningful. */
static const char *no_speedup(const acr_summary *s, char *buf, size_t len)
{
    if (s->wall_ns <= 0) {
        snprintf(buf, len, "no wall time to compare with");
        return buf;
    }
    if (s->input_wait_ns * 2 > s->wall_ns) {
        snprintf(buf, len, "%.3f s of it went waiting for streamed input", (double)s->input_wait_ns / 1e9);
        return buf;
    }
    if (s->sum_ns * 20 < s->wall_ns) { /* it would print as 0.0x */
        if (s->cancelled)
            snprintf(buf, len, "the completed requests add up to under 5 %% of it, and the %llu cancelled ones "
                               "are not in the sum", (unsigned long long)s->cancelled);
        else
            snprintf(buf, len, "the requests add up to under 5 %% of it: the run mostly waited (--rate, retry "
                               "backoff, input)");
        return buf;
    }
    return NULL;
}

static void sequential_line(FILE *f, const acr_summary *s, acr_report_style st)
{
    double seq = (double)s->sum_ns / 1e9, wall = (double)s->wall_ns / 1e9;
    char why[200];
    fprintf(f, "  sequential estimate %.3f s (sum of request times) vs %.3f s wall: ", seq, wall);
    if (no_speedup(s, why, sizeof why))
        fprintf(f, "no speedup estimate: %s\n", why);
    else
        fprintf(f, "%s%.1fx speedup%s\n", C(st.color, "\033[1m"), seq / wall, C(st.color, "\033[0m"));
}

static void latency_lines(FILE *f, const acr_summary *s)
{
    const acr_hist *h = &s->lat;
    char t[5][16];
    fmt_ms(t[0], 16, h->min_ns);
    fmt_ms(t[1], 16, acr_hist_quantile(h, 0.5));
    fmt_ms(t[2], 16, acr_hist_quantile(h, 0.9));
    fmt_ms(t[3], 16, acr_hist_quantile(h, 0.99));
    fmt_ms(t[4], 16, h->max_ns);
    fprintf(f, "  latency (network, queue excluded): min %s  p50 %s  p90 %s  p99 %s  max %s\n", t[0], t[1], t[2],
            t[3], t[4]);
    fmt_ms(t[0], 16, acr_hist_quantile(&s->queue, 0.5));
    fmt_ms(t[1], 16, s->queue.max_ns);
    fprintf(f, "  queue (waiting for a slot): p50 %s  max %s\n", t[0], t[1]);
}

void acr_report_text(FILE *f, const acr_summary *s, acr_report_style st)
{
    char b[32];
    fmt_bytes(b, sizeof b, s->bytes);
    fprintf(f, "%s%s%s: %llu URLs in %.3f s (%.1f req/s, -c %u)\n", C(st.color, "\033[1m"), s->label,
            C(st.color, "\033[0m"), (unsigned long long)s->total, (double)s->wall_ns / 1e9,
            acr_summary_req_per_s(s), s->concurrency);
    fprintf(f, "  %s%llu ok%s, %llu HTTP >= 400, %s%llu failed%s, %llu cancelled; %s received\n",
            C(st.color, "\033[32m"), (unsigned long long)s->ok, C(st.color, "\033[0m"),
            (unsigned long long)s->http_err, C(st.color && s->failed, "\033[31m"), (unsigned long long)s->failed,
            C(st.color && s->failed, "\033[0m"), (unsigned long long)s->cancelled, b);
    if (s->failed) {
        fprintf(f, "  failed by kind:");
        for (int i = 0; i < ACR_KINDS && s->kinds[i].name[0]; i++)
            fprintf(f, " %s %llu", s->kinds[i].name, (unsigned long long)s->kinds[i].n);
        fprintf(f, "\n");
    }
    if (s->lat.count) {
        latency_lines(f, s);
        sequential_line(f, s, st);
        histogram(f, s, st);
    }
}

static void crawl_json(FILE *f, const acr_crawl_stats *c)
{
    fprintf(f, "\"crawl\":{\"pages\":%llu,\"by_depth\":[", (unsigned long long)c->pages);
    int last = ACR_CRAWL_MAX_DEPTHS - 1;
    while (last > 0 && c->by_depth[last] == 0)
        last--;
    for (int d = 0; d <= last; d++)
        fprintf(f, "%s%llu", d ? "," : "", (unsigned long long)c->by_depth[d]);
    fprintf(f, "],\"links\":%llu,\"dedup_hits\":%llu,\"skipped\":{\"scope\":%llu,\"depth\":%llu,"
               "\"pattern\":%llu,\"trap\":%llu,\"robots\":%llu,\"limit\":%llu},",
            (unsigned long long)c->links, (unsigned long long)c->dedup_hits, (unsigned long long)c->skipped_scope,
            (unsigned long long)c->skipped_depth, (unsigned long long)c->skipped_pattern,
            (unsigned long long)c->skipped_trap, (unsigned long long)c->skipped_robots,
            (unsigned long long)c->skipped_limit);
    fprintf(f, "\"robots\":{\"fetches\":%llu,\"ok\":%llu,\"4xx\":%llu,\"unavailable\":%llu},"
               "\"frontier_peak\":%zu,\"spilled\":%llu,\"origins\":%zu,\"top_hosts\":{",
            (unsigned long long)c->robots_fetches, (unsigned long long)c->robots_ok,
            (unsigned long long)c->robots_4xx, (unsigned long long)c->robots_unavailable, c->frontier_peak,
            (unsigned long long)c->spilled, c->origins);
    for (int i = 0; i < 10 && c->top_hosts[i].host[0]; i++)
        fprintf(f, "%s\"%s\":%llu", i ? "," : "", c->top_hosts[i].host, (unsigned long long)c->top_hosts[i].pages);
    fprintf(f, "},\"pages_per_s_by_tenth\":[");
    for (int t = 0; t < 10; t++)
        fprintf(f, "%s%.1f", t ? "," : "", c->rate_by_tenth[t]);
    fprintf(f, "]");
    if (c->state)
        fprintf(f, ",\"state\":{\"runs_before\":%llu,\"pages_before\":%llu,\"errors_before\":%llu,"
                   "\"bytes_before\":%llu,\"wall_before_s\":%.3f,\"pages_all_runs\":%llu,\"deferred\":%llu}",
                (unsigned long long)c->runs_before, (unsigned long long)c->pages_before,
                (unsigned long long)c->errors_before, (unsigned long long)c->bytes_before, c->wall_before_s,
                (unsigned long long)(c->pages_before + c->pages - c->deferred), (unsigned long long)c->deferred);
    fprintf(f, "},");
}

void acr_report_crawl(FILE *f, const acr_crawl_stats *c)
{
    fprintf(f, "crawl: %llu pages;", (unsigned long long)c->pages);
    int last = ACR_CRAWL_MAX_DEPTHS - 1;
    while (last > 0 && c->by_depth[last] == 0)
        last--;
    for (int d = 0; d <= last; d++)
        fprintf(f, " depth %d%s: %llu", d, d == ACR_CRAWL_MAX_DEPTHS - 1 ? "+" : "",
                (unsigned long long)c->by_depth[d]);
    fprintf(f, "\n  %llu links found (%.1f a page), %llu to URLs seen before; frontier peak %zu (%llu went to disk), "
               "%zu hosts\n",
            (unsigned long long)c->links, c->pages ? (double)c->links / (double)c->pages : 0.0,
            (unsigned long long)c->dedup_hits, c->frontier_peak, (unsigned long long)c->spilled, c->origins);
    fprintf(f, "  skipped: %llu out of scope, %llu too deep, %llu by pattern, %llu crawl traps, %llu robots.txt, "
               "%llu over --max-pages\n",
            (unsigned long long)c->skipped_scope, (unsigned long long)c->skipped_depth,
            (unsigned long long)c->skipped_pattern, (unsigned long long)c->skipped_trap,
            (unsigned long long)c->skipped_robots, (unsigned long long)c->skipped_limit);
    fprintf(f, "  robots.txt: %llu fetches: %llu parsed, %llu 4xx (all allowed), %llu unavailable (all disallowed)\n",
            (unsigned long long)c->robots_fetches, (unsigned long long)c->robots_ok,
            (unsigned long long)c->robots_4xx, (unsigned long long)c->robots_unavailable);
    fprintf(f, "  pages by host:");
    for (int i = 0; i < 10 && c->top_hosts[i].host[0]; i++)
        fprintf(f, " %s %llu", c->top_hosts[i].host, (unsigned long long)c->top_hosts[i].pages);
    if (c->rate_by_tenth[0] > 0 || c->rate_by_tenth[9] > 0) {
        fprintf(f, "\n  pages/s by tenth of the run:");
        for (int t = 0; t < 10; t++)
            fprintf(f, " %.0f", c->rate_by_tenth[t]);
    }
    fprintf(f, "\n");
    if (c->state)
        fprintf(f, "  state: this run %llu pages, all %llu run%s %llu pages (%llu errors, %.1f s before this one); "
                   "%llu left for the next run\n",
                (unsigned long long)(c->pages - c->deferred), (unsigned long long)(c->runs_before + 1),
                c->runs_before ? "s" : "", (unsigned long long)(c->pages_before + c->pages - c->deferred),
                (unsigned long long)c->errors_before,
                c->wall_before_s, (unsigned long long)c->deferred);
}

void acr_report_json(FILE *f, const acr_summary *s, const acr_crawl_stats *crawl)
{
    const acr_hist *h = &s->lat;
    double wall = (double)s->wall_ns / 1e9;
    char why[200];
    fprintf(f, "{\"label\":\"%s\",\"concurrency\":%u,\"urls\":%llu,\"ok\":%llu,\"http_error\":%llu,\"failed\":%llu,"
               "\"cancelled\":%llu,\"completed\":%llu,\"failed_by_kind\":{",
            s->label, s->concurrency, (unsigned long long)s->total, (unsigned long long)s->ok,
            (unsigned long long)s->http_err, (unsigned long long)s->failed, (unsigned long long)s->cancelled,
            (unsigned long long)s->completed);
    for (int i = 0; i < ACR_KINDS && s->kinds[i].name[0]; i++)
        fprintf(f, "%s\"%s\":%llu", i ? "," : "", s->kinds[i].name, (unsigned long long)s->kinds[i].n);
    fprintf(f, "},\"bytes\":%llu,\"wall_s\":%.6f,\"req_per_s\":%.2f,", (unsigned long long)s->bytes, wall,
            acr_summary_req_per_s(s));
    fprintf(f, "\"latency_ms\":{\"min\":%.3f,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f},",
            h->count ? (double)h->min_ns / 1e6 : 0.0, (double)acr_hist_quantile(h, 0.5) / 1e6,
            (double)acr_hist_quantile(h, 0.9) / 1e6, (double)acr_hist_quantile(h, 0.99) / 1e6,
            (double)h->max_ns / 1e6);
    fprintf(f, "\"queue_ms\":{\"p50\":%.3f,\"max\":%.3f},", (double)acr_hist_quantile(&s->queue, 0.5) / 1e6,
            (double)s->queue.max_ns / 1e6);
    fprintf(f, "\"sequential_estimate_s\":%.6f,\"input_wait_s\":%.6f,", (double)s->sum_ns / 1e9,
            (double)s->input_wait_ns / 1e9);
    if (no_speedup(s, why, sizeof why))
        fprintf(f, "\"speedup\":null,");
    else
        fprintf(f, "\"speedup\":%.2f,", (double)s->sum_ns / 1e9 / wall);
    if (crawl)
        crawl_json(f, crawl);
    fprintf(f, "\"cpu_s\":%.3f,\"peak_rss_kb\":%ld}\n", s->cpu_s, s->maxrss_kb);
}

static int cmp_row(const void *a, const void *b)
{
    const acr_tl_row *x = a, *y = b;
    return (x->start > y->start) - (x->start < y->start);
}

void acr_report_timeline(FILE *f, const acr_summary *s, bool color)
{
    size_t n = s->nrows_seen < ACR_TIMELINE_ROWS ? s->nrows_seen : ACR_TIMELINE_ROWS;
    if (n == 0)
        return;
    acr_tl_row rows[ACR_TIMELINE_ROWS];
    memcpy(rows, s->rows, n * sizeof rows[0]);
    qsort(rows, n, sizeof rows[0], cmp_row);
    int64_t span = s->wall_ns > 0 ? s->wall_ns : 1;
    const int W = 60;
    fprintf(f, "timeline: %zu of %llu requests%s, 0 .. %.3f s; '.' queued, '#' in flight\n", n,
            (unsigned long long)s->nrows_seen, s->nrows_seen > n ? " (sampled)" : "", (double)span / 1e9);
    for (size_t i = 0; i < n; i++) {
        int q = (int)((double)(rows[i].queued < 0 ? 0 : rows[i].queued) * W / (double)span);
        int a = (int)((double)rows[i].start * W / (double)span);
        int e = (int)((double)rows[i].end * W / (double)span);
        if (e <= a)
            e = a + 1;
        if (e > W)
            e = W;
        fprintf(f, "  %6llu |", (unsigned long long)rows[i].line);
        for (int c = 0; c < W; c++) {
            if (c == a)
                fputs(C(color, rows[i].ok ? "\033[32m" : "\033[31m"), f);
            fputc(c >= a && c < e ? '#' : (c >= q && c < a ? '.' : ' '), f);
            if (c == e - 1)
                fputs(C(color, "\033[0m"), f);
        }
        fprintf(f, "| %.0f ms\n", (double)(rows[i].end - rows[i].start) / 1e6);
    }
}

void acr_report_compare(FILE *f, const acr_summary *const *runs, int n, acr_report_style st)
{
    double base = (double)runs[0]->wall_ns, maxw = 1;
    for (int i = 0; i < n; i++) {
        if ((double)runs[i]->wall_ns > maxw)
            maxw = (double)runs[i]->wall_ns;
    }
    fprintf(f, "\n%-8s %5s %9s %9s %9s %9s %8s %9s %8s  wall\n", "run", "-c", "wall", "req/s", "p50", "p99", "cpu",
            "peak rss", "speedup");
    for (int i = 0; i < n; i++) {
        const acr_summary *s = runs[i];
        double wall = (double)s->wall_ns / 1e9;
        char p50[16], p99[16];
        fmt_ms(p50, 16, acr_hist_quantile(&s->lat, 0.5));
        fmt_ms(p99, 16, acr_hist_quantile(&s->lat, 0.99));
        fprintf(f, "%-8s %5u %8.3fs %9.1f %9s %9s %7.2fs %7.1fMB %7.1fx  %s", s->label, s->concurrency, wall,
                acr_summary_req_per_s(s), p50, p99, s->cpu_s, (double)s->maxrss_kb / 1024,
                s->wall_ns > 0 ? base / (double)s->wall_ns : 0.0, C(st.color, "\033[33m"));
        bar(f, (double)s->wall_ns / maxw, 30, st.unicode);
        fprintf(f, "%s\n", C(st.color, "\033[0m"));
    }
}

void acr_report_compare_json(FILE *f, const acr_summary *const *runs, int n)
{
    fprintf(f, "{\"compare\":[");
    for (int i = 0; i < n; i++) {
        if (i)
            fprintf(f, ",");
        acr_report_json(f, runs[i], NULL);
    }
    fprintf(f, "]}\n");
}
