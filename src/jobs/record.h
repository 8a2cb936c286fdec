/* record.h -- private: one URL's result as the jobs layer hands it to the program
 * (through the completion channel, or directly from the libcurl engine). */
#ifndef ACR_JOBS_RECORD_H
#define ACR_JOBS_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "acrawl/http.h"

typedef struct acr_record {
    uint64_t line;          /* input line number (arguments count as lines too) */
    uint64_t seq;           /* position among input URLs, for --ordered */
    char *url;              /* as given, trimmed */
    char *final_url;        /* NULL when no request was made */
    int status;             /* HTTP status, 0 if none */
    int error;              /* 0 or a code; acr_errname gives the kind */
    char message[256];
    uint64_t raw_bytes, body_bytes;
    unsigned redirects;
    unsigned attempt;       /* attempts made (retries + 1); 0 if never started */
    acr_timings t;
    int64_t start, end;     /* monotonic: request start and end (0 if never started) */
    char *saved;            /* -o: the file the body went to */
} acr_record;

acr_record *acr_record_new(uint64_t line, uint64_t seq, const char *url);
void acr_record_free(acr_record *r);
/* Copies a finished response's fields into r. */
void acr_record_fill(acr_record *r, const acr_response *resp);
/* Marks r failed with code and message (no request made or it was cut). */
void acr_record_fail(acr_record *r, int code, const char *message);

#endif
