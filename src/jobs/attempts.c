/* attempts.c -- a request and its retries with backoff (see attempts.h). */
#include <math.h>
#include <stdlib.h>

#include "acrawl/error.h"
#include "acrawl/task.h"
#include "attempts.h"

#define BACKOFF_BASE (200 * ACR_MSEC)
#define BACKOFF_MAX (10 * ACR_SEC)

static bool retryable(const acr_response *resp)
{
    switch (resp->error) {
    case 0:
        return resp->status == 429 || resp->status >= 500;
    case ACR_ECONNECT:
    case ACR_EREFUSED:
    case ACR_ERESET:
    case ACR_ETIMEOUT:
    case ACR_EDNS:
        return true;
    default:
        return false;
    }
}

/* Exponential backoff with full jitter; Retry-After (seconds) wins when present. */
static int64_t backoff(unsigned *rng, const acr_response *resp, unsigned attempt)
{
    const char *ra = acr_headers_get(&resp->headers, "Retry-After");
    if (ra && *ra >= '0' && *ra <= '9') {
        long s = strtol(ra, NULL, 10);
        return (int64_t)(s > 3600 ? 3600 : s) * ACR_SEC;
    }
    double cap = (double)BACKOFF_BASE * pow(2.0, (double)(attempt - 1));
    if (cap > (double)BACKOFF_MAX)
        cap = (double)BACKOFF_MAX;
    *rng = *rng * 1103515245u + 12345u;
    return (int64_t)(cap * (0.5 + 0.5 * (double)(*rng >> 8) / (double)(1u << 24)));
}

unsigned acr_attempts_run(const acr_attempts *a, const acr_request *rq, acr_response *resp)
{
    for (unsigned attempt = 1;; attempt++) {
        if (attempt > 1 && a->restart && a->restart(a->restart_arg) != 0)
            return attempt - 1;
        acr_response_release(resp);
        acr_fetch(a->client, rq, acr_deadline_in(a->timeout), resp);
        if (attempt > a->retry || !retryable(resp) || acr_cancelled())
            return attempt;
        if (acr_sleep_for(backoff(a->rng, resp, attempt)) != 0)
            return attempt; /* cancelled while backing off: the last attempt stands */
    }
}
