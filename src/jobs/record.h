/* record.h -- private: one URL's result as the jobs layer hands it to the program
 * (through the completion channel, or directly from the libcurl engine). */
#ifndef ACR_JOBS_RECORD_H
#define ACR_JOBS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acrawl/http.h"

typedef struct acr_record {
    uint64_t line;          /* input line number (arguments count as lines too) */
    uint64_t seq;           /* position among input URLs, for --ordered */
    char *url;              /* as given, trimmed */
    char *final_url;        /* NULL when no request was made */
    int status;             /* the last HTTP status received, 0 if none (kept on errors) */
    int error;              /* 0 or a code; the program shows its kind (app/kind.h) */
    char message[256];
    uint64_t raw_bytes, body_bytes;
    unsigned redirects;
    unsigned attempt;       /* attempts made (retries + 1); 0 if never started */
    acr_timings t;
    int64_t start, end;     /* monotonic: request start and end (0 if never started) */
    char *saved;            /* -o: the file the body went to */
    const char *scheme;     /* "HTTP", "HTTPS" (static) or NULL, of the last connection */
    /* Only when asked for (acr_record_fill's keep_headers): the final response's
     * headers packed in one block as "name\0value\0" pairs; NULL otherwise. */
    char *headers;
    /* The last connection's peer in binary, not as text: 24 bytes instead of 48 in
     * every record in flight. See acr_record_remote_ip. */
    uint8_t remote_addr[16];    /* network order: 4 bytes for IPv4, 16 for IPv6 */
    uint16_t remote_port;
    uint8_t remote_family;      /* 0: none, 4 or 6 */
    uint32_t headers_len;
    /* Crawl mode only (crawl set): where the page sits in the crawl. */
    bool crawl;
    uint8_t via;                /* acr_via: seed, link, redirect, sitemap */
    unsigned depth;             /* seeds 0 */
    unsigned links;             /* links found on the page */
    char *parent;               /* the page that linked it; NULL for seeds */
    /* --warc: what this URL's fetch put on the wire (archive/warc.h), owned. */
    struct acr_warc_capture *warc;
    /* --redis: the job's entry this page came from, owned; acked once the record is
     * written (app/run.c). taken_over: another worker has it now, so this record is
     * not printed (nor acked). */
    struct acr_dist_entry *dist;
    bool taken_over;
} acr_record;

acr_record *acr_record_new(uint64_t line, uint64_t seq, const char *url);
void acr_record_free(acr_record *r);

/* Where an engine gets the record for each input line, numbered in order (seq).
 * It never loses a line to memory: when a record cannot be allocated, a spare made
 * beforehand carries that line's `system` error (with an empty URL, since the text
 * could not be kept), and a new spare is made as soon as memory allows. */
typedef struct acr_record_src {
    acr_record *spare;
    uint64_t seq;               /* records handed out */
    uint64_t lost;              /* lines with no record: the spare was gone too */
} acr_record_src;

/* 0, or -ENOMEM when even the first spare cannot be made. */
int acr_record_src_init(acr_record_src *s);
void acr_record_src_release(acr_record_src *s);
/* The record for input line `line`. One whose error is already set (-ENOMEM) is
 * to be handed over as it is. NULL only when the spare was gone too (counted). */
acr_record *acr_record_src_next(acr_record_src *s, uint64_t line, const char *url);
/* Copies a finished response's fields into r; its headers too with keep_headers
 * (they cost memory per record, so only when a -w template needs them). */
void acr_record_fill(acr_record *r, const acr_response *resp, bool keep_headers);
/* Marks r failed with code and message (no request made or it was cut). The
 * status stays: a response head may have arrived before the failure. */
void acr_record_fail(acr_record *r, int code, const char *message);

/* Sets the peer from its printable address ("" or NULL: none). */
void acr_record_set_remote(acr_record *r, const char *ip, unsigned port);
/* The peer's printable address into buf (at least 46 bytes), "" if none. */
const char *acr_record_remote_ip(const acr_record *r, char *buf, size_t len);

/* Keeps a copy of h in r, replacing any. 0 or -ENOMEM (r then keeps none). */
int acr_record_set_headers(acr_record *r, const acr_headers *h);
/* Walks the kept headers: from *pos (start at 0), true with the next name and value
 * and *pos moved past them; false at the end. */
bool acr_record_header_next(const acr_record *r, size_t *pos, const char **name, const char **value);
/* The first kept header of that name (any case), or NULL. */
const char *acr_record_header(const acr_record *r, const char *name);

#endif
