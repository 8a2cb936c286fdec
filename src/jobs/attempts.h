/* attempts.h -- private: one request and its retries (--retry), for both jobs.
 * Connect errors, resets, timeouts, DNS failures, 429 and 5xx are tried again after
 * an exponential backoff with full jitter, or after Retry-After (capped at an hour). */
#ifndef ACR_JOBS_ATTEMPTS_H
#define ACR_JOBS_ATTEMPTS_H

#include <stdint.h>

#include "acrawl/http.h"

typedef struct acr_attempts {
    acr_client *client;
    int64_t timeout;            /* per attempt, ns */
    unsigned retry;             /* attempts after the first, at most */
    unsigned *rng;              /* the job's jitter state */
    /* Called before every attempt after the first to start the body afresh (truncate
     * a file, reset a parser); non-zero ends the tries. May be NULL. */
    int (*restart)(void *arg);
    void *restart_arg;
} acr_attempts;

/* Runs rq until it succeeds, fails for good, the tries run out or the task is
 * cancelled (a cancel during a backoff leaves the last attempt standing). resp
 * holds the last attempt; returns how many were made. Must run in a task. */
unsigned acr_attempts_run(const acr_attempts *a, const acr_request *rq, acr_response *resp);

#endif
