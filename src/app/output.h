/* output.h -- private: records on standard output, buffered (flushed whenever the
 * loop is about to block): tab-separated text, JSON Lines, or a -w template. */
#ifndef ACR_APP_OUTPUT_H
#define ACR_APP_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "jobs/record.h"

typedef enum { ACR_FMT_TEXT, ACR_FMT_JSON, ACR_FMT_WRITEOUT } acr_format;

typedef struct acr_output {
    int fd;                 /* -1: discard */
    acr_format fmt;
    const char *wfmt;       /* -w template */
    char buf[65536];
    size_t len;
    uint64_t flushed;       /* bytes written to fd so far */
    bool broken;            /* a write failed: nothing more is written */
    int error;              /* why: EPIPE (the reader went away), ENOSPC ... */
    struct acr_buf *sink;   /* when set, records go here instead (acr_output_json_line) */
} acr_output;

void acr_output_init(acr_output *o, int fd, acr_format fmt, const char *wfmt);
/* Formats and buffers one record. 0, or -EPIPE once the reader has gone, or the
 * -errno of a write that failed otherwise (a full disk). */
int acr_output_record(acr_output *o, const acr_record *r);
int acr_output_flush(acr_output *o);
/* r as one JSON Lines record without its newline, appended to out (as -j prints it):
 * the record a shared crawl adds to its job's stream. 0 or -ENOMEM. */
int acr_output_json_line(const acr_record *r, struct acr_buf *out);
/* Bytes of records given so far, written or buffered. */
static inline uint64_t acr_output_bytes(const acr_output *o) { return o->flushed + o->len; }
/* Checks a -w template: NULL if fine, else the unknown variable's name. */
const char *acr_output_check_writeout(const char *fmt, char *buf, size_t len);
/* True when the template shows response headers (%{content_type}, %{header_json},
 * %{json}): only then do records keep them. */
bool acr_output_writeout_needs_headers(const char *fmt);
/* The i-th -w variable name (for tests and listings), NULL past the last. */
const char *acr_output_writeout_name(size_t i);
/* The template a -w argument stands for: "@FILE" and "@-" (stdin) are read into
 * *out (caller frees), anything else is copied. 0, or -errno with a message. */
int acr_output_load_writeout(const char *arg, char **out, char *err, size_t errlen);

#endif
