/* record.c -- the per-URL result record. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acrawl/error.h"
#include "dist/job.h"
#include "record.h"
#include "archive/warc.h"
#include "util/alloc.h"

acr_record *acr_record_new(uint64_t line, uint64_t seq, const char *url)
{
    acr_record *r = acr_calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->line = line;
    r->seq = seq;
    r->url = acr_strdup(url);
    if (!r->url) {
        free(r);
        return NULL;
    }
    return r;
}

int acr_record_src_init(acr_record_src *s)
{
    *s = (acr_record_src){.spare = acr_record_new(0, 0, "")};
    return s->spare ? 0 : -ENOMEM;
}

void acr_record_src_release(acr_record_src *s)
{
    acr_record_free(s->spare);
    s->spare = NULL;
}

acr_record *acr_record_src_next(acr_record_src *s, uint64_t line, const char *url)
{
    acr_record *r = acr_record_new(line, s->seq, url);
    if (!r && s->spare) {
        r = s->spare;
        s->spare = NULL;
        r->line = line;
        r->seq = s->seq;
        acr_record_fail(r, -ENOMEM, "out of memory: the line could not be kept");
    }
    if (!s->spare)
        s->spare = acr_record_new(0, 0, "");
    if (!r) {
        s->lost++;
        return NULL;
    }
    s->seq++;
    return r;
}

void acr_record_free(acr_record *r)
{
    if (!r)
        return;
    free(r->url);
    free(r->final_url);
    free(r->saved);
    free(r->parent);
    free(r->headers);
    acr_warc_capture_free(r->warc);
    acr_dist_entry_free(r->dist);
    free(r);
}

void acr_record_fill(acr_record *r, const acr_response *resp, bool keep_headers)
{
    free(r->final_url);
    r->final_url = resp->final_url ? acr_strdup(resp->final_url) : NULL;
    r->status = resp->status;
    r->error = resp->error;
    snprintf(r->message, sizeof r->message, "%s", resp->error ? resp->message : "");
    r->raw_bytes = resp->raw_bytes;
    r->body_bytes = resp->body_bytes;
    r->redirects = resp->redirects;
    int64_t queue = r->t.queue;
    r->t = resp->t;
    r->t.queue = queue;
    acr_record_set_remote(r, resp->remote_ip, resp->remote_port);
    r->scheme = resp->scheme;
    if (keep_headers)
        acr_record_set_headers(r, &resp->headers);
}

void acr_record_fail(acr_record *r, int code, const char *message)
{
    r->error = code;
    snprintf(r->message, sizeof r->message, "%s", message ? message : acr_strerror(code));
}

void acr_record_set_remote(acr_record *r, const char *ip, unsigned port)
{
    r->remote_family = 0;
    r->remote_port = 0;
    if (!ip || !ip[0])
        return;
    if (inet_pton(AF_INET, ip, r->remote_addr) == 1)
        r->remote_family = 4;
    else if (inet_pton(AF_INET6, ip, r->remote_addr) == 1)
        r->remote_family = 6;
    if (r->remote_family)
        r->remote_port = (uint16_t)port;
}

const char *acr_record_remote_ip(const acr_record *r, char *buf, size_t len)
{
    buf[0] = 0;
    if (r->remote_family && !inet_ntop(r->remote_family == 4 ? AF_INET : AF_INET6, r->remote_addr, buf,
                                       (socklen_t)len))
        buf[0] = 0;
    return buf;
}

int acr_record_set_headers(acr_record *r, const acr_headers *h)
{
    free(r->headers);
    r->headers = NULL;
    r->headers_len = 0;
    size_t len = 0;
    for (size_t i = 0; i < h->n; i++)
        len += strlen(h->v[i].name) + strlen(h->v[i].value) + 2;
    if (len == 0 || len > UINT32_MAX)
        return 0;
    char *p = acr_malloc(len);
    if (!p)
        return -ENOMEM;
    r->headers = p;
    r->headers_len = (uint32_t)len;
    for (size_t i = 0; i < h->n; i++) {
        size_t n = strlen(h->v[i].name) + 1;
        memcpy(p, h->v[i].name, n);
        p += n;
        n = strlen(h->v[i].value) + 1;
        memcpy(p, h->v[i].value, n);
        p += n;
    }
    return 0;
}

bool acr_record_header_next(const acr_record *r, size_t *pos, const char **name, const char **value)
{
    if (*pos >= r->headers_len)
        return false;
    *name = r->headers + *pos;
    *value = *name + strlen(*name) + 1;
    *pos = (size_t)(*value - r->headers) + strlen(*value) + 1;
    return true;
}

const char *acr_record_header(const acr_record *r, const char *name)
{
    size_t pos = 0;
    const char *n, *v;
    while (acr_record_header_next(r, &pos, &n, &v)) {
        if (!strcasecmp(n, name))
            return v;
    }
    return NULL;
}
