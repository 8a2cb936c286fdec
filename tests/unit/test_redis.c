/* test_redis.c -- the Redis client against a real redis-server started per test on
 * a free loopback port: URLs, commands, pipelines, streams, auth, failures, restarts,
 * sharing a connection between tasks, cancellation. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "acrawl/sync.h"
#include "fixtures.h"
#include "helpers.h"
#include "redis/redis.h"
#include "redisserver.h"

/* ---- the server ---- */

static struct rserver srv;

static void start_server(void) { redis_start(&srv, "/tmp/acrawl-redis"); }

static void start_server_auth(void)
{
    srv.password = "s3cret";
    start_server();
}

static void stop_server(void) { redis_stop(&srv); }

/* ---- helpers ---- */

static void local_addr(acr_redis_addr *a, int port)
{
    char url[64], err[200];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", port);
    cr_assert_eq(acr_redis_parse_url(url, a, err, sizeof err), 0, "%s", err);
}

static acr_redis *connect_local(void)
{
    acr_redis_addr a;
    local_addr(&a, srv.port);
    acr_redis *r = NULL;
    char err[256];
    int rc = acr_redis_open(&r, &a, acr_deadline_in(5 * ACR_SEC), err, sizeof err);
    cr_assert_eq(rc, 0, "open: %s (%s)", acr_strerror(rc), err);
    return r;
}

static void exec_ok(acr_redis *r, acr_redis_batch *b)
{
    char err[256];
    int rc = acr_redis_exec(r, b, acr_deadline_in(10 * ACR_SEC), err, sizeof err);
    cr_assert_eq(rc, 0, "exec: %s (%s)", acr_strerror(rc), err);
}

static void expect_status(const redisReply *rep, const char *s)
{
    cr_assert_not_null(rep);
    cr_assert_eq(rep->type, REDIS_REPLY_STATUS, "type %d: %s", rep->type, rep->type == REDIS_REPLY_ERROR ? rep->str : "");
    cr_assert_str_eq(rep->str, s);
}

static void expect_string(const redisReply *rep, const char *s, size_t len)
{
    cr_assert_not_null(rep);
    cr_assert_eq(rep->type, REDIS_REPLY_STRING, "type %d", rep->type);
    cr_assert_eq(rep->len, len);
    cr_assert_eq(memcmp(rep->str, s, len), 0);
}

/* ---- URLs ---- */

