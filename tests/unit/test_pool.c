/* test_pool.c -- keep-alive pool: LIFO reuse, idle timeout, peer-closed detection, caps. */
#include <sys/socket.h>
#include <unistd.h>

#include "helpers.h"
#include "http/pool.h"

static acr_conn *new_conn(acr_origin *o, int *peer)
{
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    acr_conn *c = calloc(1, sizeof *c);
    c->s.fd = sv[0];
    cr_assert_eq(acr_io_open(&c->s.io, sv[0]), 0);
    c->origin = o;
    *peer = sv[1];
    return c;
}

static int lifo_main(void *arg)
{
    (void)arg;
    acr_pool p;
    cr_assert_eq(acr_pool_init(&p, 8, 0, ACR_SEC), 0);
    acr_origin *o = acr_pool_origin(&p, "http://a:80");
    cr_assert_eq(acr_pool_origin(&p, "http://a:80"), o, "one origin per key");
    cr_assert_neq(acr_pool_origin(&p, "http://b:80"), o);
    int pa, pb;
    acr_conn *a = new_conn(o, &pa), *b = new_conn(o, &pb);
    acr_pool_put(&p, a);
    acr_pool_put(&p, b);
    cr_assert_eq(acr_pool_take(&p, o), b, "most recently used first");
    cr_assert_eq(acr_pool_take(&p, o), a);
    cr_assert_null(acr_pool_take(&p, o));
    acr_conn_close(a);
    acr_conn_close(b);
    close(pa);
    close(pb);
    acr_pool_release(&p);
    return 0;
}

Test(pool, reuse_is_lifo_per_origin) { run_in_loop(lifo_main, NULL); }

static int dead_main(void *arg)
{
    (void)arg;
    acr_pool p;
    acr_pool_init(&p, 8, 0, ACR_SEC);
    acr_origin *o = acr_pool_origin(&p, "http://a:80");
    int pa, pb;
    acr_conn *a = new_conn(o, &pa), *b = new_conn(o, &pb);
    acr_pool_put(&p, a);
    acr_pool_put(&p, b);
    close(pb);           /* the server closes b while it is idle */
    acr_sleep_for(ACR_MSEC); /* let the loop see the edge */
    cr_assert_eq(acr_pool_take(&p, o), a, "the closed one is skipped and freed");
    acr_conn_close(a);
    close(pa);
    acr_pool_release(&p);
    return 0;
}

Test(pool, connections_closed_by_the_peer_are_not_reused) { run_in_loop(dead_main, NULL); }

/* The FIN came with the last response, and the read that took the response also
 * took the readiness edge: nothing is pending in the loop, yet the peer is gone. */
static int halfclosed_main(void *arg)
{
    (void)arg;
    acr_pool p;
    acr_pool_init(&p, 8, 0, ACR_SEC);
    acr_origin *o = acr_pool_origin(&p, "http://a:80");
    int peer;
    acr_conn *a = new_conn(o, &peer);
    cr_assert_eq(write(peer, "response", 8), 8);
    shutdown(peer, SHUT_WR); /* FIN, socket still open */
    cr_assert_eq(acr_io_wait(a->s.io, ACR_READABLE, acr_deadline_in(ACR_SEC)), 0);
    char buf[16];
    cr_assert_eq(read(a->s.fd, buf, sizeof buf), 8, "the response is read, the EOF left unread");
    cr_assert_eq(acr_io_pending(a->s.io) & ACR_READABLE, 0, "the edge is consumed");
    acr_pool_put(&p, a);
    cr_assert_null(acr_pool_take(&p, o), "a half-closed connection is not reused");
    cr_assert_eq(o->nidle, 0);
    close(peer);
    acr_pool_release(&p);
    return 0;
}

Test(pool, half_closed_connection_is_not_reused_whatever_the_edge_state) { run_in_loop(halfclosed_main, NULL); }

static int idle_main(void *arg)
{
    (void)arg;
    acr_pool p;
    acr_pool_init(&p, 2, 0, 20 * ACR_MSEC);
    acr_origin *o = acr_pool_origin(&p, "http://a:80");
    int peers[3];
    acr_conn *c[3];
    for (int i = 0; i < 3; i++) {
        c[i] = new_conn(o, &peers[i]);
        acr_pool_put(&p, c[i]); /* the third is over max_idle: closed */
    }
    cr_assert_eq(o->nidle, 2);
    acr_sleep_for(30 * ACR_MSEC);
    cr_assert_null(acr_pool_take(&p, o), "idle past the timeout");
    cr_assert_eq(o->nidle, 0);
    for (int i = 0; i < 3; i++)
        close(peers[i]);
    acr_pool_release(&p);
    return 0;
}

Test(pool, idle_limit_and_timeout) { run_in_loop(idle_main, NULL); }

static int cap_main(void *arg)
{
    (void)arg;
    acr_pool p;
    acr_pool_init(&p, 8, 2, ACR_SEC);
    acr_origin *o = acr_pool_origin(&p, "http://a:80");
    cr_assert_not_null(o->cap);
    cr_assert_eq(acr_sem_available(o->cap), 2);
    acr_pool_release(&p);
    return 0;
}

Test(pool, per_origin_cap_is_a_semaphore) { run_in_loop(cap_main, NULL); }
