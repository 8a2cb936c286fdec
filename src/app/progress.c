/* progress.c -- one self-overwriting status line on stderr. */
#include <stdio.h>

#include "acrawl/loop.h"
#include "progress.h"

void acr_progress_init(acr_progress *p, bool on, bool color)
{
    p->on = on;
    p->color = color;
    p->shown = false;
    p->last = 0;
}

void acr_progress_update(acr_progress *p, const acr_summary *s, unsigned inflight, uint64_t read, bool input_done)
{
    if (!p->on)
        return;
    int64_t now = acr_now();
    if (now - p->last < ACR_PROGRESS_TICK)
        return;
    p->last = now;
    double el = (double)(now - s->t0) / 1e9;
    double rate = el > 0 ? (double)s->total / el : 0;
    char eta[32] = "";
    if (input_done && rate > 0 && read > s->total)
        snprintf(eta, sizeof eta, "  ETA %.1fs", (double)(read - s->total) / rate);
    fprintf(stderr, "\r\033[K%llu/%llu%s done  %s%llu ok%s  %s%llu failed%s  %u in flight  %.1f req/s%s",
            (unsigned long long)s->total, (unsigned long long)read, input_done ? "" : "+",
            p->color ? "\033[32m" : "", (unsigned long long)(s->ok + s->http_err), p->color ? "\033[0m" : "",
            p->color && s->failed ? "\033[31m" : "", (unsigned long long)(s->failed + s->cancelled),
            p->color && s->failed ? "\033[0m" : "", inflight, rate, eta);
    p->shown = true;
}

void acr_progress_clear(acr_progress *p)
{
    if (p->shown)
        fprintf(stderr, "\r\033[K");
    p->shown = false;
}
