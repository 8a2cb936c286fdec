/* test_frontier.c -- crawl/frontier: origins served in turn, per-host caps, request
 * starts spaced by the wait, robots.txt first, drops, and the end of the crawl. */
#include <stdio.h>
#include <string.h>

#include "crawl/frontier.h"
#include "crawl/robots.h"
#include "helpers.h"

struct skips {
    int n;
    char last[128];
};

static void on_skip(void *arg, const acr_crawl_url *u, const char *reason)
{
    struct skips *s = arg;
    s->n++;
    snprintf(s->last, sizeof s->last, "%s %s", reason, u->url);
}

static acr_crawl_url *pop_now(acr_frontier *f)
{
    acr_crawl_url *u = NULL;
    int rc = acr_frontier_pop(f, acr_deadline_in(2 * ACR_MSEC), &u);
    return rc == 0 ? u : NULL;
}

static int per_host_and_end(void *arg)
{
    (void)arg;
    acr_frontier *f;
    acr_frontier_opts o = {.per_host = 2};
    cr_assert_eq(acr_frontier_new(&f, &o), 0);
    acr_frontier_push(f, "http://a.test/1", "http://a.test:80", 0, NULL, ACR_VIA_SEED, 1);
    acr_frontier_push(f, "http://a.test/2", "http://a.test:80", 1, "http://a.test/1", ACR_VIA_LINK, 0);
    acr_frontier_push(f, "http://a.test/3", "http://a.test:80", 1, "http://a.test/1", ACR_VIA_LINK, 0);
    acr_frontier_push(f, "http://b.test/1", "http://b.test:80", 0, NULL, ACR_VIA_SEED, 2);
    acr_crawl_url *got[4] = {0};
    for (int i = 0; i < 3; i++)
        got[i] = pop_now(f);
    for (int i = 0; i < 3; i++)
        cr_assert_not_null(got[i], "pop %d found nothing ready", i);
    cr_assert_null(pop_now(f), "a third request to a.test while two are in flight");
    acr_crawl_url *a1 = !strcmp(got[0]->url, "http://a.test/1") ? got[0] : got[1];
    cr_assert_str_eq(a1->url, "http://a.test/1");
    cr_assert_eq(a1->line, 1);
    acr_frontier_done(f, a1);
    got[3] = pop_now(f);
    cr_assert_not_null(got[3]);
    cr_assert_str_eq(got[3]->url, "http://a.test/3");
    cr_assert_str_eq(got[3]->parent, "http://a.test/1");
    acr_frontier_close_input(f);
    for (int i = 0; i < 4; i++) {
        if (got[i] != a1)
            acr_frontier_done(f, got[i]);
    }
    acr_crawl_url *u;
    cr_assert_eq(acr_frontier_pop(f, ACR_FOREVER, &u), ACR_EEMPTY);
    acr_frontier_free(f);
    return 0;
}

Test(frontier, per_host_caps_requests_in_flight_and_the_crawl_ends_when_nothing_is_left)
{
    run_in_loop(per_host_and_end, NULL);
}

static int waits(void *arg)
{
    (void)arg;
    acr_frontier *f;
    acr_frontier_opts o = {.per_host = 4, .wait = 50 * ACR_MSEC};
    cr_assert_eq(acr_frontier_new(&f, &o), 0);
    for (int i = 0; i < 4; i++) {
        char url[64];
        snprintf(url, sizeof url, "http://a.test/%d", i);
        acr_frontier_push(f, url, "http://a.test:80", 0, NULL, ACR_VIA_SEED, 0);
    }
    acr_frontier_push(f, "http://b.test/", "http://b.test:80", 0, NULL, ACR_VIA_SEED, 0);
    int64_t last = 0;
    int from_a = 0;
    for (int i = 0; i < 5; i++) {
        acr_crawl_url *u;
        cr_assert_eq(acr_frontier_pop(f, acr_deadline_in(ACR_SEC), &u), 0);
        int64_t now = acr_now();
        if (!strncmp(u->url, "http://a.test/", 14)) {
            if (from_a++ > 0)
                cr_assert_geq(now - last, 49 * ACR_MSEC, "a.test again after %lld ms", (long long)((now - last) / ACR_MSEC));
            last = now;
        }
        acr_frontier_done(f, u);
    }
    cr_assert_eq(from_a, 4);
    acr_frontier_free(f);
    return 0;
}

