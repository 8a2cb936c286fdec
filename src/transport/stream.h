/* stream.h -- private: byte streams with deadlines, as stacks of layers. The socket
 * is the bottom layer; TLS (tls.c), and later RESP or HTTP/2 framing, sit on top
 * through one operations table, as curl's connection filters do. */
#ifndef ACR_TRANSPORT_STREAM_H
#define ACR_TRANSPORT_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "acrawl/loop.h"

/* A deadline meaning "do not suspend": an op that would have to wait returns
 * -EAGAIN instead, and is not interrupted by a pending cancellation. Layers use it
 * to feed libraries that want non-blocking I/O (OpenSSL's BIO) from the layer below.
 * Passed to the runtime by mistake, it reads as a deadline long past. */
#define ACR_NOWAIT INT64_MIN

typedef struct acr_stream acr_stream;

/* The contract every layer fills. s is the stream whose top is this layer; its
 * state is s->ctx, and the stream below it (if any) is one the layer owns.
 *
 * - read: up to len (> 0) bytes: > 0 bytes read, 0 at the end of the stream, or a
 *   negative code: ACR_ETIMEOUT, ACR_ECANCELED, ACR_ERESET (reset or closed
 *   early), ACR_ECLOSED (the descriptor was closed under a waiting task), the
 *   layer's own codes (TLS: ACR_ETLSHANDSHAKE for record errors), -errno.
 * - write: takes at least one of len (> 0) bytes: > 0 bytes taken, or a negative
 *   code as read. Never 0. A layer that frames data (TLS records) may take bytes
 *   into a record and must then be called again with the same unsent rest.
 * - wait: suspends until the layer may make progress in events (ACR_READABLE,
 *   ACR_WRITABLE): 0 means retry (a read may still find nothing), or a negative
 *   code as read. A layer holding unread bytes is readable at once.
 * - check: asks an idle stream, without suspending or consuming anything: 0 quiet,
 *   1 bytes arrived that no request asked for, or a negative code when the peer
 *   closed or half-closed it or it failed. Sees a FIN even behind unread bytes.
 * - close: frees the layer's state and closes the stream below it. Never suspends
 *   (no close_notify or other goodbye round trip).
 *
 * Deadlines are absolute (acr_now() clock); ACR_FOREVER never expires; ACR_NOWAIT
 * never suspends (-EAGAIN). Cancellation wins over the deadline, as in the runtime.
 * One task drives a stream at a time; the socket layer alone also allows one
 * reader beside one writer (a TLS write may have to wait for the peer's bytes). */
typedef struct acr_stream_ops {
    const char *name;
    ssize_t (*read)(acr_stream *s, void *buf, size_t len, int64_t deadline);
    ssize_t (*write)(acr_stream *s, const void *buf, size_t len, int64_t deadline);
    int (*wait)(acr_stream *s, unsigned events, int64_t deadline);
    int (*check)(acr_stream *s);
    void (*close)(acr_stream *s);
} acr_stream_ops;

/* A handle on the top of a stack. It is a small value: copying it before a layer is
 * pushed is fine (connect does), but once pushed only one copy may be closed.
 * fd and io name the socket at the bottom, for socket options and addresses only:
 * all I/O goes through ops. A zeroed stream with fd and io set is that socket
 * alone (ops NULL stands for the socket layer). */
struct acr_stream {
    const acr_stream_ops *ops;  /* top layer; NULL: the socket itself */
    void *ctx;                  /* top layer's state */
    int fd;                     /* -1 when closed or socketless */
    acr_io *io;
};

/* Reads as the read op of the top layer. */
ssize_t acr_stream_read(acr_stream *s, void *buf, size_t len, int64_t deadline);
/* Writes all of buf through the write op. 0 or a code as acr_stream_read; with an
 * error some bytes may have been sent. */
int acr_stream_write(acr_stream *s, const void *buf, size_t len, int64_t deadline);
/* One write op: > 0 bytes taken, or a code as acr_stream_read (for layers). */
ssize_t acr_stream_write_some(acr_stream *s, const void *buf, size_t len, int64_t deadline);
/* The wait op (for layers). */
int acr_stream_wait(acr_stream *s, unsigned events, int64_t deadline);
/* Waits until the stream may have bytes to read, without reading: saves the read
 * that would say EAGAIN right after a request was sent. 0 or as acr_stream_read. */
int acr_stream_await(acr_stream *s, int64_t deadline);
/* The check op: 0 quiet, 1 unasked-for bytes, negative: closed or failed. */
int acr_stream_check(acr_stream *s);
/* True when a pooled connection is unusable: the peer closed or half-closed it
 * (FIN, even behind unread bytes), it has a pending error, or stray bytes arrived
 * that its top layer does not account for (TLS takes them: a session ticket).
 * Asks the kernel whatever the loop's edge state; never suspends. */
int acr_stream_dead(acr_stream *s);
/* Closes every layer, top down, then the socket. Never suspends. Leaves s closed
 * (fd -1), so closing again does nothing. */
void acr_stream_close(acr_stream *s);

/* Puts a layer on top of s: what s was moves into *below (which the layer keeps in
 * its state and closes from its close op), and s now dispatches to ops with ctx.
 * fd and io stay, still naming the socket at the bottom. Never fails. */
void acr_stream_push(acr_stream *s, const acr_stream_ops *ops, void *ctx, acr_stream *below);

#endif