Test(redis_url, good_forms)
{
    acr_redis_addr a;
    char err[200];
    cr_assert_eq(acr_redis_parse_url("redis://localhost", &a, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(a.host, "localhost");
    cr_assert_eq(a.port, 6379);
    cr_assert_eq(a.db, 0);
    cr_assert_str_eq(a.user, "");
    cr_assert_str_eq(a.password, "");

    cr_assert_eq(acr_redis_parse_url("REDIS://10.0.0.5:7000/3", &a, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(a.host, "10.0.0.5");
    cr_assert_eq(a.port, 7000);
    cr_assert_eq(a.db, 3);

    cr_assert_eq(acr_redis_parse_url("redis://:pw@h:1/", &a, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(a.user, "");
    cr_assert_str_eq(a.password, "pw");
    cr_assert_eq(a.db, 0);

    cr_assert_eq(acr_redis_parse_url("redis://alice:p%40ss%3Aw%2Fd@h", &a, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(a.user, "alice");
    cr_assert_str_eq(a.password, "p@ss:w/d");

    cr_assert_eq(acr_redis_parse_url("redis://only@h", &a, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(a.user, "", "no ':' means a password, as in redis-cli");
    cr_assert_str_eq(a.password, "only");

    cr_assert_eq(acr_redis_parse_url("redis://u:a@b@h:9", &a, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(a.password, "a@b", "the last '@' ends the userinfo");
    cr_assert_str_eq(a.host, "h");

    cr_assert_eq(acr_redis_parse_url("redis://[::1]:6380/15", &a, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(a.host, "::1");
    cr_assert_eq(a.port, 6380);
    cr_assert_eq(a.db, 15);

    cr_assert_eq(acr_redis_parse_url("redis://[fe80::1]", &a, err, sizeof err), 0, "%s", err);
    cr_assert_eq(a.port, 6379);
}

static void bad(const char *url, const char *needle)
{
    acr_redis_addr a;
    char err[200] = "";
    cr_assert_eq(acr_redis_parse_url(url, &a, err, sizeof err), -EINVAL, "%s accepted", url);
    cr_assert(strstr(err, needle), "%s: '%s' lacks '%s'", url, err, needle);
}

Test(redis_url, bad_forms)
{
    bad("rediss://h:6380", "TLS");
    bad("unix:///tmp/redis.sock", "Unix");
    bad("http://h", "redis://");
    bad("h:6379", "redis://");
    bad("redis://", "no host");
    bad("redis://:pw@", "no host");
    bad("redis://h:", "port");
    bad("redis://h:0", "port");
    bad("redis://h:65536", "port");
    bad("redis://h:12a", "port");
    bad("redis://h:-1", "port");
    bad("redis://h/x", "db");
    bad("redis://h/1/2", "db");
    bad("redis://h/-1", "db");
    bad("redis://h/99999999999", "db");
    bad("redis://h?db=1", "query");
    bad("redis://[::1", "']'");
    bad("redis://[::1]x", "junk");
    bad("redis://::1", "brackets");
    bad("redis://h o", "host");
    bad("redis://:p%4@h", "escape");
    bad("redis://:p%00@h", "escape");
    bad("redis://:p w@h", "control");
    char longhost[400];
    memset(longhost, 'a', sizeof longhost);
    memcpy(longhost, "redis://", 8);
    longhost[sizeof longhost - 1] = 0;
    bad(longhost, "longer");
}

/* ---- commands ---- */

static int basic_main(void *arg)
{
    (void)arg;
    acr_redis *r = connect_local();
    cr_assert(acr_redis_connected(r));
    acr_redis_batch *b = acr_redis_batch_new();
    cr_assert_not_null(b);
    static const char val[] = "a\0b\r\n\0c"; /* NUL bytes and CRLF inside */
    const char *argv[] = {"SET", "bin", val};
    size_t lens[] = {3, 3, sizeof val - 1};
    cr_assert_eq(acr_redis_addf(b, "PING"), 0);
    cr_assert_eq(acr_redis_addf(b, "SET %s %s", "k1", "hello world"), 0);
    cr_assert_eq(acr_redis_addf(b, "GET %s", "k1"), 0);
    cr_assert_eq(acr_redis_add(b, 3, argv, lens), 0);
    cr_assert_eq(acr_redis_addf(b, "GET %b", "bin", (size_t)3), 0);
    cr_assert_eq(acr_redis_addf(b, "INCRBY n %d", 41), 0);
    cr_assert_eq(acr_redis_addf(b, "GET nothing"), 0);
    cr_assert_eq(acr_redis_addf(b, "NOSUCHCOMMAND x"), 0);
    cr_assert_eq(acr_redis_addf(b, "SET %b %b", "nul\0key", (size_t)7, val, sizeof val - 1), 0);
    cr_assert_eq(acr_redis_addf(b, "STRLEN %b", "nul\0key", (size_t)7), 0);
    cr_assert_eq(acr_redis_count(b), 10);
    cr_assert_null(acr_redis_reply(b, 0), "no replies before exec");
    exec_ok(r, b);
    expect_status(acr_redis_reply(b, 0), "PONG");
    expect_status(acr_redis_reply(b, 1), "OK");
    expect_string(acr_redis_reply(b, 2), "hello world", 11);
    expect_status(acr_redis_reply(b, 3), "OK");
    expect_string(acr_redis_reply(b, 4), val, sizeof val - 1);
    cr_assert_eq(acr_redis_reply(b, 5)->type, REDIS_REPLY_INTEGER);
    cr_assert_eq(acr_redis_reply(b, 5)->integer, 41);
    cr_assert_eq(acr_redis_reply(b, 6)->type, REDIS_REPLY_NIL);
    cr_assert_eq(acr_redis_reply(b, 7)->type, REDIS_REPLY_ERROR, "a refused command is a reply, not a failure");
    cr_assert(strstr(acr_redis_reply(b, 7)->str, "unknown command"), "%s", acr_redis_reply(b, 7)->str);
    cr_assert_eq(acr_redis_reply(b, 9)->integer, (long long)sizeof val - 1);
    cr_assert_null(acr_redis_reply(b, 10));

    /* exec again resends the same batch; clear empties it */
    exec_ok(r, b);
    cr_assert_eq(acr_redis_reply(b, 5)->integer, 82);
    acr_redis_batch_clear(b);
    cr_assert_eq(acr_redis_count(b), 0);
    cr_assert_null(acr_redis_reply(b, 0));
    exec_ok(r, b); /* empty: nothing sent */
    cr_assert_eq(acr_redis_add(b, 0, argv, lens), -EINVAL);
    cr_assert_eq(acr_redis_addf(b, ""), -EINVAL);
    cr_assert_eq(acr_redis_count(b), 0);

    acr_redis_stats st;
    acr_redis_stats_get(r, &st);
    cr_assert_eq(st.commands, 20);
    cr_assert_eq(st.batches, 2);
    cr_assert_eq(st.reconnects, 0);
    cr_assert_gt(st.bytes_out, 0);
    cr_assert_gt(st.bytes_in, 0);
    acr_redis_batch_free(b);
    acr_redis_close(r);
    return 0;
}

Test(redis, commands_and_binary_values, .init = start_server, .fini = stop_server)
{
    cr_assert_eq(run_in_loop(basic_main, NULL), 0);
}

static int names_main(void *arg)
{
    (void)arg;
    char url[80], err[256];
    acr_redis_addr a;
    snprintf(url, sizeof url, "redis://localhost:%d/3", srv.port);
    cr_assert_eq(acr_redis_parse_url(url, &a, err, sizeof err), 0);
    acr_redis *r = NULL;
    int rc = acr_redis_open(&r, &a, acr_deadline_in(5 * ACR_SEC), err, sizeof err);
    cr_assert_eq(rc, 0, "localhost through the resolver: %s", err);
    acr_redis_batch *b = acr_redis_batch_new();
    acr_redis_addf(b, "SET indb3 yes");
    exec_ok(r, b);
    acr_redis_close(r);

    r = connect_local(); /* db 0 */
    acr_redis_batch_clear(b);
    acr_redis_addf(b, "GET indb3");
    exec_ok(r, b);
    cr_assert_eq(acr_redis_reply(b, 0)->type, REDIS_REPLY_NIL, "SELECT took effect");
    acr_redis_close(r);

    a.db = 999;
    rc = acr_redis_open(&r, &a, acr_deadline_in(5 * ACR_SEC), err, sizeof err);
    cr_assert_eq(rc, -EINVAL, "%s", acr_strerror(rc));
    cr_assert(strstr(err, "SELECT") && strstr(err, "out of range"), "%s", err);
    acr_redis_batch_free(b);
    return 0;
}

Test(redis, host_names_and_db, .init = start_server, .fini = stop_server)
{
    cr_assert_eq(run_in_loop(names_main, NULL), 0);
}

/* ---- pipelines ---- */

#define PIPE_N 10000

static int pipeline_main(void *arg)
{
    (void)arg;
    acr_redis *r = connect_local();
    acr_redis_batch *b = acr_redis_batch_new();
    for (int i = 0; i < PIPE_N; i++)
        cr_assert_eq(acr_redis_addf(b, "SET key:%d value-%d", i, i * 7), 0);
    exec_ok(r, b);
    for (int i = 0; i < PIPE_N; i++)
        expect_status(acr_redis_reply(b, (size_t)i), "OK");
    acr_redis_batch_clear(b);
    for (int i = 0; i < PIPE_N; i++)
        acr_redis_addf(b, "GET key:%d", i);
    exec_ok(r, b);
    for (int i = 0; i < PIPE_N; i++) {
        char want[32];
        int n = snprintf(want, sizeof want, "value-%d", i * 7);
        expect_string(acr_redis_reply(b, (size_t)i), want, (size_t)n);
    }
    acr_redis_stats st;
    acr_redis_stats_get(r, &st);
    cr_assert_eq(st.commands, 2 * PIPE_N);
    cr_assert_eq(st.batches, 2);
    acr_redis_batch_free(b);
    acr_redis_close(r);
    return 0;
}

Test(redis, pipeline_of_10000, .init = start_server, .fini = stop_server)
{
    cr_assert_eq(run_in_loop(pipeline_main, NULL), 0);
}

/* ---- streams: the consumer-group round trip the shared crawl is built on ---- */

static const redisReply *elem(const redisReply *rep, size_t i, int type)
{
    cr_assert_not_null(rep);
    cr_assert_eq(rep->type, REDIS_REPLY_ARRAY, "type %d (%s)", rep->type, rep->type == REDIS_REPLY_ERROR ? rep->str : "");
    cr_assert_lt(i, rep->elements);
    cr_assert_eq(rep->element[i]->type, type, "element %zu: type %d", i, rep->element[i]->type);
    return rep->element[i];
}

static int streams_main(void *arg)
{
    (void)arg;
    acr_redis *r = connect_local();
    acr_redis_batch *b = acr_redis_batch_new();
    acr_redis_addf(b, "XGROUP CREATE frontier workers $ MKSTREAM");
    for (int i = 0; i < 3; i++)
        acr_redis_addf(b, "XADD frontier * url http://example.test/%d depth %d", i, i);
    acr_redis_addf(b, "XREADGROUP GROUP workers w1 COUNT 10 STREAMS frontier >");
    exec_ok(r, b);
    expect_status(acr_redis_reply(b, 0), "OK");
    char ids[3][64];
    for (int i = 0; i < 3; i++) {
        const redisReply *id = acr_redis_reply(b, 1 + (size_t)i);
        cr_assert_eq(id->type, REDIS_REPLY_STRING);
        snprintf(ids[i], sizeof ids[i], "%s", id->str);
    }
    /* [[stream, [[id, [field, value, ...]], ...]]] */
    const redisReply *streams = acr_redis_reply(b, 4);
    const redisReply *s0 = elem(streams, 0, REDIS_REPLY_ARRAY);
    expect_string(elem(s0, 0, REDIS_REPLY_STRING), "frontier", 8);
    const redisReply *entries = elem(s0, 1, REDIS_REPLY_ARRAY);
    cr_assert_eq(entries->elements, 3);
    for (size_t i = 0; i < 3; i++) {
        const redisReply *e = elem(entries, i, REDIS_REPLY_ARRAY);
        cr_assert_str_eq(elem(e, 0, REDIS_REPLY_STRING)->str, ids[i]);
        const redisReply *fields = elem(e, 1, REDIS_REPLY_ARRAY);
        cr_assert_eq(fields->elements, 4);
        char url[64];
        snprintf(url, sizeof url, "http://example.test/%zu", i);
        cr_assert_str_eq(elem(fields, 0, REDIS_REPLY_STRING)->str, "url");
        cr_assert_str_eq(elem(fields, 1, REDIS_REPLY_STRING)->str, url);
    }

    /* w1 acknowledges the first; w2 claims the other two as if w1 had died */
    acr_redis_batch_clear(b);
    acr_redis_addf(b, "XACK frontier workers %s", ids[0]);
    acr_redis_addf(b, "XAUTOCLAIM frontier workers w2 0 0-0 COUNT 10");
    acr_redis_addf(b, "XPENDING frontier workers");
    exec_ok(r, b);
    cr_assert_eq(acr_redis_reply(b, 0)->integer, 1);
    /* [next-start-id, [[id, fields], ...], [deleted ids]] */
    const redisReply *claim = acr_redis_reply(b, 1);
    cr_assert_eq(claim->elements, 3);
    cr_assert_str_eq(elem(claim, 0, REDIS_REPLY_STRING)->str, "0-0", "all claimed in one call");
    const redisReply *claimed = elem(claim, 1, REDIS_REPLY_ARRAY);
    cr_assert_eq(claimed->elements, 2);
    cr_assert_str_eq(elem(elem(claimed, 0, REDIS_REPLY_ARRAY), 0, REDIS_REPLY_STRING)->str, ids[1]);
    cr_assert_str_eq(elem(elem(claimed, 1, REDIS_REPLY_ARRAY), 0, REDIS_REPLY_STRING)->str, ids[2]);
    cr_assert_eq(elem(claim, 2, REDIS_REPLY_ARRAY)->elements, 0);
    /* [count, lowest, highest, [[consumer, count]]]: everything is now w2's */
    const redisReply *pend = acr_redis_reply(b, 2);
    cr_assert_eq(elem(pend, 0, REDIS_REPLY_INTEGER)->integer, 2);
    const redisReply *who = elem(elem(pend, 3, REDIS_REPLY_ARRAY), 0, REDIS_REPLY_ARRAY);
    cr_assert_str_eq(elem(who, 0, REDIS_REPLY_STRING)->str, "w2");
    acr_redis_batch_free(b);
    acr_redis_close(r);
    return 0;
}

Test(redis, streams_consumer_group_round_trip, .init = start_server, .fini = stop_server)
{
    cr_assert_eq(run_in_loop(streams_main, NULL), 0);
}

/* ---- failures on open ---- */

static int open_expect(acr_redis_addr *a, int64_t timeout, int want, const char *needle)
{
    acr_redis *r = NULL;
    char err[256] = "";
    int rc = acr_redis_open(&r, a, acr_deadline_in(timeout), err, sizeof err);
    cr_assert_eq(rc, want, "got %s (%s), want %s", acr_errname(rc), err, acr_errname(want));
    cr_assert_null(r);
    cr_assert(strstr(err, needle), "'%s' lacks '%s'", err, needle);
    char where[300];
    snprintf(where, sizeof where, "%s:%u", a->host, a->port);
    cr_assert(strstr(err, where), "'%s' does not name %s", err, where);
    return 0;
}

static int auth_main(void *arg)
{
    (void)arg;
    acr_redis_addr a;
    local_addr(&a, srv.port);
    open_expect(&a, 5 * ACR_SEC, -EACCES, "NOAUTH");
    snprintf(a.password, sizeof a.password, "wrong");
    open_expect(&a, 5 * ACR_SEC, -EACCES, "WRONGPASS");
    snprintf(a.user, sizeof a.user, "default");
    open_expect(&a, 5 * ACR_SEC, -EACCES, "WRONGPASS");

    char url[80], err[256];
    snprintf(url, sizeof url, "redis://default:s3cret@127.0.0.1:%d/2", srv.port);
    cr_assert_eq(acr_redis_parse_url(url, &a, err, sizeof err), 0);
    acr_redis *r = NULL;
    int rc = acr_redis_open(&r, &a, acr_deadline_in(5 * ACR_SEC), err, sizeof err);
    cr_assert_eq(rc, 0, "user and password: %s", err);
    acr_redis_close(r);
    a.user[0] = 0; /* the password alone */
    rc = acr_redis_open(&r, &a, acr_deadline_in(5 * ACR_SEC), err, sizeof err);
    cr_assert_eq(rc, 0, "password alone: %s", err);
    acr_redis_close(r);
    return 0;
}

Test(redis, wrong_or_missing_password, .init = start_server_auth, .fini = stop_server)
{
    cr_assert_eq(run_in_loop(auth_main, NULL), 0);
}

static int refused_main(void *arg)
{
    (void)arg;
    acr_redis_addr a;
    local_addr(&a, free_port(SOCK_STREAM));
    open_expect(&a, 5 * ACR_SEC, ACR_EREFUSED, "refused");
    return 0;
}

Test(redis_fail, nothing_listening_is_refused) { cr_assert_eq(run_in_loop(refused_main, NULL), 0); }

static int silent_main(void *arg)
{
    int port = *(int *)arg;
    acr_redis_addr a;
    local_addr(&a, port);
    int64_t t0 = acr_now();
    open_expect(&a, 300 * ACR_MSEC, ACR_ETIMEOUT, "PING");
    int64_t ms = ms_since(t0);
    cr_assert(ms >= 290 && ms < 1000, "timed out after %lld ms, deadline 300", (long long)ms);
    return 0;
}

Test(redis_fail, a_server_that_never_answers_times_out)
{
    /* listening, so connect completes through the backlog, and nobody reads */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, len), 0);
    cr_assert_eq(listen(fd, 8), 0);
    getsockname(fd, (struct sockaddr *)&a, &len);
    int port = ntohs(a.sin_port);
    cr_assert_eq(run_in_loop(silent_main, &port), 0);
    close(fd);
}

/* A peer that answers anything with an HTTP error: not Redis. */
static int garbage_main(void *arg)
{
    int port = *(int *)arg;
    acr_redis_addr a;
    local_addr(&a, port);
    open_expect(&a, 5 * ACR_SEC, -EPROTO, "bad reply");
    return 0;
}

Test(redis_fail, a_peer_that_is_not_redis)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, len), 0);
    cr_assert_eq(listen(fd, 8), 0);
    getsockname(fd, (struct sockaddr *)&a, &len);
    int port = ntohs(a.sin_port);
    pid_t pid = fork();
    if (pid == 0) {
        int c = accept(fd, NULL, NULL);
        char buf[256];
        if (read(c, buf, sizeof buf) > 0 && write(c, "HTTP/1.1 400 Bad Request\r\n\r\n", 28) > 0)
            usleep(500000);
        _exit(0);
    }
    cr_assert_eq(run_in_loop(garbage_main, &port), 0);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(fd);
}

/* ---- failures in use ---- */

static int exec_one(acr_redis *r, const char *cmd, int64_t timeout, char *err, size_t errlen)
{
    acr_redis_batch *b = acr_redis_batch_new();
    acr_redis_addf(b, cmd);
    int rc = acr_redis_exec(r, b, acr_deadline_in(timeout), err, errlen);
    acr_redis_batch_free(b);
    return rc;
}

static int killer(void *arg)
{
    (void)arg;
    acr_sleep_for(100 * ACR_MSEC);
    redis_kill(&srv);
    return 0;
}

static int restart_main(void *arg)
{
    (void)arg;
    acr_redis *r = connect_local();
    char err[256];
    acr_redis_stats st;

    /* killed while a batch waits for its reply: that batch fails */
    acr_task *k;
    acr_spawn(NULL, &k, killer, NULL);
    int rc = exec_one(r, "BLPOP nolist 5", 5 * ACR_SEC, err, sizeof err);
    cr_assert_eq(rc, ACR_ERESET, "%s (%s)", acr_errname(rc), err);
    cr_assert(strstr(err, "closed by the server"), "%s", err);
    cr_assert_not(acr_redis_connected(r));
    acr_task_join(k, ACR_FOREVER, NULL);
    acr_task_unref(k);

    /* down: the next exec tries to reconnect, once, and says why it could not */
    rc = exec_one(r, "PING", 5 * ACR_SEC, err, sizeof err);
    cr_assert_eq(rc, ACR_EREFUSED, "%s (%s)", acr_errname(rc), err);

    /* back on the same port: the next exec reconnects and works */
    redis_up(&srv);
    rc = exec_one(r, "PING", 5 * ACR_SEC, err, sizeof err);
    cr_assert_eq(rc, 0, "%s (%s)", acr_errname(rc), err);
    acr_redis_stats_get(r, &st);
    cr_assert_eq(st.reconnects, 1);

    /* restarted while idle: found dead before anything is sent, reopened at once */
    redis_kill(&srv);
    redis_up(&srv);
    rc = exec_one(r, "PING", 5 * ACR_SEC, err, sizeof err);
    cr_assert_eq(rc, 0, "%s (%s)", acr_errname(rc), err);
    acr_redis_stats_get(r, &st);
    cr_assert_eq(st.reconnects, 2);
    acr_redis_close(r);
    return 0;
}

Test(redis, server_killed_and_restarted, .init = start_server, .fini = stop_server)
{
    cr_assert_eq(run_in_loop(restart_main, NULL), 0);
}

static int timeout_main(void *arg)
{
    (void)arg;
    acr_redis *r = connect_local();
    char err[256];
    int64_t t0 = acr_now();
    int rc = exec_one(r, "BLPOP nolist 2", 100 * ACR_MSEC, err, sizeof err);
    cr_assert_eq(rc, ACR_ETIMEOUT, "%s (%s)", acr_errname(rc), err);
    cr_assert_lt(ms_since(t0), 1000);
    cr_assert(strstr(err, "0 of 1 replies"), "%s", err);
    cr_assert_not(acr_redis_connected(r), "a late reply would answer the next batch");
    rc = exec_one(r, "PING", 5 * ACR_SEC, err, sizeof err);
    cr_assert_eq(rc, 0, "%s (%s)", acr_errname(rc), err);

    /* replies over the limit: a long string, then a long array */
    acr_redis_batch *b = acr_redis_batch_new();
    static char big[4000];
    memset(big, 'x', sizeof big);
    acr_redis_addf(b, "SET big %b", big, sizeof big);
    for (int i = 0; i < 200; i++)
        acr_redis_addf(b, "RPUSH list %d", i);
    exec_ok(r, b);
    acr_redis_set_max_reply(r, 1000);
    rc = exec_one(r, "GET big", 5 * ACR_SEC, err, sizeof err);
    cr_assert_eq(rc, -EPROTO, "%s (%s)", acr_errname(rc), err);
    cr_assert(strstr(err, "limit"), "%s", err);
    rc = exec_one(r, "LRANGE list 0 -1", 5 * ACR_SEC, err, sizeof err);
    cr_assert_eq(rc, -EPROTO, "%s (%s)", acr_errname(rc), err);
    cr_assert(strstr(err, "array"), "%s", err);
    acr_redis_set_max_reply(r, ACR_REDIS_MAX_REPLY);
    acr_redis_batch_clear(b);
    acr_redis_addf(b, "GET big");
    acr_redis_addf(b, "LLEN list");
    exec_ok(r, b);
    cr_assert_eq(acr_redis_reply(b, 0)->len, sizeof big);
    cr_assert_eq(acr_redis_reply(b, 1)->integer, 200);
    acr_redis_stats st;
    acr_redis_stats_get(r, &st);
    cr_assert_eq(st.reconnects, 3);
    acr_redis_batch_free(b);
    acr_redis_close(r);
    return 0;
}

Test(redis, timeouts_and_oversized_replies_close_the_connection, .init = start_server, .fini = stop_server)
{
    cr_assert_eq(run_in_loop(timeout_main, NULL), 0);
}

/* ---- sharing and cancelling ---- */

#define SHARERS 20
#define ROUNDS 30
#define PER_BATCH 25

struct sharer {
    acr_redis *r;
    int id;
    int batches;
};

static int sharer_main(void *arg)
{
    struct sharer *s = arg;
    acr_redis_batch *b = acr_redis_batch_new();
    char err[256];
    for (int round = 0; round < ROUNDS; round++) {
        acr_redis_batch_clear(b);
        for (int c = 0; c < PER_BATCH; c++)
            acr_redis_addf(b, "ECHO t%d-r%d-c%d", s->id, round, c);
        acr_redis_addf(b, "INCR shared");
        int rc = acr_redis_exec(s->r, b, acr_deadline_in(10 * ACR_SEC), err, sizeof err);
        cr_assert_eq(rc, 0, "task %d: %s", s->id, err);
        for (int c = 0; c < PER_BATCH; c++) {
            char want[64];
            int n = snprintf(want, sizeof want, "t%d-r%d-c%d", s->id, round, c);
            expect_string(acr_redis_reply(b, (size_t)c), want, (size_t)n);
        }
        cr_assert_eq(acr_redis_reply(b, PER_BATCH)->type, REDIS_REPLY_INTEGER);
        s->batches++;
        if (round % 3 == 0)
            acr_yield();
    }
    acr_redis_batch_free(b);
    return 0;
}

static int share_main(void *arg)
{
    (void)arg;
    acr_redis *r = connect_local();
    struct sharer s[SHARERS];
    acr_task *t[SHARERS];
    for (int i = 0; i < SHARERS; i++) {
        s[i] = (struct sharer){.r = r, .id = i};
        cr_assert_eq(acr_spawn(NULL, &t[i], sharer_main, &s[i]), 0);
    }
    size_t nd;
    cr_assert_eq(acr_wait(t, SHARERS, ACR_ALL_COMPLETED, acr_deadline_in(30 * ACR_SEC), &nd), 0);
    for (int i = 0; i < SHARERS; i++) {
        cr_assert_eq(acr_task_status(t[i]), 0);
        cr_assert_eq(s[i].batches, ROUNDS);
        acr_task_unref(t[i]);
    }
    char err[256];
    acr_redis_batch *b = acr_redis_batch_new();
    acr_redis_addf(b, "GET shared");
    exec_ok(r, b);
    cr_assert_eq(atoi(acr_redis_reply(b, 0)->str), SHARERS * ROUNDS);
    acr_redis_stats st;
    acr_redis_stats_get(r, &st);
    cr_assert_eq(st.batches, SHARERS * ROUNDS + 1);
    cr_assert_eq(st.reconnects, 0);
    (void)err;
    acr_redis_batch_free(b);
    acr_redis_close(r);
    return 0;
}

Test(redis, twenty_tasks_share_one_connection, .init = start_server, .fini = stop_server)
{
    cr_assert_eq(run_in_loop(share_main, NULL), 0);
}

struct blocker {
    acr_redis *r;
    const char *cmd;
    int64_t timeout;
    char err[256];
};

static int blocker_main(void *arg)
{
    struct blocker *bl = arg;
    return exec_one(bl->r, bl->cmd, bl->timeout, bl->err, sizeof bl->err);
}

static int cancel_main(void *arg)
{
    (void)arg;
    acr_redis *r = connect_local();
    struct blocker hold = {.r = r, .cmd = "BLPOP nolist 0", .timeout = ACR_SEC * 60};
    struct blocker queued = {.r = r, .cmd = "PING", .timeout = ACR_SEC * 60};
    struct blocker impatient = {.r = r, .cmd = "PING", .timeout = 100 * ACR_MSEC};
    acr_task *th, *tq, *ti;
    acr_spawn(NULL, &th, blocker_main, &hold);
    acr_spawn(NULL, &tq, blocker_main, &queued);
    acr_spawn(NULL, &ti, blocker_main, &impatient);

    /* a task waiting its turn keeps its deadline ... */
    int64_t t0 = acr_now();
    int st;
    cr_assert_eq(acr_task_join(ti, acr_deadline_in(5 * ACR_SEC), &st), 0);
    cr_assert_eq(st, ACR_ETIMEOUT, "%s", acr_errname(st));
    cr_assert_lt(ms_since(t0), 1000);
    cr_assert(strstr(impatient.err, "waiting for the connection"), "%s", impatient.err);
    cr_assert(acr_redis_connected(r), "the holder's batch goes on");

    /* ... and its cancel */
    acr_task_cancel(tq);
    cr_assert_eq(acr_task_join(tq, acr_deadline_in(5 * ACR_SEC), &st), 0);
    cr_assert_eq(st, ACR_ECANCELED, "%s", acr_errname(st));
    cr_assert(acr_redis_connected(r));

    /* cancelled mid-batch: the connection is closed, the next user reconnects */
    acr_task_cancel(th);
    cr_assert_eq(acr_task_join(th, acr_deadline_in(5 * ACR_SEC), &st), 0);
    cr_assert_eq(st, ACR_ECANCELED, "%s (%s)", acr_errname(st), hold.err);
    cr_assert_not(acr_redis_connected(r));
    char err[256];
    int rc = exec_one(r, "PING", 5 * ACR_SEC, err, sizeof err);
    cr_assert_eq(rc, 0, "%s", err);
    acr_redis_stats s;
    acr_redis_stats_get(r, &s);
    cr_assert_eq(s.reconnects, 1);
    acr_task_unref(th);
    acr_task_unref(tq);
    acr_task_unref(ti);
    acr_redis_close(r);
    return 0;
}

Test(redis, cancel_mid_batch_and_while_queued, .init = start_server, .fini = stop_server)
{
    cr_assert_eq(run_in_loop(cancel_main, NULL), 0);
}

/* A task cancelled in the middle of a large batch, replies half read: everything is
 * freed (ASan checks) and the connection reopens. */
struct big {
    acr_redis *r;
    acr_redis_batch *b;
    char err[256];
};

static int big_main(void *arg)
{
    struct big *g = arg;
    return acr_redis_exec(g->r, g->b, ACR_FOREVER, g->err, sizeof g->err);
}

static int cancel_big_main(void *arg)
{
    (void)arg;
    struct big g = {.r = connect_local(), .b = acr_redis_batch_new()};
    for (int i = 0; i < 2000; i++)
        acr_redis_addf(g.b, "SET k%d v%d", i, i);
    acr_redis_addf(g.b, "BLPOP nolist 0");
    acr_task *t;
    acr_spawn(NULL, &t, big_main, &g);
    acr_sleep_for(200 * ACR_MSEC);
    acr_task_cancel(t);
    int st;
    cr_assert_eq(acr_task_join(t, acr_deadline_in(5 * ACR_SEC), &st), 0);
    cr_assert_eq(st, ACR_ECANCELED, "%s (%s)", acr_errname(st), g.err);
    cr_assert(strstr(g.err, "2000 of 2001"), "%s", g.err);
    expect_status(acr_redis_reply(g.b, 1999), "OK");
    cr_assert_null(acr_redis_reply(g.b, 2000));
    cr_assert_not(acr_redis_connected(g.r));
    acr_task_unref(t);
    acr_redis_batch_free(g.b);
    acr_redis_close(g.r);
    return 0;
}

Test(redis, cancel_with_replies_half_read, .init = start_server, .fini = stop_server)
{
    cr_assert_eq(run_in_loop(cancel_big_main, NULL), 0);
}

/* ---- throughput (ACR_REDIS_BENCH=1) ---- */

static int bench_main(void *arg)
{
    int per = *(int *)arg;
    acr_redis *r = connect_local();
    acr_redis_batch *b = acr_redis_batch_new();
    const int total = 200000;
    int64_t t0 = acr_now(), in_exec = 0;
    for (int done = 0; done < total; done += per) {
        acr_redis_batch_clear(b);
        for (int i = 0; i < per; i++) {
            char key[32];
            const char *argv[] = {"SET", key, "xxx"};
            size_t lens[] = {3, (size_t)snprintf(key, sizeof key, "key:%d", done + i), 3};
            acr_redis_add(b, 3, argv, lens);
        }
        int64_t t1 = acr_now();
        exec_ok(r, b);
        in_exec += acr_now() - t1;
    }
    double s = (double)(acr_now() - t0) / 1e9;
    printf("pipelined SET, batches of %d, one connection: %.0f commands/s (%.0f%% in exec)\n", per, total / s,
           100.0 * (double)in_exec / 1e9 / s);
    acr_redis_batch_free(b);
    acr_redis_close(r);
    return 0;
}

/* The server is started here, not in .init: Criterion runs no .fini for a skipped
 * test. */
Test(redis, bench_pipelined_set, .timeout = 120)
{
    if (!getenv("ACR_REDIS_BENCH"))
        cr_skip_test("ACR_REDIS_BENCH=1 to time pipelined SET");
    start_server();
    static const int sizes[] = {1, 100, 1000, 10000};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        cr_assert_eq(run_in_loop(bench_main, (void *)&sizes[i]), 0);
    stop_server();
}
