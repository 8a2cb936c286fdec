/* test_state.c -- crawl/state: what goes in comes back after close, kill -9 (a real one
 * and a journal cut at every byte), damage, compaction and a crash in the middle of
 * one, a full disk and failed allocations. ACR_STATE_BENCH=1 also times 1 000 000 URLs. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crawl/state.h"
#include "helpers.h"
#include "util/alloc.h"
#include "util/fpset.h"

#define OPTS "depth=3\nlevel=2\nscope=host\n"

static char root[64], dir[96];
static char err[512];

static void mk_root(void)
{
    snprintf(root, sizeof root, "/tmp/acrawl-state-XXXXXX");
    cr_assert_not_null(mkdtemp(root));
    snprintf(dir, sizeof dir, "%s/st", root);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st, (void)flag, (void)f;
    return remove(p);
}

static void rm_root(void) { nftw(root, rm_one, 8, FTW_DEPTH | FTW_PHYS); }

TestSuite(state, .init = mk_root, .fini = rm_root);

/* ---- what a load hands back, as text that compares whole ---- */

struct rec {
    FILE *pf, *rf;
    char *pend, *rob;
    size_t lpend, lrob;
    uint64_t *seen;
    size_t nseen, cap;
};

static void on_seen(void *arg, uint64_t fp)
{
    struct rec *r = arg;
    if (r->nseen == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 1024;
        r->seen = realloc(r->seen, r->cap * sizeof *r->seen);
        cr_assert_not_null(r->seen);
    }
    r->seen[r->nseen++] = fp;
}

static void on_pending(void *arg, const acr_state_url *u)
{
    struct rec *r = arg;
    fprintf(r->pf, "%s|%s|%u|%u|%llu|%d\n", u->url, u->parent ? u->parent : "(none)", u->depth, u->via,
            (unsigned long long)u->line, u->sitemap);
}

static void on_robots(void *arg, const char *origin, int status, const char *body, size_t len)
{
    struct rec *r = arg;
    fprintf(r->rf, "%s %d %.*s\n", origin, status, (int)len, body);
}

static const acr_state_visit visit = {.seen = on_seen, .pending = on_pending, .robots = on_robots};

static void rec_init(struct rec *r)
{
    memset(r, 0, sizeof *r);
    r->pf = open_memstream(&r->pend, &r->lpend);
    r->rf = open_memstream(&r->rob, &r->lrob);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Robots lines sorted (their order is by file, not meaningful); seen sorted. */
static void rec_finish(struct rec *r)
{
    fclose(r->pf);
    fclose(r->rf);
    if (r->nseen)
        qsort(r->seen, r->nseen, sizeof *r->seen, cmp_u64);
    char *lines[4096];
    size_t n = 0;
    for (char *p = strtok(r->rob, "\n"); p && n < 4096; p = strtok(NULL, "\n"))
        lines[n++] = p;
    qsort(lines, n, sizeof *lines, cmp_str);
    char *sorted = calloc(1, r->lrob + 1);
    for (size_t i = 0; i < n; i++) {
        strcat(sorted, lines[i]);
        strcat(sorted, "\n");
    }
    free(r->rob);
    r->rob = sorted;
}

static void rec_free(struct rec *r)
{
    free(r->pend);
    free(r->rob);
    free(r->seen);
}

static void rec_eq(const struct rec *a, const struct rec *b)
{
    cr_assert_str_eq(a->pend, b->pend);
    cr_assert_str_eq(a->rob, b->rob);
    cr_assert_eq(a->nseen, b->nseen);
    for (size_t i = 0; i < a->nseen; i++)
        cr_assert_eq(a->seen[i], b->seen[i], "seen %zu differs", i);
}

static acr_state *open_ok(const char *d, const char *opts)
{
    acr_state *s;
    int rc = acr_state_open(&s, d, opts, err, sizeof err);
    cr_assert_eq(rc, 0, "open %s: %d %s", d, rc, err);
    return s;
}

static void load_ok(acr_state *s, struct rec *r, acr_state_pos *pos, acr_state_totals *tot)
{
    if (r)
        rec_init(r);
    int rc = acr_state_load(s, r ? &visit : NULL, r, pos, tot, err, sizeof err);
    cr_assert_eq(rc, 0, "load: %d %s", rc, err);
    if (r)
        rec_finish(r);
}

/* Opens d, loads it into r, closes. */
static void reload(const char *d, struct rec *r, acr_state_pos *pos, acr_state_totals *tot)
{
    acr_state *s = open_ok(d, OPTS);
    load_ok(s, r, pos, tot);
    cr_assert_eq(acr_state_close(s, err, sizeof err), 0, "%s", err);
}

static void commit_ok(acr_state *s)
{
    int rc = acr_state_commit(s, err, sizeof err);
    cr_assert_eq(rc, 0, "commit: %d %s", rc, err);
}

static void queue(acr_state *s, const char *url, const char *parent, unsigned depth, unsigned via, uint64_t line,
                  bool sitemap)
{
    acr_state_url u = {.url = url, .parent = parent, .depth = depth, .via = via, .line = line, .sitemap = sitemap};
    cr_assert_eq(acr_state_queued(s, &u), 0);
}

static void pos_eq(const acr_state_pos *a, const acr_state_pos *b)
{
    cr_assert_eq(a->records_dev, b->records_dev);
    cr_assert_eq(a->records_ino, b->records_ino);
    cr_assert_eq(a->records_off, b->records_off);
    cr_assert_eq(a->warc_file, b->warc_file);
    cr_assert_eq(a->warc_off, b->warc_off);
}

static uint64_t fp_of(const char *url) { return acr__hash64(url, strlen(url)); }

static char *path_in(const char *d, const char *name)
{
    static char p[4][512];
    static int i;
    i = (i + 1) % 4;
    snprintf(p[i], sizeof p[i], "%s/%s", d, name);
    return p[i];
}

static off_t file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? st.st_size : -1;
}

