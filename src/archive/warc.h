/* warc.h -- private: a WARC 1.1 (ISO 28500:2017) writer for --warc: what each fetch
 * put on the wire, caught through the client's acr_tap, written as request, response
 * and metadata records, optionally one gzip member each, into files that rotate at a
 * size and that stay a sequence of whole records across a crash. */
#ifndef ACR_ARCHIVE_WARC_H
#define ACR_ARCHIVE_WARC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acrawl/http.h"

typedef struct acr_warc acr_warc;

/* Where the writer stands: file is the rotation index (0 without rotation, 1, 2 ...
 * with it), offset the bytes of whole records in that file. */
typedef struct acr_warc_pos {
    unsigned file;
    uint64_t offset;
} acr_warc_pos;

typedef struct acr_warc_opts {
    const char *path;         /* --warc FILE */
    bool gzip;                /* --warc-gzip; also on when path ends in ".gz" */
    uint64_t max_size;        /* --warc-max-size: 0 none; else rotate (see below) */
    const char *software;     /* warcinfo "software"; NULL: "acrawl/VERSION" */
    const char *command_line; /* warcinfo "acrawl-command-line" (argv joined, shell-quoted); NULL: none */
} acr_warc_opts;

/* Opens the writer and writes a warcinfo record (WARC-Filename, and the fields
 * software, format, conformsTo, hostname, acrawl-command-line: an extension field,
 * named like wget's "wget-arguments", since warcinfo's field set is open).
 *
 * Rotation (max_size > 0): files are named path with "-00001", "-00002" ... before
 * ".warc.gz", ".warc" or ".gz", else before the last extension of the base name, else
 * at the end ("out.warc.gz" -> "out-00001.warc.gz", "out" -> "out-00001"). A record
 * goes to a new file when the current one already holds a record besides its
 * warcinfo and would pass max_size with it; a record is never split, so one bigger
 * than max_size gets a file of its own. Each file starts with its own warcinfo.
 *
 * resume NULL: the file (or file 1) is created or truncated, and later rotation
 * files of an earlier run removed. resume non-NULL (a position from
 * acr_warc_pos_get before a crash): that file is truncated to resume->offset
 * (dropping a torn tail), the rotation files after it are removed, and records are
 * appended (after a fresh warcinfo if the offset is 0).
 *
 * Each file is locked (flock) before it is truncated or written: -EBUSY when
 * another process holds it.
 *
 * 0 with *out set, or with a message in err: -EINVAL (no path, a resume position
 * that cannot be: a file index with no rotation or 0 with it, an offset past the
 * end), -errno of open/ftruncate/write/unlink (naming the file), -ENOMEM. */
int acr_warc_open(acr_warc **out, const acr_warc_opts *o, const acr_warc_pos *resume, char *err, size_t errlen);
/* After the last whole record written. */
void acr_warc_pos_get(const acr_warc *w, acr_warc_pos *out);
/* Makes everything up to the position durable: fsync of the file (earlier files
 * were synced when they were left) and of its folder after a new file. 0 or the
 * sticky error (-EIO ... of fsync, which becomes sticky too). */
int acr_warc_sync(acr_warc *w);
/* Syncs, closes and frees w (NULL is a no-op). Returns the first error of the
 * writer's life (sticky: a write, sync or rotation that failed) with its message in
 * err, or the error of the final fsync/close, or 0. */
int acr_warc_close(acr_warc *w, char *err, size_t errlen);

/* Everything one fetch (all its hops and attempts) put on the wire. */
typedef struct acr_warc_capture acr_warc_capture;

/* NULL on OOM. */
acr_warc_capture *acr_warc_capture_new(void);
/* The capture's tap: acr_request.tap = &acr_warc_tap, tap_arg = the capture. Bytes
 * are digested as they come and kept in spools (memory up to 1 MiB per message,
 * then a temporary file). The callbacks do not suspend; they block only on writes
 * of that temporary file. An attempt ended with `again` vanishes; interim() drops
 * the 1xx response before it. Errors (ENOMEM, ENOSPC in $TMPDIR) are kept for
 * acr_warc_write. */
extern const acr_tap acr_warc_tap;
/* Notes that the fetch failed with code (kind and message as the record shows
 * them), before any hop (cancelled before connecting) or after its hops (a redirect
 * loop, a failed body sink): acr_warc_write adds a metadata record for url, unless
 * the last hop already ended with that code (its own metadata record says it).
 * The last call wins. 0 or -ENOMEM. */
int acr_warc_capture_fail(acr_warc_capture *c, const char *url, int code, const char *kind, const char *message);
/* Writes the capture's records, hop by hop in order (attempts that went `again` left
 * out): a request record when bytes were sent; a response record when bytes came
 * back (WARC-Concurrent-To the request); and for a hop that failed, the response
 * marked WARC-Truncated and a metadata record (application/warc-fields:
 * "error-kind", "error-code", "error-message"; WARC-Concurrent-To the exchange). All
 * carry WARC-Block-Digest (sha1, base32); a response that completed carries
 * WARC-Payload-Digest: the sha1 of the body with its transfer coding removed and its
 * content coding kept (WARC 1.1 §6.3.2), not of the chunked bytes in the block.
 * Each record is one gzip member with gzip (staged whole, in memory up to 1 MiB or
 * in a temporary file, so its size is known before rotation is decided). Blocking
 * writes (partial writes and EINTR handled); never suspends, so writes of
 * concurrent tasks never interleave. The position moves after each whole record.
 * Returns 0; the capture's own error (-ENOMEM, a spool error), then nothing of it
 * is written and the writer stays usable; or the writer's sticky error (-ENOSPC,
 * -EIO ...; a record cut short is cut off the file), returned again by every
 * later call. */
int acr_warc_write(acr_warc *w, acr_warc_capture *c);
/* The writer's sticky error (0 while it is sound): tells a failed acr_warc_write
 * whose fault it was, the writer's or the capture's. */
int acr_warc_error(const acr_warc *w);

/* NULL is a no-op. */
void acr_warc_capture_free(acr_warc_capture *c);

#endif