Test(frontier, requests_to_one_origin_are_a_wait_apart_while_others_go_on) { run_in_loop(waits, NULL); }

static int robots_first(void *arg)
{
    struct skips *sk = arg;
    acr_frontier *f;
    acr_frontier_opts o = {.per_host = 2, .robots = true, .skip = on_skip, .skip_arg = sk};
    cr_assert_eq(acr_frontier_new(&f, &o), 0);
    acr_frontier_push(f, "http://a.test/x", "http://a.test:80", 0, NULL, ACR_VIA_SEED, 1);
    acr_frontier_push(f, "http://a.test/y", "http://a.test:80", 1, NULL, ACR_VIA_LINK, 0);
    acr_crawl_url *r = pop_now(f);
    cr_assert_not_null(r);
    cr_assert(r->robots);
    cr_assert_str_eq(r->url, "http://a.test:80/robots.txt");
    cr_assert_null(pop_now(f), "a page went before its origin's robots.txt");
    acr_robots *rules;
    acr_robots_disallow_all(&rules);
    acr_frontier_set_robots(f, r->origin, rules, 0);
    acr_frontier_done(f, r);
    /* Both pages are disallowed: skipped with the reason, nothing to fetch. */
    acr_frontier_close_input(f);
    acr_crawl_url *u;
    cr_assert_eq(acr_frontier_pop(f, acr_deadline_in(ACR_SEC), &u), ACR_EEMPTY);
    cr_assert_eq(sk->n, 2);
    cr_assert_str_eq(sk->last, "robots http://a.test/y");
    acr_frontier_free(f);
    return 0;
}

Test(frontier, robots_txt_goes_first_and_disallowed_urls_are_skipped)
{
    struct skips sk = {0};
    run_in_loop(robots_first, &sk);
}

static int given_up(void *arg)
{
    struct skips *sk = arg;
    acr_frontier *f;
    acr_frontier_opts o = {.robots = true, .skip = on_skip, .skip_arg = sk};
    cr_assert_eq(acr_frontier_new(&f, &o), 0);
    acr_frontier_push(f, "http://a.test/x", "http://a.test:80", 0, NULL, ACR_VIA_SEED, 1);
    acr_crawl_url *r = pop_now(f);
    cr_assert(r && r->robots);
    cr_assert_eq(acr_frontier_robots_tries(r->origin), 1);
    acr_frontier_set_robots(f, r->origin, NULL, acr_now() + 10 * ACR_MSEC); /* 5xx: ask again */
    acr_frontier_done(f, r);
    cr_assert_null(pop_now(f), "robots.txt asked again before its time");
    acr_crawl_url *again;
    cr_assert_eq(acr_frontier_pop(f, acr_deadline_in(ACR_SEC), &again), 0);
    cr_assert(again->robots);
    cr_assert_eq(acr_frontier_robots_tries(again->origin), 2);
    acr_frontier_set_robots(f, again->origin, NULL, 0); /* given up */
    acr_frontier_done(f, again);
    cr_assert_str_eq(sk->last, "robots-unavailable http://a.test/x");
    acr_frontier_push(f, "http://a.test/z", "http://a.test:80", 1, NULL, ACR_VIA_LINK, 0);
    cr_assert_str_eq(sk->last, "robots-unavailable http://a.test/z");
    acr_frontier_free(f);
    return 0;
}

Test(frontier, an_unavailable_robots_txt_is_asked_again_then_its_urls_skipped)
{
    struct skips sk = {0};
    run_in_loop(given_up, &sk);
}

static int drops(void *arg)
{
    struct skips *sk = arg;
    acr_frontier *f;
    acr_frontier_opts o = {.per_host = 1, .skip = on_skip, .skip_arg = sk};
    cr_assert_eq(acr_frontier_new(&f, &o), 0);
    for (int i = 0; i < 10; i++) {
        char url[64];
        snprintf(url, sizeof url, "http://h%d.test/", i % 3);
        char origin[64];
        snprintf(origin, sizeof origin, "http://h%d.test:80", i % 3);
        acr_frontier_push(f, url, origin, 0, NULL, ACR_VIA_SEED, 0);
    }
    acr_crawl_url *busy = pop_now(f);
    acr_frontier_drop(f, "stopped");
    cr_assert_eq(sk->n, 9);
    acr_frontier_stats st;
    acr_frontier_stats_get(f, &st);
    cr_assert_eq(st.queued, 0);
    cr_assert_eq(st.queued_peak, 10);
    cr_assert_eq(st.origins, 3);
    acr_frontier_done(f, busy);
    acr_frontier_close_input(f);
    acr_crawl_url *u;
    cr_assert_eq(acr_frontier_pop(f, ACR_FOREVER, &u), ACR_EEMPTY);
    acr_frontier_free(f);
    return 0;
}