static char *slurp(const char *p, size_t *len)
{
    FILE *f = fopen(p, "rb");
    cr_assert_not_null(f, "%s", p);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc(*len + 1);
    cr_assert_eq(fread(b, 1, *len, f), *len);
    fclose(f);
    return b;
}

static void spit(const char *p, const void *b, size_t len)
{
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f, "%s", p);
    cr_assert_eq(fwrite(b, 1, len, f), len);
    fclose(f);
}

/* ---- round trip ---- */

Test(state, round_trip_gives_back_exactly_what_went_in)
{
    acr_state *s = open_ok(dir, OPTS);
    cr_assert_not(acr_state_resuming(s));
    struct stat st;
    cr_assert_eq(stat(dir, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0700);
    acr_state_pos pos = {1, 1, 1, 1, 1};
    acr_state_totals tot = {9, 9, 9, 9, 9};
    struct rec r;
    load_ok(s, &r, &pos, &tot);
    cr_assert_eq(r.nseen, 0);
    cr_assert_str_eq(r.pend, "");
    cr_assert_eq(pos.records_off + pos.warc_off + pos.warc_file + pos.records_dev + pos.records_ino, 0);
    cr_assert_eq(tot.runs + tot.pages + tot.errors + tot.bytes, 0);
    rec_free(&r);

    queue(s, "http://a.test/", NULL, 0, 0, 7, false);
    queue(s, "http://a.test/x", "http://a.test/", 1, 1, 0, false);
    queue(s, "http://a.test/sitemap.xml", "http://a.test/robots.txt", 0, 3, 0, true);
    queue(s, "http://b.test/r", "http://a.test/x", 2, 2, 0, false);
    cr_assert_eq(acr_state_robots(s, "http://a.test:80", 200, "Disallow: /old", 14), 0);
    cr_assert_eq(acr_state_robots(s, "http://b.test:80", 404, NULL, 0), 0);
    cr_assert_eq(acr_state_robots(s, "http://a.test:80", 200, "Disallow: /new", 14), 0);
    acr_state_pos p1 = {.records_dev = 2049, .records_ino = 77, .records_off = 1234, .warc_file = 3, .warc_off = 999};
    cr_assert_eq(acr_state_done(s, "http://a.test/x", true, 500, &p1), 0);
    commit_ok(s);
    cr_assert_eq(acr_state_close(s, err, sizeof err), 0, "%s", err);

    s = open_ok(dir, OPTS);
    cr_assert(acr_state_resuming(s));
    load_ok(s, &r, &pos, &tot);
    cr_assert_str_eq(r.pend, "http://a.test/|(none)|0|0|7|0\n"
                             "http://a.test/sitemap.xml|http://a.test/robots.txt|0|3|0|1\n"
                             "http://b.test/r|http://a.test/x|2|2|0|0\n");
    cr_assert_str_eq(r.rob, "http://a.test:80 200 Disallow: /new\nhttp://b.test:80 404 \n");
    cr_assert_eq(r.nseen, 4);
    uint64_t want[] = {fp_of("http://a.test/"), fp_of("http://a.test/x"), fp_of("http://a.test/sitemap.xml"),
                       fp_of("http://b.test/r")};
    qsort(want, 4, sizeof *want, cmp_u64);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(r.seen[i], want[i]);
    pos_eq(&pos, &p1);
    cr_assert_eq(tot.runs, 1);
    cr_assert_eq(tot.pages, 1);
    cr_assert_eq(tot.errors, 0);
    cr_assert_eq(tot.bytes, 500);
    rec_free(&r);
    cr_assert_eq(acr_state_close(s, err, sizeof err), 0, "%s", err);
}

Test(state, pending_keep_queue_order_whatever_order_pages_complete_in)
{
    acr_state *s = open_ok(dir, OPTS);
    load_ok(s, NULL, NULL, NULL);
    char url[64];
    for (int i = 0; i < 1000; i++) {
        snprintf(url, sizeof url, "http://o.test/%d", i);
        queue(s, url, NULL, 0, 0, (uint64_t)i + 1, false);
    }
    commit_ok(s);
    for (int k = 0; k < 500; k++) { /* the odd ones, in a scrambled order */
        int i = (int)((k * 337u) % 500u) * 2 + 1;
        snprintf(url, sizeof url, "http://o.test/%d", i);
        cr_assert_eq(acr_state_done(s, url, k % 3 != 0, 1, NULL), 0);
        if (k % 50 == 0)
            commit_ok(s);
    }
    cr_assert_eq(acr_state_close(s, err, sizeof err), 0);
    struct rec r;
    acr_state_totals tot;
    reload(dir, &r, NULL, &tot);
    char *want = NULL;
    size_t lw;
    FILE *f = open_memstream(&want, &lw);
    for (int i = 0; i < 1000; i += 2)
        fprintf(f, "http://o.test/%d|(none)|0|0|%d|0\n", i, i + 1);
    fclose(f);
    cr_assert_str_eq(r.pend, want);
    cr_assert_eq(r.nseen, 1000);
    cr_assert_eq(tot.pages, 500);
    cr_assert_eq(tot.errors, 167);
    free(want);
    rec_free(&r);
}

/* ---- torn and damaged journals ---- */

/* The entries after the first few: each committed alone; bounds[i]: the journal's size
 * once entry i is in (bounds[0]: before the first). */
#define NTAIL 6
static const char *tail_url[NTAIL] = {"http://t.test/5", "http://t.test/1", NULL, "http://t.test/6", "http://t.test/6", NULL};
static const char tail_op[NTAIL] = {'q', 'd', 'r', 'q', 'd', 'e'}; /* e: the END of close */

static void make_tail_state(size_t *bounds)
{
    acr_state *s = open_ok(dir, OPTS);
    load_ok(s, NULL, NULL, NULL);
    char url[64];
    for (int i = 0; i < 5; i++) {
        snprintf(url, sizeof url, "http://t.test/%d", i);
        queue(s, url, "http://t.test/", 1, 1, 0, false);
    }
    commit_ok(s);
    bounds[0] = (size_t)file_size(path_in(dir, "journal"));
    for (int i = 0; i < NTAIL - 1; i++) {
        if (tail_op[i] == 'q')
            queue(s, tail_url[i], "http://t.test/", 1, 1, 0, false);
        else if (tail_op[i] == 'd')
            cr_assert_eq(acr_state_done(s, tail_url[i], true, 10, &(acr_state_pos){.records_off = (uint64_t)i}), 0);
        else
            cr_assert_eq(acr_state_robots(s, "http://t.test:80", 200, "User-agent: *", 13), 0);
        commit_ok(s);
        bounds[i + 1] = (size_t)file_size(path_in(dir, "journal"));
    }
    cr_assert_eq(acr_state_close(s, err, sizeof err), 0);
    bounds[NTAIL] = (size_t)file_size(path_in(dir, "journal"));
}

/* What a load must give when the first `whole` tail entries survived. */
static void expect_tail(const struct rec *r, const acr_state_pos *pos, int whole)
{
    bool done1 = whole >= 2, q6 = whole >= 4, done6 = whole >= 5, rob = whole >= 3;
    char want[512] = "";
    for (int i = 0; i < 6; i++) {
        if ((i == 1 && done1) || (i == 5 && whole < 1))
            continue;
        char line[64];
        snprintf(line, sizeof line, "http://t.test/%d|http://t.test/|1|1|0|0\n", i);
        strcat(want, line);
    }
    if (q6 && !done6)
        strcat(want, "http://t.test/6|http://t.test/|1|1|0|0\n");
    cr_assert_str_eq(r->pend, want, "with %d whole entries", whole);
    cr_assert_str_eq(r->rob, rob ? "http://t.test:80 200 User-agent: *\n" : "", "with %d whole entries", whole);
    cr_assert_eq(r->nseen, 5 + (whole >= 1) + q6, "with %d whole entries", whole);
    cr_assert_eq(pos->records_off, done6 ? 4 : done1 ? 1 : 0, "with %d whole entries", whole);
}

Test(state, a_journal_cut_at_any_byte_of_its_tail_loads_every_whole_entry)
{
    size_t bounds[NTAIL + 1];
    make_tail_state(bounds);
    size_t len;
    char *j = slurp(path_in(dir, "journal"), &len);
    cr_assert_eq(len, bounds[NTAIL]);
    for (size_t cut = bounds[0]; cut <= len; cut++) {
        spit(path_in(dir, "journal"), j, cut);
        int whole = 0;
        while (whole < NTAIL && bounds[whole + 1] <= cut)
            whole++;
        struct rec r;
        acr_state_pos pos;
        acr_state *s = open_ok(dir, OPTS);
        load_ok(s, &r, &pos, NULL);
        cr_assert_eq((size_t)file_size(path_in(dir, "journal")), bounds[whole] + 17 /* this run's RUN */,
                     "cut at %zu: the torn part is cut off", cut);
        expect_tail(&r, &pos, whole);
        rec_free(&r);
        /* What is appended after the cut loads too. */
        queue(s, "http://t.test/after", NULL, 0, 0, 1, false);
        cr_assert_eq(acr_state_close(s, err, sizeof err), 0);
        reload(dir, &r, NULL, NULL);
        cr_assert(strstr(r.pend, "http://t.test/after|") != NULL, "cut at %zu", cut);
        rec_free(&r);
    }
    free(j);
}

Test(state, damage_in_the_middle_is_an_error_naming_where_damage_at_the_end_is_cut_off)
{
    size_t bounds[NTAIL + 1];
    make_tail_state(bounds);
    size_t len;
    char *j = slurp(path_in(dir, "journal"), &len);

    j[bounds[1] + 12] ^= 0x40; /* inside the done entry, with more after it */
    spit(path_in(dir, "journal"), j, len);
    acr_state *s = open_ok(dir, OPTS);
    int rc = acr_state_load(s, &(acr_state_visit){0}, NULL, NULL, NULL, err, sizeof err);
    cr_assert_eq(rc, -EBADMSG);
    char where[64];
    snprintf(where, sizeof where, "journal at byte %zu", bounds[1]);
    cr_assert(strstr(err, where) && strstr(err, dir), "%s", err);
    cr_assert_eq(acr_state_close(s, err, sizeof err), 0);
    cr_assert_eq((size_t)file_size(path_in(dir, "journal")), len, "a damaged journal is left as it is");

    j[bounds[1] + 12] ^= 0x40;
    j[len - 3] ^= 0x01; /* inside the last entry: a damaged tail */
    spit(path_in(dir, "journal"), j, len);
    struct rec r;
    acr_state_pos pos;
    reload(dir, &r, &pos, NULL);
    expect_tail(&r, &pos, NTAIL - 1);
    rec_free(&r);

    memset(j + bounds[4], 0, len - bounds[4]); /* zeros from a power cut */
    spit(path_in(dir, "journal"), j, len);
    reload(dir, &r, &pos, NULL);
    expect_tail(&r, &pos, 4);
    rec_free(&r);

    /* a power cut: the last 40 bytes zeroed (END and the done entry's end, its length
     * and checksum intact), then 4 KiB more zeros */
    char *k = malloc(bounds[NTAIL] + 4096);
    memcpy(k, j, bounds[NTAIL]);
    memset(k + bounds[NTAIL] - 40, 0, 40 + 4096);
    cr_assert_gt(bounds[NTAIL] - 40, bounds[4] + 8, "the zeros start after the done entry's header");
    spit(path_in(dir, "journal"), k, bounds[NTAIL] + 4096);
    free(k);
    reload(dir, &r, &pos, NULL);
    expect_tail(&r, &pos, 4);
    rec_free(&r);

    j[bounds[4]] = (char)0xff; /* an absurd length with more after it */
    j[bounds[4] + 3] = (char)0x7f;
    j[len - 1] = 1;
    spit(path_in(dir, "journal"), j, len);
    s = open_ok(dir, OPTS);
    cr_assert_eq(acr_state_load(s, NULL, NULL, NULL, NULL, err, sizeof err), -EBADMSG);
    acr_state_close(s, NULL, 0);
    free(j);
}

Test(state, a_journal_without_options_or_a_bad_header_is_damage)
{
    acr_state *s = open_ok(dir, OPTS);
    load_ok(s, NULL, NULL, NULL);
    acr_state_close(s, NULL, 0);
    cr_assert_eq(unlink(path_in(dir, "options")), 0);
    cr_assert_eq(acr_state_open(&s, dir, OPTS, err, sizeof err), -EBADMSG);
    cr_assert_null(s);
    cr_assert(strstr(err, "no options") && strstr(err, dir), "%s", err);

    spit(path_in(dir, "options"), OPTS, strlen(OPTS));
    spit(path_in(dir, "journal"), "ACRSJRN1\0\0\0", 11);
    s = open_ok(dir, OPTS);
    cr_assert_eq(acr_state_load(s, NULL, NULL, NULL, NULL, err, sizeof err), -EBADMSG);
    cr_assert(strstr(err, "journal"), "%s", err);
    acr_state_close(s, NULL, 0);

    /* options whose journal was removed: refused, not a crawl started afresh */
    cr_assert_eq(unlink(path_in(dir, "journal")), 0);
    s = open_ok(dir, OPTS);
    cr_assert_eq(acr_state_load(s, NULL, NULL, NULL, NULL, err, sizeof err), -EBADMSG);
    cr_assert(strstr(err, "neither a journal nor a snapshot"), "%s", err);
    acr_state_close(s, NULL, 0);
}

Test(state, a_first_run_stopped_between_its_journal_and_its_options_starts_afresh)
{
    acr_state *s = open_ok(dir, OPTS);
    load_ok(s, NULL, NULL, NULL);
    acr_state_close(s, NULL, 0);
    /* what a stop leaves between the two: a journal of its header only, no options */
    char *j = slurp(path_in(dir, "journal"), &(size_t){0});
    cr_assert_eq(unlink(path_in(dir, "options")), 0);
    spit(path_in(dir, "journal"), j, 24);
    free(j);
    s = open_ok(dir, OPTS);
    cr_assert_not(acr_state_resuming(s));
    load_ok(s, NULL, NULL, NULL);
    acr_state_close(s, NULL, 0);
}

/* ---- options and the lock ---- */

static void expect_mismatch(const char *opts, const char *says)
{
    acr_state *s;
    err[0] = 0;
    cr_assert_eq(acr_state_open(&s, dir, opts, err, sizeof err), -EINVAL);
    cr_assert(strstr(err, says) && strstr(err, dir) && strstr(err, "another --state directory"), "%s", err);
}

Test(state, other_options_are_refused_naming_the_first_difference)
{
    acr_state *s = open_ok(dir, "depth=3\nlevel=3\nscope=host\n");
    load_ok(s, NULL, NULL, NULL);
    acr_state_close(s, NULL, 0);
    expect_mismatch("depth=3\nlevel=5\nscope=host\n", "was made with --level=3; this command has --level=5");
    expect_mismatch("depth=3\nlevel=3\nscope=domain\n", "--scope=host; this command has --scope=domain");
    expect_mismatch("depth=3\nscope=host\n", "was made with --level=3; this command has no --level");
    expect_mismatch("depth=3\nlevel=3\nrobots=off\nscope=host\n", "was made without --robots; this command has --robots=off");
    expect_mismatch("depth=3\nlevel=3\nscope=host\nwait=1\n", "was made without --wait; this command has --wait=1");
    expect_mismatch("depth=3\nlevel=3\n", "was made with --scope=host; this command has no --scope");
    expect_mismatch("", "was made with --depth=3; this command has no --depth");
    s = open_ok(dir, "depth=3\nlevel=3\nscope=host\n");
    cr_assert(acr_state_resuming(s));
    acr_state_close(s, NULL, 0);
}

Test(state, a_second_acrawl_on_the_same_dir_is_refused)
{
    acr_state *a = open_ok(dir, OPTS), *b;
    cr_assert_eq(acr_state_open(&b, dir, OPTS, err, sizeof err), -EBUSY);
    cr_assert(strstr(err, "in use") && strstr(err, dir), "%s", err);
    pid_t pid = fork(); /* another process too */
    if (pid == 0)
        _exit(acr_state_open(&b, dir, OPTS, err, sizeof err) == -EBUSY ? 0 : 1);
    int st;
    waitpid(pid, &st, 0);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    acr_state_close(a, NULL, 0);
    b = open_ok(dir, OPTS);
    acr_state_close(b, NULL, 0);
}

Test(state, a_missing_parent_is_a_clear_error)
{
    acr_state *s;
    char d[160];
    snprintf(d, sizeof d, "%s/no/such", root);
    cr_assert_eq(acr_state_open(&s, d, OPTS, err, sizeof err), -ENOENT);
    cr_assert(strstr(err, d), "%s", err);
}

/* ---- compaction ---- */

/* A crawl-like stream: URLs queued with links between them, pages done a little
 * behind, some with errors, robots.txt of a few origins now and then. */
static void workload(acr_state *s, int from, int to)
{
    char url[80], parent[80], origin[40], body[40];
    for (int i = from; i < to; i++) {
        snprintf(url, sizeof url, "http://h%d.test/page/%d", i % 17, i);
        snprintf(parent, sizeof parent, "http://h%d.test/page/%d", (i / 3) % 17, i / 3);
        queue(s, url, i % 100 == 0 ? NULL : parent, (unsigned)(i % 5), i % 100 == 0 ? 0 : 1, i % 100 == 0 ? (uint64_t)i : 0,
              i % 250 == 0);
        if (i % 7 == 0) {
            snprintf(origin, sizeof origin, "http://h%d.test:80", i % 13);
            snprintf(body, sizeof body, "Disallow: /%d", i);
            cr_assert_eq(acr_state_robots(s, origin, i % 2 ? 200 : 503, body, strlen(body)), 0);
        }
        int d = i - 40;
        if (d >= 0 && d % 5 != 0) {
            snprintf(url, sizeof url, "http://h%d.test/page/%d", d % 17, d);
            cr_assert_eq(acr_state_done(s, url, d % 11 != 0, (uint64_t)d, &(acr_state_pos){.records_off = (uint64_t)d}), 0);
        }
        if (i % 10 == 9)
            commit_ok(s);
    }
}

static void run_workload(const char *d, uint64_t compact)
{
    for (int run = 0; run < 3; run++) {
        acr_state *s = open_ok(d, OPTS);
        acr_state_set_compact_bytes(s, compact);
        load_ok(s, NULL, NULL, NULL);
        workload(s, run * 2000, run * 2000 + 2000);
        cr_assert_eq(acr_state_close(s, err, sizeof err), 0, "%s", err);
    }
}

Test(state, compaction_changes_nothing_a_load_gives)
{
    char d2[160];
    snprintf(d2, sizeof d2, "%s/compacted", root);
    run_workload(dir, 0);
    run_workload(d2, 4000);
    cr_assert_eq(file_size(path_in(dir, "snapshot")), -1, "no compaction at the default threshold");
    cr_assert_gt(file_size(path_in(d2, "snapshot")), 0);
    cr_assert_lt(file_size(path_in(d2, "journal")), 4000 + 2000);

    struct rec a, b;
    acr_state_pos pa, pb;
    acr_state_totals ta, tb;
    reload(dir, &a, &pa, &ta);
    reload(d2, &b, &pb, &tb);
    rec_eq(&a, &b);
    pos_eq(&pa, &pb);
    cr_assert_eq(ta.runs, 3);
    cr_assert_eq(tb.runs, 3);
    cr_assert_eq(ta.pages, tb.pages);
    cr_assert_eq(ta.errors, tb.errors);
    cr_assert_eq(ta.bytes, tb.bytes);
    cr_assert_eq(a.nseen, 6000);
    cr_assert_eq(pa.records_off, 5959);
    /* The pending ones: every fifth of those done, and the last 40. */
    size_t lines = 0;
    for (const char *p = a.pend; *p; p++)
        lines += *p == '\n';
    cr_assert_eq(lines, 6000 / 5 + 32, "%zu pending", lines);
    rec_free(&a);
    rec_free(&b);
}

/* Copies every file of d to d2 (made if missing). */
static void copy_dir(const char *d, const char *d2, const char *except)
{
    mkdir(d2, 0700);
    static const char *names[] = {"options", "journal", "snapshot", "lock"};
    for (int i = 0; i < 4; i++) {
        if (except && strcmp(names[i], except) == 0)
            continue;
        if (file_size(path_in(d, names[i])) < 0)
            continue;
        size_t len;
        char *b = slurp(path_in(d, names[i]), &len);
        spit(path_in(d2, names[i]), b, len);
        free(b);
    }
}

Test(state, a_stop_anywhere_in_a_compaction_leaves_a_state_that_loads)
{
    run_workload(dir, 3000);
    struct rec want;
    reload(dir, &want, NULL, NULL);
    char d2[160];
    snprintf(d2, sizeof d2, "%s/copy", root);

    /* Stopped while writing snapshot.tmp or journal.tmp: they are leftovers. */
    copy_dir(dir, d2, NULL);
    spit(path_in(d2, "snapshot.tmp"), "ACRSSNP1 half a snapshot", 24);
    spit(path_in(d2, "journal.tmp"), "garbage", 7);
    struct rec r;
    reload(d2, &r, NULL, NULL);
    rec_eq(&want, &r);
    rec_free(&r);
    cr_assert_eq(file_size(path_in(d2, "snapshot.tmp")), -1);
    cr_assert_eq(file_size(path_in(d2, "journal.tmp")), -1);

    /* Stopped between the two renames: a new snapshot next to the journal it was made
     * from. Made here by compacting a copy at once, then putting the old journal back. */
    char d3[160];
    snprintf(d3, sizeof d3, "%s/copy3", root);
    copy_dir(dir, d3, NULL);
    size_t jlen;
    char *old_journal = slurp(path_in(dir, "journal"), &jlen);
    cr_assert_gt(jlen, 100, "the journal has entries the snapshot has not");
    acr_state *s = open_ok(d3, OPTS);
    acr_state_set_compact_bytes(s, 1);
    load_ok(s, NULL, NULL, NULL); /* its RUN entry's commit compacts */
    cr_assert_eq(file_size(path_in(d3, "journal")), 24);
    acr_state_close(s, NULL, 0);
    spit(path_in(d3, "journal"), old_journal, jlen);
    reload(d3, &r, NULL, NULL);
    rec_eq(&want, &r);
    rec_free(&r);
    cr_assert_lt(file_size(path_in(d3, "journal")), 200, "the stale journal was replaced");
    reload(d3, &r, NULL, NULL); /* and again, after it was replaced */
    rec_eq(&want, &r);
    rec_free(&r);

    /* No journal at all next to a snapshot: a stop before the first journal rename
     * is impossible, but the snapshot alone is whole. */
    char d4[160];
    snprintf(d4, sizeof d4, "%s/copy4", root);
    copy_dir(d3, d4, "journal");
    reload(d4, &r, NULL, NULL);
    rec_eq(&want, &r);
    rec_free(&r);

    /* A snapshot that is not whole is damage, not a reason to start afresh. */
    size_t slen;
    char *snap = slurp(path_in(d4, "snapshot"), &slen);
    spit(path_in(d4, "snapshot"), snap, slen - 10);
    s = open_ok(d4, OPTS);
    cr_assert_eq(acr_state_load(s, NULL, NULL, NULL, NULL, err, sizeof err), -EBADMSG);
    cr_assert(strstr(err, "snapshot"), "%s", err);
    acr_state_close(s, NULL, 0);
    free(snap);
    free(old_journal);
    rec_free(&want);
}

/* A child crawls (queues, completes, commits, compacts often) and tells the parent
 * after each commit how far it got; the parent kills it with SIGKILL at a random
 * moment, then checks that everything the child had committed is in the state, that
 * no page done comes back as pending, and that the crawl then goes on. */
static void crawl_child(int fd, int start)
{
    acr_state *s;
    if (acr_state_open(&s, dir, OPTS, err, sizeof err) != 0)
        _exit(2);
    acr_state_set_compact_bytes(s, 20000);
    if (acr_state_load(s, NULL, NULL, NULL, NULL, err, sizeof err) != 0)
        _exit(3);
    char url[64];
    for (int i = start;; i++) {
        snprintf(url, sizeof url, "http://k.test/%d", i);
        acr_state_queued(s, &(acr_state_url){.url = url, .via = 1, .parent = "http://k.test/"});
        if (i - 3 >= start && i % 4 != 0) {
            snprintf(url, sizeof url, "http://k.test/%d", i - 3);
            acr_state_done(s, url, true, 1, NULL);
        }
        if (acr_state_commit(s, err, sizeof err) != 0)
            _exit(4);
        if (write(fd, &i, sizeof i) != sizeof i)
            _exit(5);
    }
}

#define ROUNDS 25

/* Checks the state against what the children of rounds 0..n reported. */
static void check_rounds(const int *first, const int *last, int n)
{
    struct rec r;
    reload(dir, &r, NULL, NULL);
    acr__fpset seen, pend;
    acr__fpset_init(&seen);
    acr__fpset_init(&pend);
    for (size_t k = 0; k < r.nseen; k++)
        acr__fpset_add(&seen, r.seen[k]);
    for (char *line = strtok(r.pend, "\n"); line; line = strtok(NULL, "\n")) {
        *strchr(line, '|') = 0;
        cr_assert_eq(acr__fpset_add(&pend, fp_of(line)), 1, "%s pending twice", line);
    }
    char url[64];
    for (int round = 0; round <= n; round++) {
        for (int k = first[round]; k <= last[round]; k++) {
            snprintf(url, sizeof url, "http://k.test/%d", k);
            cr_assert(acr__fpset_has(&seen, fp_of(url)), "round %d: %s committed, not seen", round, url);
            if (k + 3 == last[round] + 1)
                continue; /* its done may be in the one commit not reported */
            bool done = k + 3 <= last[round] && (k + 3) % 4 != 0;
            cr_assert_eq(acr__fpset_has(&pend, fp_of(url)), !done, "round %d: %s (first %d last %d)", round, url,
                         first[round], last[round]);
        }
    }
    acr__fpset_release(&seen);
    acr__fpset_release(&pend);
    rec_free(&r);
}

Test(state, kill_9_at_random_moments_loses_nothing_committed)
{
    srand((unsigned)getpid());
    int first[ROUNDS], last[ROUNDS], start = 0;
    for (int round = 0; round < ROUNDS; round++) {
        int p[2];
        cr_assert_eq(pipe(p), 0);
        pid_t pid = fork();
        if (pid == 0) {
            close(p[0]);
            crawl_child(p[1], start);
        }
        close(p[1]);
        struct timespec ts = {0, (rand() % 20000 + 1000) * 1000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int st, i;
        first[round] = start;
        last[round] = start - 1;
        while (read(p[0], &i, sizeof i) == sizeof i)
            last[round] = i;
        close(p[0]);
        waitpid(pid, &st, 0);
        cr_assert(WIFSIGNALED(st), "the child ended by itself: %d", st);
        check_rounds(first, last, round);
        start = last[round] + 1000; /* past what it may have committed and not reported */
    }
}

/* ---- totals, a full disk, allocation failures ---- */

/* One run: 2 pages (1 an error, 300 bytes) after 20 ms; killed: no close. */
static void totals_run(int run, bool killed)
{
    acr_state *s = open_ok(dir, OPTS);
    acr_state_totals tot;
    load_ok(s, NULL, NULL, &tot);
    cr_assert_eq(tot.runs, (uint64_t)run);
    cr_assert_eq(tot.pages, (uint64_t)run * 2);
    cr_assert_eq(tot.errors, (uint64_t)run);
    cr_assert_eq(tot.bytes, (uint64_t)run * 300);
    cr_assert_geq(tot.elapsed_ns, (int64_t)run * 20 * 1000000, "%lld", (long long)tot.elapsed_ns);
    cr_assert_leq(tot.elapsed_ns, (int64_t)run * 2000 * 1000000);
    struct timespec ts = {0, 20 * 1000000};
    nanosleep(&ts, NULL);
    char url[32];
    snprintf(url, sizeof url, "http://x.test/%d", run);
    cr_assert_eq(acr_state_done(s, url, true, 100, NULL), 0);
    cr_assert_eq(acr_state_done(s, url, false, 200, NULL), 0);
    if (killed) {
        commit_ok(s);
        _exit(0);
    }
    cr_assert_eq(acr_state_close(s, err, sizeof err), 0);
}

Test(state, totals_add_up_over_runs_a_killed_one_among_them)
{
    totals_run(0, false);
    pid_t pid = fork();
    if (pid == 0)
        totals_run(1, true);
    int st;
    waitpid(pid, &st, 0);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    totals_run(2, false);
    acr_state *s = open_ok(dir, OPTS);
    acr_state_totals tot;
    load_ok(s, NULL, NULL, &tot);
    cr_assert_eq(tot.runs, 3);
    cr_assert_eq(tot.pages, 6);
    acr_state_close(s, NULL, 0);
}

static void on_sigxfsz(int sig) { (void)sig; }

Test(state, a_full_disk_fails_the_commit_and_loses_nothing)
{
    acr_state *s = open_ok(dir, OPTS);
    load_ok(s, NULL, NULL, NULL);
    queue(s, "http://f.test/1", NULL, 0, 0, 1, false);
    commit_ok(s);
    off_t before = file_size(path_in(dir, "journal"));
    /* A file-size limit stands in for the full disk: write(2) fails part way. */
    signal(SIGXFSZ, on_sigxfsz);
    struct rlimit rl;
    getrlimit(RLIMIT_FSIZE, &rl);
    struct rlimit small = {.rlim_cur = (rlim_t)before + 30, .rlim_max = rl.rlim_max};
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    queue(s, "http://f.test/2", NULL, 0, 0, 2, false);
    queue(s, "http://f.test/3", NULL, 0, 0, 3, false);
    int rc = acr_state_commit(s, err, sizeof err);
    cr_assert_eq(rc, -EFBIG, "%d %s", rc, err);
    cr_assert(strstr(err, dir), "%s", err);
    cr_assert_eq(file_size(path_in(dir, "journal")), before, "the part written was cut off");
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
    commit_ok(s); /* the entries were kept */
    cr_assert_eq(acr_state_close(s, err, sizeof err), 0);
    struct rec r;
    reload(dir, &r, NULL, NULL);
    cr_assert_str_eq(r.pend, "http://f.test/1|(none)|0|0|1|0\nhttp://f.test/2|(none)|0|0|2|0\n"
                             "http://f.test/3|(none)|0|0|3|0\n");
    rec_free(&r);
}

static void quiet_seen(void *arg, uint64_t fp) { (void)arg, (void)fp; }
static void quiet_pending(void *arg, const acr_state_url *u) { (void)arg, (void)u; }
static void quiet_robots(void *arg, const char *o, int st, const char *b, size_t n) { (void)arg, (void)o, (void)st, (void)b, (void)n; }
static const acr_state_visit quiet = {.seen = quiet_seen, .pending = quiet_pending, .robots = quiet_robots};

/* One go of open, load, some entries and a compaction or two, close: 0 or the first error. */
static int oom_once(const char *d)
{
    acr_state *s;
    int rc = acr_state_open(&s, d, OPTS, err, sizeof err);
    if (rc != 0)
        return rc;
    acr_state_set_compact_bytes(s, 2000);
    rc = acr_state_load(s, &quiet, NULL, NULL, NULL, err, sizeof err);
    char url[64];
    for (int i = 0; i < 60 && rc == 0; i++) {
        snprintf(url, sizeof url, "http://m.test/%d", i);
        rc = acr_state_queued(s, &(acr_state_url){.url = url});
        if (rc == 0 && i % 3 == 0)
            rc = acr_state_done(s, url, true, 1, NULL);
        if (rc == 0 && i % 20 == 0)
            rc = acr_state_robots(s, "http://m.test:80", 200, "x", 1);
        if (rc == 0 && i % 10 == 9)
            rc = acr_state_commit(s, err, sizeof err);
    }
    int rc2 = acr_state_close(s, err, sizeof err);
    return rc ? rc : rc2;
}

Test(state, failed_allocations_fail_cleanly_and_leave_a_state_that_loads)
{
    char d[160];
    snprintf(d, sizeof d, "%s/count", root);
    cr_assert_eq(oom_once(d), 0, "%s", err);
    uint64_t before = acr_alloc_count();
    cr_assert_eq(oom_once(d), 0, "%s", err); /* a second run: it loads a snapshot */
    uint64_t n = acr_alloc_count() - before;
    cr_assert_gt(n, 5);
    for (uint64_t k = 1; k <= n + 2; k++) {
        snprintf(d, sizeof d, "%s/oom%llu", root, (unsigned long long)k);
        cr_assert_eq(oom_once(d), 0, "%s", err);
        acr_alloc_fail_nth(k);
        int rc = oom_once(d);
        acr_alloc_fail_nth(0);
        cr_assert(rc == 0 || rc == -ENOMEM, "allocation %llu: %d %s", (unsigned long long)k, rc, err);
        struct rec r;
        reload(d, &r, NULL, NULL);
        cr_assert_geq(r.nseen, 60, "allocation %llu", (unsigned long long)k);
        rec_free(&r);
        nftw(d, rm_one, 8, FTW_DEPTH | FTW_PHYS);
    }
}

/* ---- speed (ACR_STATE_BENCH=1; figures printed, not asserted) ---- */

static double secs_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void on_count(void *arg, uint64_t fp) { (void)fp, ++*(size_t *)arg; }
static void on_count_pending(void *arg, const acr_state_url *u) { (void)u, ++((size_t *)arg)[1]; }
static void on_count_robots(void *arg, const char *o, int st, const char *b, size_t n) { (void)o, (void)st, (void)b, (void)n, ++((size_t *)arg)[2]; }

/* 1 000 000 URLs queued, all but 1 % done, a commit every `batch` pages; then a load. */
static void bench(const char *name, uint64_t compact, int batch)
{
    char d[160];
    snprintf(d, sizeof d, "%s/%s", root, name);
    enum { N = 1000000 };
    acr_state *s = open_ok(d, OPTS);
    acr_state_set_compact_bytes(s, compact);
    load_ok(s, NULL, NULL, NULL);
    char url[128], parent[128], origin[64];
    struct timespec t0;
    double worst = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < N; i++) { /* the strings alone, to subtract */
        snprintf(url, sizeof url, "https://host%d.example.com/section/%d/page-%d.html", i % 997, i % 31, i);
        snprintf(parent, sizeof parent, "https://host%d.example.com/section/%d/page-%d.html", (i / 10) % 997, (i / 10) % 31,
                 i / 10);
        snprintf(url, sizeof url, "https://host%d.example.com/section/%d/page-%d.html", i % 997, i % 31, i - 100);
    }
    double tfmt = secs_since(&t0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < N; i++) {
        snprintf(url, sizeof url, "https://host%d.example.com/section/%d/page-%d.html", i % 997, i % 31, i);
        snprintf(parent, sizeof parent, "https://host%d.example.com/section/%d/page-%d.html", (i / 10) % 997, (i / 10) % 31,
                 i / 10);
        queue(s, url, parent, 3, 1, 0, false);
        if (i < 997) {
            snprintf(origin, sizeof origin, "https://host%d.example.com:443", i);
            cr_assert_eq(acr_state_robots(s, origin, 200, "User-agent: *\nDisallow: /private\n", 34), 0);
        }
        int dn = i - 100;
        if (dn >= 0 && dn % 100 != 0) {
            snprintf(url, sizeof url, "https://host%d.example.com/section/%d/page-%d.html", dn % 997, dn % 31, dn);
            cr_assert_eq(acr_state_done(s, url, true, 20000, &(acr_state_pos){.records_off = (uint64_t)dn * 300}), 0);
        }
        if (i % batch == batch - 1) {
            struct timespec tc;
            clock_gettime(CLOCK_MONOTONIC, &tc);
            commit_ok(s);
            double dt = secs_since(&tc);
            worst = dt > worst ? dt : worst;
        }
    }
    cr_assert_eq(acr_state_close(s, err, sizeof err), 0);
    double tw = secs_since(&t0);
    off_t js = file_size(path_in(d, "journal")), ss = file_size(path_in(d, "snapshot"));

    size_t counts[3] = {0};
    static const acr_state_visit v = {.seen = on_count, .pending = on_count_pending, .robots = on_count_robots};
    s = open_ok(d, OPTS);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(acr_state_load(s, &v, counts, NULL, NULL, err, sizeof err), 0, "%s", err);
    double tl = secs_since(&t0);
    acr_state_close(s, NULL, 0);
    cr_assert_eq(counts[0], N);
    cr_assert_eq(counts[2], 997);
    fprintf(stderr,
            "state bench %-8s commit every %3d page(s): %.2f us/page (a queued and a done, compactions included), "
            "slowest commit %.3f s; journal %lld B, snapshot %lld B; load %.3f s (%zu seen, %zu pending, %zu robots)\n",
            name, batch, (tw - tfmt) * 1e6 / N, worst, (long long)js, (long long)ss, tl, counts[0], counts[1], counts[2]);
}

Test(state, bench_a_million_urls, .timeout = 600)
{
    if (!getenv("ACR_STATE_BENCH")) {
        rm_root(); /* a skipped test gets no .fini */
        cr_skip_test("set ACR_STATE_BENCH=1 to run");
    }
    bench("journal", UINT64_MAX / 2, 1);    /* no compaction: all of it replayed from the journal */
    bench("default", 0, 1);                 /* the default 64 MiB threshold */
    bench("batched", 0, 100);
}

Test(state, a_mark_moves_the_position_without_a_page_and_discard_forgets_the_buffer)
{
    acr_state *s = open_ok(dir, OPTS);
    load_ok(s, NULL, NULL, NULL);
    queue(s, "http://a.test/", NULL, 0, 0, 1, false);
    acr_state_pos p1 = {.records_off = 100, .warc_file = 1, .warc_off = 50};
    acr_state_pos p2 = {.records_off = 100, .warc_file = 2, .warc_off = 700};
    cr_assert_eq(acr_state_done(s, "http://a.test/", true, 10, &p1), 0);
    cr_assert_eq(acr_state_mark(s, &p2), 0);
    commit_ok(s);
    /* what a run that could not write its outputs had buffered is not journaled */
    queue(s, "http://a.test/lost", "http://a.test/", 1, 1, 0, false);
    acr_state_pos p3 = {.records_off = 900, .warc_file = 2, .warc_off = 900};
    cr_assert_eq(acr_state_done(s, "http://a.test/lost", true, 10, &p3), 0);
    acr_state_discard(s);
    cr_assert_eq(acr_state_close(s, err, sizeof err), 0, "%s", err);

    struct rec r;
    acr_state_pos pos;
    acr_state_totals tot;
    reload(dir, &r, &pos, &tot);
    pos_eq(&pos, &p2);
    cr_assert_eq(tot.pages, 1, "a mark is not a page");
    cr_assert_eq(r.nseen, 1);
    cr_assert_str_eq(r.pend, "");
    rec_free(&r);
}
