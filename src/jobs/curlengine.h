/* curlengine.h -- private: the comparison engine. The same list, concurrency,
 * timeouts and record format through libcurl's multi interface, in libcurl's own
 * poll loop (not on acrawl's runtime, so it is measured on its own terms). */
#ifndef ACR_JOBS_CURLENGINE_H
#define ACR_JOBS_CURLENGINE_H

#include <signal.h>

#include "fetchjob.h"
#include "input.h"
#include "record.h"

typedef struct acr_curl_engine acr_curl_engine;

int acr_curl_engine_new(acr_curl_engine **out, const acr_job_opts *o, acr_input *in, char *err, size_t errlen);
void acr_curl_engine_free(acr_curl_engine *e);
/* Blocks until the next record: 1 with *rec (caller frees), 0 when every input URL
 * has had its record. Gives up waiting at deadline (monotonic ns) or when *stop is
 * set, returning 2 so the caller can decide to stop. */
int acr_curl_engine_next(acr_curl_engine *e, int64_t deadline, volatile sig_atomic_t *stop, acr_record **rec);
/* As acr_job_stop: transfers in flight and queued URLs end as cancelled records. */
void acr_curl_engine_stop(acr_curl_engine *e);
const char *acr_curl_version(void);
/* Why input could not be read to the end, or NULL. */
const char *acr_curl_engine_input_error(const acr_curl_engine *e);

#endif
