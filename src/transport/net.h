/* net.h -- private: TCP: connecting to a list of addresses with happy eyeballs
 * (RFC 8305), which gives a socket stream (stream.h, included for callers). */
#ifndef ACR_TRANSPORT_NET_H
#define ACR_TRANSPORT_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "acrawl/loop.h"
#include "stream.h"

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

/* Connects to one of addrs (port already set in each), trying them in order with
 * RFC 8305 staggering: the next attempt starts 250 ms after the previous one, or at
 * once when it fails; the first to connect wins and the rest are cancelled.
 * connect_deadline bounds the connect phase, deadline the whole request. On success
 * s is a plain socket stream (stream.h), the caller's to close.
 * 0, ACR_EREFUSED, ACR_ECONNECT (unreachable, connect timeout), ACR_ETIMEOUT,
 * ACR_ECANCELED, -errno; err gets a message. */
int acr_tcp_connect(acr_stream *s, const acr_addrs *addrs, int64_t connect_deadline, int64_t deadline,
                    char *err, size_t errlen);

/* Printable "addr" or "[addr]" and port of a socket address. */
void acr_addr_str(const acr_sockaddr *a, char *buf, size_t len);

#endif
