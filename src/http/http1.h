/* http1.h -- private: HTTP/1.1 on a stream: writing the request head, and reading
 * the response with llhttp (1xx skipped, chunked, close-delimited, limits, decoding). */
#ifndef ACR_HTTP_HTTP1_H
#define ACR_HTTP_HTTP1_H

#include <stdbool.h>
#include <stdint.h>

#include "acrawl/http.h"
#include "acrawl/url.h"
#include "util/buf.h"
#include "transport/net.h"

typedef struct acr_http1_limits {
    size_t max_header;      /* status line and headers, bytes */
    uint64_t max_body;      /* decoded body bytes; 0: none */
    unsigned max_ratio;     /* decoded/raw when decoding */
} acr_http1_limits;

typedef struct acr_http1_result {
    bool keep_alive;        /* the connection can serve another request */
    bool got_bytes;         /* any byte of a response arrived */
    bool unsent;            /* the request head never fully left: the server cannot have acted on it */
    int64_t first_byte;     /* acr_now() when it did */
} acr_http1_result;

/* Appends the request head to out. Headers in h replace defaults of the same name;
 * an empty value removes the default. 0, or ACR_EPROTO when a name or value holds
 * CR or LF (with a reason in err). */
int acr_http1_request(acr_buf *out, const char *method, const acr_url *u, const acr_header *h, size_t nh,
                      const char *ua, bool decode, size_t body_len, char *err, size_t errlen);

/* How to read a response. */
typedef struct acr_http1_read {
    const char *method;     /* HEAD responses have no body */
    bool decode;            /* decode gzip/deflate bodies */
    bool keep_body;         /* into resp->body */
    acr_body_sink *sink;    /* the decoded body of the final response, or NULL */
    void *sink_arg;
    bool follow;            /* bodies of redirects we will follow are dropped */
    const acr_http1_limits *lim;
    const acr_tap *tap;     /* sees the bytes read and the payload (acrawl/http.h), or NULL */
    void *tap_arg;
} acr_http1_read;

/* Reads one response into resp (status, headers, counts, body). 0 or an error code
 * with resp->message set; res says whether the connection may be reused and whether
 * anything arrived (nothing on a pooled connection means it went stale). */
int acr_http1_response(acr_stream *s, const acr_http1_read *rd, int64_t deadline, acr_response *resp,
                       acr_http1_result *res);

/* True for statuses acrawl follows with -L. */
bool acr_http1_is_redirect(int status);

#endif
