/* net.h -- private: byte streams over TCP (optionally TLS) with deadlines, and
 * connecting to a list of addresses with happy eyeballs (RFC 8305). */
#ifndef ACR_TRANSPORT_NET_H
#define ACR_TRANSPORT_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "acrawl/loop.h"

typedef struct ssl_st SSL;

#define ACR_MAX_ADDRS 16

#include <netinet/in.h>

/* An IPv4 or IPv6 address: 28 bytes, not sockaddr_storage's 128, because a task's
 * stack holds a list of them while it connects. */
typedef union acr_sockaddr {
    struct sockaddr sa;
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
} acr_sockaddr;

typedef struct acr_addrs {
    size_t n;
    acr_sockaddr a[ACR_MAX_ADDRS];
} acr_addrs;

typedef struct acr_stream {
    int fd;
    acr_io *io;
    SSL *ssl;           /* NULL for plain TCP */
} acr_stream;

/* Connects to one of addrs (port already set in each), trying them in order with
 * RFC 8305 staggering: the next attempt starts 250 ms after the previous one, or at
 * once when it fails; the first to connect wins and the rest are cancelled.
 * connect_deadline bounds the connect phase, deadline the whole request.
 * 0, ACR_EREFUSED, ACR_ECONNECT (unreachable, connect timeout), ACR_ETIMEOUT,
 * ACR_ECANCELED, -errno; err gets a message. */
int acr_tcp_connect(acr_stream *s, const acr_addrs *addrs, int64_t connect_deadline, int64_t deadline,
                    char *err, size_t errlen);

/* Reads up to len bytes: >0, 0 at end of stream, or ACR_ERESET, ACR_ETIMEOUT,
 * ACR_ECANCELED, ACR_ETLSHANDSHAKE (TLS record errors), -errno. */
ssize_t acr_stream_read(acr_stream *s, void *buf, size_t len, int64_t deadline);
/* Waits until the stream may have bytes to read, without reading: saves the read
 * that would say EAGAIN right after a request was sent. 0 or as acr_stream_read. */
int acr_stream_await(acr_stream *s, int64_t deadline);
/* Writes all of buf. 0 or as acr_stream_read. */
int acr_stream_write(acr_stream *s, const void *buf, size_t len, int64_t deadline);
/* True when a pooled connection is unusable: the peer closed or half-closed it
 * (FIN, even behind unread bytes), it has a pending error, or (plain TCP) stray
 * bytes. Asks the kernel whatever the loop's edge state; never suspends. */
int acr_stream_dead(acr_stream *s);
/* Frees TLS state, closes the descriptor. Never suspends. */
void acr_stream_close(acr_stream *s);

/* Printable "addr" or "[addr]" and port of a socket address. */
void acr_addr_str(const acr_sockaddr *a, char *buf, size_t len);

#endif
