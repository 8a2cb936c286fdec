/* test_dns.c -- c-ares on the runtime when the DNS server never answers: waiters
 * that time out or are cancelled, and a resolver freed while queries are pending. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "acrawl/sync.h"
#include "helpers.h"
#include "transport/dns.h"

/* A UDP socket on 127.0.0.1 that is never read: queries to it are never answered
 * (and, unlike a closed port, get no ICMP error either). */
static int silent_server(char *spec, size_t len)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t al = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &al);
    snprintf(spec, len, "127.0.0.1:%d", ntohs(a.sin_port));
    return fd;
}

struct lookup {
    acr_dns *d;
    const char *host;
    int64_t deadline;
    int rc;
};

static int lookup_main(void *arg)
{
    struct lookup *l = arg;
    acr_addrs out;
    char err[128];
    l->rc = acr_dns_resolve(l->d, l->host, 80, l->deadline, &out, err, sizeof err);
    return 0;
}

static int never_answered(void *arg)
{
    const char *spec = arg;
    acr_dns *d;
    char err[128];
    cr_assert_eq(acr_dns_new(&d, spec, err, sizeof err), 0, "%s", err);
    /* Two waiters on one name and one on another: one times out, one is cancelled. */
    struct lookup a = {d, "a.example.test", acr_deadline_in(100 * ACR_MSEC)};
    struct lookup b = {d, "a.example.test", ACR_FOREVER};
    struct lookup c = {d, "c.example.test", acr_deadline_in(150 * ACR_MSEC)};
    acr_task *ta, *tb, *tc;
    acr_spawn(NULL, &ta, lookup_main, &a);
    acr_spawn(NULL, &tb, lookup_main, &b);
    acr_spawn(NULL, &tc, lookup_main, &c);
    acr_task_join(ta, ACR_FOREVER, NULL);
    acr_task_cancel(tb);
    acr_task_join(tb, ACR_FOREVER, NULL);
    acr_task_join(tc, ACR_FOREVER, NULL);
    cr_assert_eq(a.rc, ACR_ETIMEOUT, "got %s", acr_strerror(a.rc));
    cr_assert_eq(b.rc, ACR_ECANCELED, "got %s", acr_strerror(b.rc));
    cr_assert_eq(c.rc, ACR_ETIMEOUT, "got %s", acr_strerror(c.rc));
    acr_task_unref(ta);
    acr_task_unref(tb);
    acr_task_unref(tc);
    /* The queries are still pending in c-ares, and its pump sleeps until c-ares'
     * own retry time (2 s). Free the resolver now, then keep the loop running past
     * that time: the pump must end without touching the freed resolver. */
    acr_dns_free(d);
    acr_sleep_for(2500 * ACR_MSEC);
    return 0;
}

Test(dns, waiters_leave_and_the_resolver_is_freed_while_queries_are_pending, .timeout = 20)
{
    char spec[64];
    int fd = silent_server(spec, sizeof spec);
    run_in_loop(never_answered, spec);
    close(fd);
}

/* The library's messages name what was wrong, not the program's flags. */
static int bad_override(void *arg)
{
    (void)arg;
    acr_dns *d;
    char err[160];
    cr_assert_eq(acr_dns_new(&d, NULL, err, sizeof err), 0, "%s", err);
    cr_assert_eq(acr_dns_add_override(d, "host.test:80", err, sizeof err), -EINVAL);
    cr_assert_str_eq(err, "resolve override 'host.test:80': wants host:port:addr[,addr...]");
    cr_assert_eq(acr_dns_add_override(d, "host.test:80:999.1.1.1", err, sizeof err), -EINVAL);
    cr_assert_str_eq(err, "resolve override 'host.test:80:999.1.1.1': bad address '999.1.1.1'");
    cr_assert_eq(acr_dns_add_override(d, "host.test:80:127.0.0.1,[::1]", err, sizeof err), 0);
    acr_dns_free(d);
    return 0;
}

Test(dns, a_bad_override_is_einval_with_the_reason) { run_in_loop(bad_override, NULL); }
