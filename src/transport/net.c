/* net.c -- TCP: non-blocking connect with happy eyeballs (RFC 8305); the winner is
 * a socket stream, whose I/O lives in stream.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acrawl/error.h"
#include "acrawl/task.h"
#include "net.h"
#include "util/alloc.h"

#define HE_STAGGER (250 * ACR_MSEC) /* RFC 8305 §5 "Connection Attempt Delay" */

void acr_addr_str(const acr_sockaddr *a, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (a->sa.sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &a->in6.sin6_addr, ip, sizeof ip);
        snprintf(buf, len, "[%s]:%u", ip, ntohs(a->in6.sin6_port));
    } else {
        inet_ntop(AF_INET, &a->in.sin_addr, ip, sizeof ip);
        snprintf(buf, len, "%s:%u", ip, ntohs(a->in.sin_port));
    }
}

static int connect_errno(int e)
{
    switch (e) {
    case ECONNREFUSED:
        return ACR_EREFUSED;
    case ENETUNREACH:
    case EHOSTUNREACH:
    case EADDRNOTAVAIL:
    case ETIMEDOUT:
        return ACR_ECONNECT;
    case ECONNRESET:
        return ACR_ERESET;
    default:
        return -e;
    }
}

/* One connection attempt to one address. */
struct attempt {
    const acr_sockaddr *addr;
    int64_t connect_deadline, deadline;
    acr_stream s;
    int sys_errno;
};

