/* record.c -- the per-URL result record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acrawl/error.h"
#include "record.h"

acr_record *acr_record_new(uint64_t line, uint64_t seq, const char *url)
{
    acr_record *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->line = line;
    r->seq = seq;
    r->url = strdup(url);
    if (!r->url) {
        free(r);
        return NULL;
    }
    return r;
}

void acr_record_free(acr_record *r)
{
    if (!r)
        return;
    free(r->url);
    free(r->final_url);
    free(r->saved);
    free(r);
}

void acr_record_fill(acr_record *r, const acr_response *resp)
{
    free(r->final_url);
    r->final_url = resp->final_url ? strdup(resp->final_url) : NULL;
    r->status = resp->status;
    r->error = resp->error;
    snprintf(r->message, sizeof r->message, "%s", resp->error ? resp->message : "");
    r->raw_bytes = resp->raw_bytes;
    r->body_bytes = resp->body_bytes;
    r->redirects = resp->redirects;
    int64_t queue = r->t.queue;
    r->t = resp->t;
    r->t.queue = queue;
}

void acr_record_fail(acr_record *r, int code, const char *message)
{
    r->error = code;
    r->status = 0;
    snprintf(r->message, sizeof r->message, "%s", message ? message : acr_strerror(code));
}