Test(frontier, drop_skips_every_queued_url_even_of_busy_origins)
{
    struct skips sk = {0};
    run_in_loop(drops, &sk);
}

static int spills(void *arg)
{
    struct skips *sk = arg;
    acr_frontier *f;
    acr_frontier_opts o = {.per_host = 1000, .mem_limit = 4096, .skip = on_skip, .skip_arg = sk};
    cr_assert_eq(acr_frontier_new(&f, &o), 0);
    enum { N = 600 };
    for (int i = 0; i < N; i++) {
        char url[64], origin[64], parent[64];
        snprintf(url, sizeof url, "http://h%d.test/page/%d", i % 3, i);
        snprintf(origin, sizeof origin, "http://h%d.test:80", i % 3);
        snprintf(parent, sizeof parent, "http://h%d.test/", i % 3);
        cr_assert_eq(acr_frontier_push(f, url, origin, 1 + (unsigned)i % 4, i % 2 ? parent : NULL, ACR_VIA_LINK,
                                       (uint64_t)i), 0);
    }
    acr_frontier_stats st;
    acr_frontier_stats_get(f, &st);
    cr_assert_gt(st.spilled, 0, "nothing went to the file");
    cr_assert_lt(st.mem_peak, 4096 + 512, "memory went past the limit: %zu", st.mem_peak);
    cr_assert_eq(st.queued, N);
    acr_frontier_close_input(f);
    int last[3] = {-1, -1, -1}, got = 0;
    acr_crawl_url *u;
    while (acr_frontier_pop(f, acr_deadline_in(ACR_SEC), &u) == 0) {
        int h, i;
        cr_assert_eq(sscanf(u->url, "http://h%d.test/page/%d", &h, &i), 2, "%s", u->url);
        cr_assert_gt(i, last[h], "h%d out of order: %d after %d", h, i, last[h]);
        cr_assert_eq(u->line, (uint64_t)i);
        cr_assert_eq(u->depth, 1 + (unsigned)i % 4);
        cr_assert_eq(u->parent != NULL, i % 2 == 1);
        last[h] = i;
        got++;
        acr_frontier_done(f, u);
    }
    cr_assert_eq(got, N);
    acr_frontier_free(f);
    return 0;
}

Test(frontier, past_the_memory_limit_urls_wait_in_a_file_and_come_back_in_order)
{
    struct skips sk = {0};
    run_in_loop(spills, &sk);
    cr_assert_eq(sk.n, 0);
}

static int drop_spilled(void *arg)
{
    struct skips *sk = arg;
    acr_frontier *f;
    acr_frontier_opts o = {.per_host = 1, .mem_limit = 2048, .skip = on_skip, .skip_arg = sk};
    cr_assert_eq(acr_frontier_new(&f, &o), 0);
    for (int i = 0; i < 300; i++) {
        char url[64];
        snprintf(url, sizeof url, "http://a.test/%d", i);
        acr_frontier_push(f, url, "http://a.test:80", 0, NULL, ACR_VIA_LINK, 0);
    }
    acr_frontier_drop(f, "stopped");
    acr_frontier_stats st;
    acr_frontier_stats_get(f, &st);
    cr_assert_eq(sk->n, 300);
    cr_assert_eq(st.queued, 0);
    acr_frontier_close_input(f);
    acr_crawl_url *u;
    cr_assert_eq(acr_frontier_pop(f, ACR_FOREVER, &u), ACR_EEMPTY);
    acr_frontier_free(f);
    return 0;
}

Test(frontier, a_drop_reaches_the_spilled_urls_too)
{
    struct skips sk = {0};
    run_in_loop(drop_spilled, &sk);
}

/* A request another worker made (a shared crawl's origin taken over): the next one
 * here keeps the wait from it, and so does a Crawl-delay learnt only later; an origin
 * without a delay to keep goes at once. */