static int attempt_connect(struct attempt *a)
{
    socklen_t alen = a->addr->sa.sa_family == AF_INET6 ? sizeof a->addr->in6 : sizeof a->addr->in;
    int fd = socket(a->addr->sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        a->sys_errno = errno;
        return -errno;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int rc = acr_io_adopt(&a->s.io, fd);
    if (rc != 0) {
        close(fd);
        return rc;
    }
    a->s.fd = fd;
    int64_t dl = a->connect_deadline < a->deadline ? a->connect_deadline : a->deadline;
    if (connect(fd, &a->addr->sa, alen) != 0) {
        if (errno != EINPROGRESS) {
            a->sys_errno = errno;
            rc = connect_errno(errno);
            goto fail;
        }
        /* The writable edge of a connecting socket means it connected or failed;
         * SO_ERROR tells which. */
        rc = acr_io_wait(a->s.io, ACR_WRITABLE, dl);
        if (rc == ACR_ETIMEOUT && dl == a->connect_deadline && dl < a->deadline) {
            a->sys_errno = ETIMEDOUT;
            rc = ACR_ECONNECT; /* the connect timeout, not the request's */
        }
        if (rc != 0)
            goto fail;
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
        if (soerr != 0) {
            a->sys_errno = soerr;
            rc = connect_errno(soerr);
            goto fail;
        }
    }
    if (acr_cancelled()) { /* won the race after losing it: give the fd back */
        rc = ACR_ECANCELED;
        goto fail;
    }
    return 0;
fail:
    acr_io_close(a->s.io);
    a->s.io = NULL;
    a->s.fd = -1;
    return rc;
}

static int attempt_task(void *arg) { return attempt_connect(arg); }

static void describe(char *err, size_t errlen, int rc, const struct attempt *a)
{
    char where[64];
    acr_addr_str(a->addr, where, sizeof where);
    if (rc == ACR_ECONNECT && a->sys_errno == ETIMEDOUT)
        snprintf(err, errlen, "connect to %s timed out", where);
    else if (a->sys_errno)
        snprintf(err, errlen, "connect to %s: %s", where, strerror(a->sys_errno));
    else
        snprintf(err, errlen, "connect to %s: %s", where, acr_strerror(rc));
}

/* RFC 8305: several attempts in flight, each started HE_STAGGER after the last
 * or as soon as one fails; the first success wins. */
static int happy_eyeballs(acr_stream *s, const acr_addrs *addrs, struct attempt *at, char *err, size_t errlen)
{
    acr_task *tasks[ACR_MAX_ADDRS];
    acr_task *live[ACR_MAX_ADDRS];
    size_t started = 0, nlive = 0, winner = SIZE_MAX;
    int rc = 0, last = ACR_ECONNECT;
    int64_t next_start = 0;
    while (winner == SIZE_MAX) {
        if (started < addrs->n && (nlive == 0 || acr_now() >= next_start)) {
            rc = acr_spawn(NULL, &tasks[started], attempt_task, &at[started]);
            if (rc != 0)
                break;
            live[nlive++] = tasks[started++];
            next_start = acr_deadline_in(HE_STAGGER);
        }
        if (nlive == 0) {
            rc = last;
            break;
        }
        int64_t wake = started < addrs->n && next_start < at[0].deadline ? next_start : at[0].deadline;
        size_t nd = 0;
        rc = acr_wait(live, nlive, ACR_FIRST_COMPLETED, wake, &nd);
        if (rc != 0 && rc != ACR_ETIMEOUT)
            break;
        for (size_t i = 0; i < nd; i++) {
            size_t idx = 0;
            while (tasks[idx] != live[i])
                idx++;
            if (acr_task_status(live[i]) == 0 && winner == SIZE_MAX) {
                winner = idx;
            } else if (acr_task_status(live[i]) != 0) {
                last = acr_task_status(live[i]);
                describe(err, errlen, last, &at[idx]);
                next_start = 0; /* a failure starts the next attempt at once */
            }
        }
        memmove(live, live + nd, (nlive - nd) * sizeof *live); /* keep the pending ones */
        nlive -= nd;
        if (rc == ACR_ETIMEOUT && acr_now() >= at[0].deadline && winner == SIZE_MAX)
            break;
        rc = 0;
    }
    /* Losers are cancelled and joined; they close their own descriptors. */
    int was = acr_shield(1);
    for (size_t i = 0; i < nlive; i++)
        acr_task_wait_for(live[i], acr_now(), NULL);
    acr_shield(was);
    for (size_t i = 0; i < started; i++) {
        if (i != winner && acr_task_status(tasks[i]) == 0 && at[i].s.io)
            acr_stream_close(&at[i].s); /* finished in the same tick as the winner */
        acr_task_unref(tasks[i]);
    }
    if (winner != SIZE_MAX) {
        *s = at[winner].s;
        return 0;
    }
    if (rc == 0 || rc == ACR_ETIMEOUT)
        rc = acr_now() >= at[0].deadline ? ACR_ETIMEOUT : last;
    if (rc == ACR_ETIMEOUT)
        snprintf(err, errlen, "timed out while connecting");
    return rc;
}

int acr_tcp_connect(acr_stream *s, const acr_addrs *addrs, int64_t connect_deadline, int64_t deadline,
                    char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    if (addrs->n == 0) {
        snprintf(err, errlen, "no addresses to connect to");
        return ACR_ECONNECT;
    }
    /* One address, the common case, needs no helper tasks and no heap. */
    struct attempt one, *at = addrs->n == 1 ? &one : acr_calloc(addrs->n, sizeof *at);
    if (!at)
        return -ENOMEM;
    for (size_t i = 0; i < addrs->n; i++) {
        at[i] = (struct attempt){.addr = &addrs->a[i], .connect_deadline = connect_deadline, .deadline = deadline};
        at[i].s.fd = -1;
    }
    int rc;
    if (addrs->n > 1) {
        rc = happy_eyeballs(s, addrs, at, err, errlen);
        free(at);
        return rc;
    }
    rc = attempt_connect(&one);
    if (rc == 0)
        *s = one.s;
    else if (rc == ACR_ETIMEOUT)
        snprintf(err, errlen, "timed out while connecting");
    else if (rc != ACR_ECANCELED)
        describe(err, errlen, rc, &one);
    return rc;
}
