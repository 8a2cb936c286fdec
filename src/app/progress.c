/* progress.c -- one self-overwriting status line on stderr. */
#include <stdio.h>

#include "acrawl/loop.h"
#include "progress.h"

void acr_progress_init(acr_progress *p, bool on, bool color, bool shared)
{
    p->on = on;
    p->color = color;
    p->shared = on && shared;
    p->shown = false;
    p->held = false;
    p->last = 0;
    p->len = 0;
}

static void draw(acr_progress *p)
{
    if (p->len == 0 || p->held)
        return;
    fwrite(p->line, 1, p->len, stderr);
    p->shown = true;
}

static void render(acr_progress *p, const acr_summary *s, double el, uint64_t read, bool input_done, unsigned inflight)
{
    double done_rate = el > 0 ? (double)s->total / el : 0; /* records, cancelled ones too: for the ETA */
    double req_rate = el > 0 ? (double)s->completed / el : 0;
    char eta[32] = "";
    if (input_done && done_rate > 0 && read > s->total)
        snprintf(eta, sizeof eta, "  ETA %.1fs", (double)(read - s->total) / done_rate);
    int n = snprintf(p->line, sizeof p->line,
                     "\r\033[K%llu/%llu%s done  %s%llu ok%s  %s%llu failed%s  %u in flight  %.1f req/s%s",
                     (unsigned long long)s->total, (unsigned long long)read, input_done ? "" : "+",
                     p->color ? "\033[32m" : "", (unsigned long long)(s->ok + s->http_err), p->color ? "\033[0m" : "",
                     p->color && s->failed ? "\033[31m" : "", (unsigned long long)(s->failed + s->cancelled),
                     p->color && s->failed ? "\033[0m" : "", inflight, req_rate, eta);
    p->len = n < 0 ? 0 : ((size_t)n < sizeof p->line ? (size_t)n : sizeof p->line - 1);
}

void acr_progress_update(acr_progress *p, const acr_summary *s, unsigned inflight, uint64_t read, bool input_done)
{
    if (!p->on)
        return;
    int64_t now = acr_now();
    if (now - p->last < ACR_PROGRESS_TICK)
        return;
    p->last = now;
    render(p, s, (double)(now - s->t0) / 1e9, read, input_done, inflight);
    draw(p);
}

void acr_progress_hold(acr_progress *p)
{
    if (!p->shared)
        return;
    acr_progress_clear(p);
    p->held = true;
}

void acr_progress_release(acr_progress *p)
{
    if (!p->held)
        return;
    p->held = false;
    draw(p);
}

void acr_progress_clear(acr_progress *p)
{
    if (p->shown)
        fputs("\r\033[K", stderr);
    p->shown = false;
}