static int elsewhere(void *arg)
{
    (void)arg;
    acr_frontier *f;
    acr_frontier_opts o = {.per_host = 4, .wait = 80 * ACR_MSEC, .robots = true, .max_crawl_delay = ACR_SEC};
    cr_assert_eq(acr_frontier_new(&f, &o), 0);
    int64_t t0 = acr_now();
    cr_assert_eq(acr_frontier_ended_elsewhere(f, "http://a.test:80", t0), 0);
    acr_frontier_push(f, "http://a.test/1", "http://a.test:80", 0, NULL, ACR_VIA_SEED, 0);
    acr_crawl_url *u;
    cr_assert_eq(acr_frontier_pop(f, acr_deadline_in(ACR_SEC), &u), 0);
    cr_assert(u->robots, "robots.txt is a request too");
    cr_assert_geq(acr_now() - t0, 79 * ACR_MSEC, "robots.txt %lld ms after the other worker's request",
                  (long long)((acr_now() - t0) / ACR_MSEC));
    /* another request ended elsewhere; then robots.txt says Crawl-delay 0.3 (as if
     * shared: no request here): the first page waits 0.3 s from that request */
    int64_t t1 = acr_now();
    cr_assert_eq(acr_frontier_ended_elsewhere(f, "http://a.test:80", t1), 0);
    acr_robots *rules = NULL;
    acr_robots_parse(&rules, "User-agent: *\nCrawl-delay: 0.3\n", 31, "acrawl");
    cr_assert_eq(acr_frontier_preset_robots(f, "http://a.test:80", rules), 0);
    acr_frontier_done(f, u);
    cr_assert_eq(acr_frontier_pop(f, acr_deadline_in(2 * ACR_SEC), &u), 0);
    cr_assert_str_eq(u->url, "http://a.test/1");
    cr_assert_geq(acr_now() - t1, 299 * ACR_MSEC, "a page %lld ms after the other worker's request",
                  (long long)((acr_now() - t1) / ACR_MSEC));
    acr_frontier_done(f, u);
    acr_frontier_free(f);
    return 0;
}

Test(frontier, a_request_made_elsewhere_keeps_the_delay) { run_in_loop(elsewhere, NULL); }

/* drop_if takes out exactly the URLs picked, from busy origins too, and the rest
 * stay queued in their order. */
static bool odd(void *arg, const acr_crawl_url *u)
{
    (void)arg;
    int i = 0;
    sscanf(strrchr(u->url, '/') + 1, "%d", &i);
    return i % 2 == 1;
}

static int drops_if(void *arg)
{
    struct skips *sk = arg;
    acr_frontier *f;
    acr_frontier_opts o = {.per_host = 1, .skip = on_skip, .skip_arg = sk};
    cr_assert_eq(acr_frontier_new(&f, &o), 0);
    for (int i = 0; i < 6; i++) {
        char url[64];
        snprintf(url, sizeof url, "http://a.test/%d", i);
        acr_frontier_push(f, url, "http://a.test:80", 0, NULL, ACR_VIA_SEED, 0);
    }
    acr_crawl_url *busy = pop_now(f); /* /0 in flight */
    cr_assert_not_null(busy);
    acr_frontier_drop_if(f, odd, NULL, "handed-over");
    cr_assert_eq(sk->n, 3);
    cr_assert_str_eq(sk->last, "handed-over http://a.test/5");
    acr_frontier_stats st;
    acr_frontier_stats_get(f, &st);
    cr_assert_eq(st.queued, 2);
    acr_frontier_done(f, busy);
    acr_frontier_close_input(f);
    const char *want[] = {"http://a.test/2", "http://a.test/4"};
    for (int i = 0; i < 2; i++) {
        acr_crawl_url *u;
        cr_assert_eq(acr_frontier_pop(f, acr_deadline_in(ACR_SEC), &u), 0);
        cr_assert_str_eq(u->url, want[i]);
        acr_frontier_done(f, u);
    }
    acr_crawl_url *u;
    cr_assert_eq(acr_frontier_pop(f, acr_deadline_in(ACR_SEC), &u), ACR_EEMPTY);
    acr_frontier_free(f);
    return 0;
}

Test(frontier, drop_if_takes_out_only_the_urls_picked)
{
    struct skips sk = {0};
    run_in_loop(drops_if, &sk);
}
