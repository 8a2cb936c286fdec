/* http.h -- the HTTP/1.1 client: one request from URL to response record under a
 * deadline, over pooled keep-alive connections, following redirects when asked. */
#ifndef ACRAWL_HTTP_H
#define ACRAWL_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACRAWL_VERSION "0.1.0"

typedef struct acr_header {
    char *name;
    char *value;
} acr_header;

typedef struct acr_headers {
    acr_header *v;
    size_t n, cap;
} acr_headers;

/* Case-insensitive lookup of the first header with that name, or NULL. */
const char *acr_headers_get(const acr_headers *h, const char *name);
/* Appends a copy; 0 or -ENOMEM. */
int acr_headers_add(acr_headers *h, const char *name, size_t nlen, const char *value, size_t vlen);
void acr_headers_release(acr_headers *h);

/* Phases that completed on at least one hop (acr_timings.phases): a duration of a
 * phase that never completed is time spent failing (a refused connect), or 0. */
#define ACR_PHASE_DNS     1u    /* a name was resolved */
#define ACR_PHASE_CONNECT 2u    /* a TCP connection was established */
#define ACR_PHASE_TLS     4u    /* a TLS handshake completed */

/* Durations in nanoseconds. dns, connect and tls add up over redirect hops; ttfb is
 * from the start of the request to the first byte of the final response; redirect
 * from the start to the start of the final hop (0 without redirects). */
typedef struct acr_timings {
    int64_t queue, dns, connect, tls, ttfb, total;
    int64_t redirect;
    unsigned phases;        /* ACR_PHASE_* */
} acr_timings;

typedef struct acr_response {
    int status;             /* the last HTTP status received, 0 if none: it stays when the
                             * request then fails (a redirect beyond max_redirs, a reset
                             * after the head, a redirect to a host that is down) */
    int error;              /* 0 or an ACR_E* / -errno code (see acr_errname) */
    char message[256];      /* detail for error, with the library's own reason */
    char *final_url;        /* after redirects */
    unsigned redirects;
    char **chain;           /* URLs that redirected, in order */
    size_t nchain;
    acr_headers headers;    /* of the final response */
    uint64_t raw_bytes;     /* body bytes as received (after de-chunking) */
    uint64_t body_bytes;    /* body bytes after content decoding */
    char *body;             /* with keep_body: the decoded body, NUL-terminated */
    size_t body_len;
    acr_timings t;
    char remote_ip[46];     /* peer address of the last connection used, "" if none */
    unsigned short remote_port;
    const char *scheme;     /* "HTTP" or "HTTPS" for that connection (as curl prints
                             * it), NULL if none: static, never freed */
    bool reused;            /* the final response came over a pooled connection */
    bool tls_resumed;
    unsigned retries;       /* stale pooled connections retried */
} acr_response;

void acr_response_release(acr_response *r);

/* Takes the decoded body of the final response as it arrives, in order (never the
 * body of a redirect that is followed). Returns 0 to go on, or a negative code that
 * fails the request with the message it wrote into msg. Must not suspend. */
typedef int acr_body_sink(void *arg, const char *data, size_t len, char *msg, size_t msglen);

/* Sees each hop's exchange as it crosses the wire, for archiving (--warc). Every
 * callback may be NULL and none may suspend. Per attempt: begin, then request (the
 * bytes written: head, then body), response (the bytes read, status line to the end
 * of the message; a 1xx response is given whole, then interim), payload (the body
 * with its transfer coding removed and its content coding kept: RFC 9110's content),
 * and end once. A failed attempt ends with what was seen so far: a connect error has
 * no request bytes. */
typedef struct acr_tap {
    void (*begin)(void *arg, const char *url);
    void (*request)(void *arg, const char *data, size_t len);
    void (*response)(void *arg, const char *data, size_t len);
    /* The response bytes given since begin or the last interim were a 1xx response. */
    void (*interim)(void *arg);
    void (*payload)(void *arg, const char *data, size_t len);
    /* error: 0 or the attempt's error code with message; ip: the peer's address ("" if
     * no connection was made); again: nothing came back on a pooled connection and the
     * request goes again on a fresh one, so this attempt is better forgotten. */
    void (*end)(void *arg, int error, const char *message, const char *ip, bool again);
} acr_tap;

typedef struct acr_request {
    const char *method;         /* NULL: GET */
    const char *url;            /* absolute http(s) URL */
    const acr_header *headers;  /* extra headers; they replace defaults of the same name */
    size_t nheaders;
    const void *body;
    size_t body_len;
    bool follow;                /* follow redirects */
    unsigned max_redirs;        /* 0: 10 */
    bool decode;                /* ask for and decode gzip/deflate */
    bool keep_body;             /* keep the decoded body in the response */
    acr_body_sink *sink;        /* NULL: the body is only counted (and kept with keep_body) */
    void *sink_arg;
    const acr_tap *tap;         /* NULL: nobody watches the wire */
    void *tap_arg;
} acr_request;

typedef struct acr_client_opts {
    const char *user_agent;     /* NULL: acrawl/VERSION */
    bool insecure;              /* -k: no certificate or host checks */
    const char *cacert;         /* trust these CAs instead of the system store */
    const char *dns_servers;    /* "ip[:port],..." */
    const char *const *resolve; /* curl-style "host:port:addr[,addr]" overrides */
    size_t nresolve;
    int64_t connect_timeout;    /* ns; 0: only the request deadline */
    size_t max_header_bytes;    /* 0: 64 KiB */
    uint64_t max_body_bytes;    /* decoded bytes; 0: no limit */
    unsigned max_decode_ratio;  /* decoded/raw; 0: 1000 */
    unsigned per_origin;        /* connections per origin at once; 0: no cap */
    unsigned max_idle;          /* idle connections kept per origin; 0: 256 */
    int64_t idle_timeout;       /* ns; 0: 30 s */
} acr_client_opts;

typedef struct acr_client acr_client;

/* Creates a client on the current loop. 0, or with err: ACR_EDNS, ACR_ETLSCONFIG
 * (the CA file or the TLS library), -EINVAL (a bad resolve override); or -ENOMEM. */
int acr_client_new(acr_client **out, const acr_client_opts *o, char *err, size_t errlen);
/* Closes pooled connections. No fetch may be running. */
void acr_client_free(acr_client *c);

/* Fetches req under deadline into resp (zeroed first; release it afterwards).
 * Returns resp->error: 0 for any HTTP response (4xx and 5xx included), or
 * ACR_EBADURL, ACR_EDNS, ACR_ECONNECT, ACR_EREFUSED, ACR_ERESET, ACR_ETLSHANDSHAKE,
 * ACR_ETLSVERIFY, ACR_ETIMEOUT, ACR_EPROTO, ACR_ETOOLARGE, ACR_EREDIRLOOP,
 * ACR_ECANCELED, -errno. Must run in a task. */
int acr_fetch(acr_client *c, const acr_request *req, int64_t deadline, acr_response *resp);

/* Counters for tests and reports. */
typedef struct acr_client_stats {
    uint64_t connections;       /* opened */
    uint64_t reused;            /* requests served on a pooled connection */
    uint64_t dns_lookups;       /* queries sent (cache misses) */
    uint64_t tls_resumed;       /* handshakes that resumed a session */
} acr_client_stats;

void acr_client_stats_get(const acr_client *c, acr_client_stats *out);

/* The versions of the libraries the client runs on, as one line:
 * "c-ares 1.18.1, OpenSSL 3.0.x …, llhttp 8.1.0, zlib 1.2.13". Static storage. */
const char *acr_client_versions(void);

#endif
