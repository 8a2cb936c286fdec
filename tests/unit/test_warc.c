/* test_warc.c -- archive/warc: captures fed through acr_warc_tap by hand (every kind
 * of hop the client can produce), written plain and gzipped, then read back here
 * record by record (each gzip member inflated alone) with every length and digest
 * recomputed; rotation, resume after a torn tail, a full disk; and, when node and
 * tests/warc/node_modules are there, the independent warcio.js checker on the same
 * files, accepting them and rejecting one with a corrupted digest. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "acrawl/error.h"
#include "archive/warc.h"
#include "util/alloc.h"

static char root[64];
static char keep[256];   /* ACR_WARC_OUT: files are copied there, for a look or a checker */

static void setup(void)
{
    snprintf(root, sizeof root, "/tmp/acrawl-warc-XXXXXX");
    cr_assert_not_null(mkdtemp(root));
    const char *out = getenv("ACR_WARC_OUT");
    snprintf(keep, sizeof keep, "%s", out ? out : "");
}

static void teardown(void)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s/mnt", root);
    umount2(cmd, MNT_DETACH);    /* a full-disk test that failed before its umount */
    if (keep[0]) {
        snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cp -r %s/. '%s/'", keep, root, keep);
        cr_assert_eq(system(cmd), 0);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(warc, .init = setup, .fini = teardown);

/* ---- Reading a WARC back ---- */

#define MAXF 24

struct rec {
    size_t nf;
    char *name[MAXF], *value[MAXF];
    char *block;
    size_t blen;
    size_t member_off;   /* gzip: where its member starts in the file */
};

struct warc {
    struct rec *v;
    size_t n, cap;
};

static const char *hget(const struct rec *r, const char *name)
{
    for (size_t i = 0; i < r->nf; i++)
        if (strcasecmp(r->name[i], name) == 0)
            return r->value[i];
    return NULL;
}

static size_t hcount(const struct rec *r, const char *name)
{
    size_t k = 0;
    for (size_t i = 0; i < r->nf; i++)
        k += strcasecmp(r->name[i], name) == 0;
    return k;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    cr_assert_eq(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

static const char *memfind(const char *p, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(p + i, needle, k) == 0)
            return p + i;
    return NULL;
}

/* One record at p; returns its length, block and trailer included. */
static size_t parse_rec(const char *p, size_t n, struct rec *r)
{
    const char *end = memfind(p, n, "\r\n\r\n");
    cr_assert_not_null(end, "record header without its blank line");
    cr_assert_eq(strncmp(p, "WARC/1.1\r\n", 10), 0, "record starts with %.12s", p);
    const char *line = p + 10;
    while (line < end + 2) {
        const char *eol = memfind(line, (size_t)(end + 2 - line), "\r\n");
        const char *colon = memchr(line, ':', (size_t)(eol - line));
        cr_assert_not_null(colon, "field without a colon: %.*s", (int)(eol - line), line);
        cr_assert_lt(r->nf, MAXF);
        r->name[r->nf] = strndup(line, (size_t)(colon - line));
        const char *v = colon + 1;
        while (*v == ' ')
            v++;
        r->value[r->nf] = strndup(v, (size_t)(eol - v));
        r->nf++;
        line = eol + 2;
    }
    const char *cl = hget(r, "Content-Length");
    cr_assert_not_null(cl);
    size_t blen = strtoull(cl, NULL, 10);
    const char *block = end + 4;
    cr_assert_leq(blen + 4, n - (size_t)(block - p), "Content-Length %zu beyond the data", blen);
    cr_assert_eq(memcmp(block + blen, "\r\n\r\n", 4), 0, "no CRLFCRLF after the block");
    r->block = malloc(blen + 1);
    memcpy(r->block, block, blen);
    r->block[blen] = 0;
    r->blen = blen;
    return (size_t)(block - p) + blen + 4;
}

static struct rec *add_rec(struct warc *w)
{
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 16;
        w->v = realloc(w->v, w->cap * sizeof *w->v);
    }
    memset(&w->v[w->n], 0, sizeof w->v[0]);
    return &w->v[w->n++];
}

/* Inflates the gzip member at p alone; returns the compressed bytes it took. */
static size_t inflate_member(const char *p, size_t n, char **out, size_t *outlen)
{
    z_stream z = {0};
    cr_assert_eq(inflateInit2(&z, 15 + 16), Z_OK);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    z.next_in = (Bytef *)p;
    z.avail_in = (uInt)n;
    int rc;
    do {
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
        z.next_out = (Bytef *)buf + len;
        z.avail_out = (uInt)(cap - len);
        rc = inflate(&z, Z_NO_FLUSH);
        cr_assert(rc == Z_OK || rc == Z_STREAM_END, "inflate: %d", rc);
        len = cap - z.avail_out;
    } while (rc != Z_STREAM_END);
    size_t used = z.total_in;
    inflateEnd(&z);
    *out = buf;
    *outlen = len;
    return used;
}

static void read_warc(const char *path, bool gzip, struct warc *w)
{
    size_t n;
    char *data = slurp(path, &n);
    size_t off = 0;
    while (off < n) {
        struct rec *r = add_rec(w);
        if (gzip) {
            char *m;
            size_t mlen;
            r->member_off = off;
            off += inflate_member(data + off, n - off, &m, &mlen);
            size_t used = parse_rec(m, mlen, r);
            cr_assert_eq(used, mlen, "%s: a gzip member holds %zu bytes beyond its one record", path, mlen - used);
            free(m);
        } else {
            off += parse_rec(data + off, n - off, r);
        }
    }
    free(data);
}

static void free_warc(struct warc *w)
{
    for (size_t i = 0; i < w->n; i++) {
        for (size_t j = 0; j < w->v[i].nf; j++) {
            free(w->v[i].name[j]);
            free(w->v[i].value[j]);
        }
        free(w->v[i].block);
    }
    free(w->v);
    memset(w, 0, sizeof *w);
}

static void sha1_b32(const void *p, size_t n, char *out)
{
    unsigned char md[20];
    cr_assert_eq(EVP_Digest(p, n, md, NULL, EVP_sha1(), NULL), 1);
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    int bits = 0, o = 0;
    unsigned acc = 0;
    memcpy(out, "sha1:", 5);
    o = 5;
    for (size_t i = 0; i < 20; i++) {
        acc = acc << 8 | md[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = a[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    out[o] = 0;
}

/* What every record must have, whatever its type. */
static void check_common(const struct rec *r)
{
    const char *type = hget(r, "WARC-Type");
    cr_assert_not_null(type);
    const char *id = hget(r, "WARC-Record-ID");
    cr_assert_not_null(id);
    cr_assert_eq(strlen(id), 47, "record id %s", id);
    cr_assert_eq(strncmp(id, "<urn:uuid:", 10), 0);
    cr_assert_eq(id[24], '4', "UUID version 4: %s", id);
    const char *date = hget(r, "WARC-Date");
    cr_assert_not_null(date);
    cr_assert_eq(strlen(date), 27, "date %s", date);
    cr_assert(date[4] == '-' && date[10] == 'T' && date[19] == '.' && date[26] == 'Z', "date %s", date);
    cr_assert_eq(hcount(r, "Content-Length"), 1);
    char want[40];
    sha1_b32(r->block, r->blen, want);
    cr_assert_str_eq(hget(r, "WARC-Block-Digest"), want, "%s block digest", type);
    cr_assert_not_null(hget(r, "Content-Type"));
}

static void check_payload(const struct rec *r, const char *payload, size_t len)
{
    char want[40];
    sha1_b32(payload, len, want);
    const char *got = hget(r, "WARC-Payload-Digest");
    cr_assert_not_null(got, "response without a payload digest");
    cr_assert_str_eq(got, want);
}

/* ---- Feeding captures ---- */

static const acr_tap *T = &acr_warc_tap;

/* A hop: request bytes, response bytes in two pieces, payload in two pieces. */
static void hop(acr_warc_capture *c, const char *url, const char *req, const char *resp, size_t resplen,
                const char *payload, size_t paylen, int error, const char *ip)
{
    T->begin(c, url);
    if (req)
        T->request(c, req, strlen(req));
    if (resp) {
        T->response(c, resp, resplen / 2);
        T->response(c, resp + resplen / 2, resplen - resplen / 2);
    }
    if (payload) {
        T->payload(c, payload, paylen / 3);
        T->payload(c, payload + paylen / 3, paylen - paylen / 3);
    }
    T->end(c, error, error ? acr_strerror(error) : NULL, ip, false);
}

#define S(s) s, sizeof(s) - 1
#define GET(path) "GET " path " HTTP/1.1\r\nHost: a.test\r\nUser-Agent: acrawl\r\n\r\n"
#define BIG (3u << 20)

static char *big_body(void)
{
    char *p = malloc(BIG);
    for (size_t i = 0; i < BIG; i++)
        p[i] = (char)("abcdefghij"[i % 10] ^ (i >> 12 & 7));
    return p;
}

static void write_one(acr_warc *w, acr_warc_capture *c)
{
    int rc = acr_warc_write(w, c);
    cr_assert_eq(rc, 0, "acr_warc_write: %s", acr_strerror(rc));
    acr_warc_capture_free(c);
}

/* Every kind of fetch, one capture each, in this order. */
static void write_scenario(acr_warc *w)
{
    acr_warc_capture *c = acr_warc_capture_new();
    hop(c, "http://a.test/len", GET("/len"), S("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"), S("hello"), 0,
        "127.0.0.1");
    write_one(w, c);

    c = acr_warc_capture_new();
    hop(c, "http://a.test/chunked", GET("/chunked"),
        S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"),
        S("hello world"), 0, "::1");
    write_one(w, c);

    /* 100 Continue, dropped by interim(), then the final response. */
    c = acr_warc_capture_new();
    T->begin(c, "http://a.test/post");
    T->request(c, S("POST /post HTTP/1.1\r\nHost: a.test\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"));
    T->response(c, S("HTTP/1.1 100 Continue\r\n\r\n"));
    T->interim(c);
    T->request(c, S("abc"));
    T->response(c, S("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    T->payload(c, S("ok"));
    T->end(c, 0, NULL, "127.0.0.1", false);
    write_one(w, c);

    /* Cut by the deadline in the middle of the body. */
    c = acr_warc_capture_new();
    hop(c, "http://a.test/slow", GET("/slow"), S("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart"), S("part"),
        ACR_ETIMEOUT, "127.0.0.1");
    write_one(w, c);

    /* A stale pooled connection: the first attempt vanishes. */
    c = acr_warc_capture_new();
    T->begin(c, "http://a.test/again");
    T->request(c, S(GET("/again-stale")));
    T->end(c, ACR_ERESET, "reset", "127.0.0.1", true);
    hop(c, "http://a.test/again", GET("/again"), S("HTTP/1.1 204 No Content\r\n\r\n"), "", 0, 0, "127.0.0.1");
    write_one(w, c);

    /* Refused: nothing on the wire. */
    c = acr_warc_capture_new();
    hop(c, "http://b.test/", NULL, NULL, 0, NULL, 0, ACR_EREFUSED, "");
    write_one(w, c);

    /* A redirect: two hops. */
    c = acr_warc_capture_new();
    hop(c, "http://a.test/old", GET("/old"), S("HTTP/1.1 301 Moved\r\nLocation: /new\r\nContent-Length: 0\r\n\r\n"), "",
        0, 0, "127.0.0.1");
    hop(c, "http://a.test/new", GET("/new"), S("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nnew"), S("new"), 0,
        "127.0.0.1");
    write_one(w, c);

    /* Cancelled before any hop. */
    c = acr_warc_capture_new();
    cr_assert_eq(acr_warc_capture_fail(c, "http://c.test/x y", ACR_ECANCELED, "cancelled", "cancelled\r\nby --first"), 0);
    write_one(w, c);

    /* A body far past the spool's memory. */
    char *body = big_body();
    const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 3145728\r\n\r\n";
    c = acr_warc_capture_new();
    T->begin(c, "http://a.test/big");
    T->request(c, S(GET("/big")));
    T->response(c, head, strlen(head));
    for (size_t off = 0; off < BIG; off += 65536) {
        T->response(c, body + off, 65536);
        T->payload(c, body + off, 65536);
    }
    T->end(c, 0, NULL, "127.0.0.1", false);
    write_one(w, c);
    free(body);
}

/* What write_scenario must read back as. */
struct want {
    const char *type, *uri, *payload;   /* payload: NULL for none expected */
    size_t paylen;
};

static const struct want scenario[] = {
    {"warcinfo", NULL, NULL, 0},
    {"request", "http://a.test/len", NULL, 0},
    {"response", "http://a.test/len", S("hello")},
    {"request", "http://a.test/chunked", NULL, 0},
    {"response", "http://a.test/chunked", S("hello world")},
    {"request", "http://a.test/post", NULL, 0},
    {"response", "http://a.test/post", S("ok")},
    {"request", "http://a.test/slow", NULL, 0},
    {"response", "http://a.test/slow", NULL, 0},
    {"metadata", "http://a.test/slow", NULL, 0},
    {"request", "http://a.test/again", NULL, 0},
    {"response", "http://a.test/again", "", 0},
    {"metadata", "http://b.test/", NULL, 0},
    {"request", "http://a.test/old", NULL, 0},
    {"response", "http://a.test/old", "", 0},
    {"request", "http://a.test/new", NULL, 0},
    {"response", "http://a.test/new", S("new")},
    {"metadata", "http://c.test/x%20y", NULL, 0},
    {"request", "http://a.test/big", NULL, 0},
    {"response", "http://a.test/big", NULL, 0},
};

static acr_warc *open_ok(const acr_warc_opts *o, const acr_warc_pos *resume)
{
    acr_warc *w = NULL;
    char err[256] = "";
    int rc = acr_warc_open(&w, o, resume, err, sizeof err);
    cr_assert_eq(rc, 0, "acr_warc_open: %s", err);
    return w;
}

static void close_ok(acr_warc *w)
{
    char err[256] = "";
    int rc = acr_warc_close(w, err, sizeof err);
    cr_assert_eq(rc, 0, "acr_warc_close: %s", err);
}

static void check_scenario(const struct warc *w)
{
    size_t nwant = sizeof scenario / sizeof scenario[0];
    cr_assert_eq(w->n, nwant, "%zu records, want %zu", w->n, nwant);
    for (size_t i = 0; i < nwant; i++) {
        const struct rec *r = &w->v[i];
        check_common(r);
        cr_assert_str_eq(hget(r, "WARC-Type"), scenario[i].type, "record %zu", i);
        if (scenario[i].uri)
            cr_assert_str_eq(hget(r, "WARC-Target-URI"), scenario[i].uri, "record %zu", i);
        if (scenario[i].payload)
            check_payload(r, scenario[i].payload, scenario[i].paylen);
    }
    /* warcinfo */
    const struct rec *info = &w->v[0];
    cr_assert_str_eq(hget(info, "Content-Type"), "application/warc-fields");
    cr_assert_not_null(hget(info, "WARC-Filename"));
    cr_assert_null(hget(info, "WARC-Target-URI"));
    cr_assert_not_null(strstr(info->block, "format: WARC File Format 1.1\r\n"));
    cr_assert_not_null(strstr(info->block, "conformsTo: http://iipc.github.io/warc-specifications/"));
    cr_assert_not_null(strstr(info->block, "software: acrawl/"));
    cr_assert_not_null(strstr(info->block, "acrawl-command-line: acrawl --warc 'out dir/x'\r\n"));
    /* request/response pairs */
    cr_assert_str_eq(hget(&w->v[1], "Content-Type"), "application/http;msgtype=request");
    cr_assert_str_eq(hget(&w->v[2], "Content-Type"), "application/http;msgtype=response");
    cr_assert_str_eq(hget(&w->v[2], "WARC-Concurrent-To"), hget(&w->v[1], "WARC-Record-ID"));
    cr_assert_str_eq(hget(&w->v[1], "WARC-IP-Address"), "127.0.0.1");
    cr_assert_str_eq(hget(&w->v[4], "WARC-IP-Address"), "::1");
    cr_assert_str_eq(hget(&w->v[1], "WARC-Date"), hget(&w->v[2], "WARC-Date"));
    cr_assert(strstr(w->v[4].block, "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"), "chunked bytes kept as received");
    /* 1xx dropped, request head and body kept */
    cr_assert_eq(strncmp(w->v[6].block, "HTTP/1.1 200 OK", 15), 0, "%s", w->v[6].block);
    cr_assert(strstr(w->v[5].block, "\r\n\r\nabc"));
    /* the timeout */
    cr_assert_str_eq(hget(&w->v[8], "WARC-Truncated"), "time");
    cr_assert_null(hget(&w->v[8], "WARC-Payload-Digest"));
    cr_assert_str_eq(w->v[8].block, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart");
    const struct rec *m = &w->v[9];
    cr_assert_str_eq(hget(m, "Content-Type"), "application/warc-fields");
    cr_assert_eq(hcount(m, "WARC-Concurrent-To"), 2);
    cr_assert_not_null(strstr(m->block, "error-kind: timeout\r\n"));
    cr_assert_not_null(strstr(m->block, "error-code: ETIMEOUT\r\n"));
    cr_assert_not_null(strstr(m->block, "error-message: deadline elapsed\r\n"));
    /* the stale attempt left nothing */
    cr_assert(strstr(w->v[10].block, "GET /again HTTP/1.1"), "%s", w->v[10].block);
    /* refused: only metadata, no IP, no Concurrent-To */
    cr_assert_null(hget(&w->v[12], "WARC-Concurrent-To"));
    cr_assert_null(hget(&w->v[12], "WARC-IP-Address"));
    cr_assert_not_null(strstr(w->v[12].block, "error-kind: refused\r\n"));
    /* cancelled: the message on one line */
    cr_assert_not_null(strstr(w->v[17].block, "error-message: cancelled\\x0d\\x0aby --first\r\n"), "%s",
                       w->v[17].block);
    /* the big one */
    char *body = big_body();
    check_payload(&w->v[19], body, BIG);
    cr_assert_eq(w->v[19].blen, strlen("HTTP/1.1 200 OK\r\nContent-Length: 3145728\r\n\r\n") + BIG);
    free(body);
}

static void scenario_in(const char *name, bool gzip_flag, bool gzip)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, name);
    acr_warc_opts o = {.path = path, .gzip = gzip_flag, .command_line = "acrawl --warc 'out dir/x'"};
    acr_warc *w = open_ok(&o, NULL);
    write_scenario(w);
    acr_warc_pos pos;
    acr_warc_pos_get(w, &pos);
    cr_assert_eq(pos.file, 0);
    close_ok(w);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq((uint64_t)st.st_size, pos.offset);
    struct warc got = {0};
    read_warc(path, gzip, &got);
    check_scenario(&got);
    cr_assert_str_eq(hget(&got.v[0], "WARC-Filename"), name);
    free_warc(&got);
}

Test(warc, plain_records_read_back)
{
    scenario_in("out.warc", false, false);
}

Test(warc, gzip_by_name_one_member_per_record)
{
    scenario_in("out.warc.gz", false, true);
}

Test(warc, gzip_by_flag)
{
    scenario_in("flagged.warc", true, true);
}

/* ---- Rotation ---- */

static void small_capture(acr_warc *w, unsigned i)
{
    char url[64], req[128], resp[128], body[32];
    snprintf(url, sizeof url, "http://a.test/%u", i);
    snprintf(req, sizeof req, "GET /%u HTTP/1.1\r\nHost: a.test\r\n\r\n", i);
    snprintf(body, sizeof body, "body %u", i);
    snprintf(resp, sizeof resp, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s", strlen(body), body);
    acr_warc_capture *c = acr_warc_capture_new();
    cr_assert_not_null(c);
    hop(c, url, req, resp, strlen(resp), body, strlen(body), 0, "10.0.0.1");
    write_one(w, c);
}

static void big_capture(acr_warc *w)
{
    char *body = big_body();
    const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 3145728\r\n\r\n";
    acr_warc_capture *c = acr_warc_capture_new();
    T->begin(c, "http://a.test/big");
    T->request(c, S(GET("/big")));
    T->response(c, head, strlen(head));
    T->response(c, body, BIG);
    T->payload(c, body, BIG);
    T->end(c, 0, NULL, "127.0.0.1", false);
    write_one(w, c);
    free(body);
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static uint64_t file_size(const char *path)
{
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "%s: %s", path, strerror(errno));
    return (uint64_t)st.st_size;
}

/* Reads rotation files root/stem-00001ext ... up to the first missing one; checks
 * each starts with its own warcinfo, holds whole records, and passes max only when
 * it holds a single record. Returns the files; *records the records besides warcinfo. */
static unsigned check_rotated(const char *stem, const char *ext, bool gzip, uint64_t max, size_t *records)
{
    unsigned files = 0;
    *records = 0;
    for (unsigned i = 1;; i++) {
        char path[512], name[128];
        snprintf(name, sizeof name, "%s-%05u%s", stem, i, ext);
        snprintf(path, sizeof path, "%s/%s", root, name);
        if (!exists(path))
            break;
        files++;
        struct warc got = {0};
        read_warc(path, gzip, &got);
        cr_assert_geq(got.n, 1);
        cr_assert_str_eq(hget(&got.v[0], "WARC-Type"), "warcinfo", "%s", name);
        cr_assert_str_eq(hget(&got.v[0], "WARC-Filename"), name);
        for (size_t k = 0; k < got.n; k++) {
            check_common(&got.v[k]);
            if (k > 0)
                cr_assert_str_neq(hget(&got.v[k], "WARC-Type"), "warcinfo");
        }
        if (file_size(path) > max)
            cr_assert_eq(got.n, 2, "%s: %ju bytes over %ju with %zu records", name, (uintmax_t)file_size(path),
                         (uintmax_t)max, got.n);
        *records += got.n - 1;
        free_warc(&got);
    }
    return files;
}

static void rotation(const char *name, const char *stem, const char *ext, bool gzip)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, name);
    uint64_t max = gzip ? 2500 : 4000;
    acr_warc_opts o = {.path = path, .max_size = max};
    acr_warc *w = open_ok(&o, NULL);
    for (unsigned i = 0; i < 20; i++)
        small_capture(w, i);
    big_capture(w);
    for (unsigned i = 20; i < 30; i++)
        small_capture(w, i);
    acr_warc_pos pos;
    acr_warc_pos_get(w, &pos);
    close_ok(w);
    cr_assert(!exists(path), "the unrotated name %s is not used", path);
    size_t records;
    unsigned files = check_rotated(stem, ext, gzip, max, &records);
    cr_assert_geq(files, 4, "%u files", files);
    cr_assert_eq(pos.file, files);
    cr_assert_eq(records, 30 * 2 + 2);
}

Test(warc, rotation_plain)
{
    rotation("out.warc", "out", ".warc", false);
}

Test(warc, rotation_gzip)
{
    rotation("out.warc.gz", "out", ".warc.gz", true);
}

Test(warc, rotation_names)
{
    static const char *const cases[][2] = {
        {"out", "out-00001"},       {"out.gz", "out-00001.gz"}, {"x.tar", "x-00001.tar"},
        {"d.d/out", "d.d/out-00001"}, {".hidden", ".hidden-00001"}, {"a.WARC.GZ", "a-00001.WARC.GZ"},
    };
    char dir[128];
    snprintf(dir, sizeof dir, "%s/d.d", root);
    cr_assert_eq(mkdir(dir, 0755), 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[512], want[512];
        snprintf(path, sizeof path, "%s/%s", root, cases[i][0]);
        snprintf(want, sizeof want, "%s/%s", root, cases[i][1]);
        acr_warc_opts o = {.path = path, .max_size = 100};
        acr_warc *w = open_ok(&o, NULL);
        small_capture(w, 1);
        close_ok(w);
        cr_assert(exists(want), "%s: no %s", cases[i][0], want);
    }
}

/* ---- Resume after a crash ---- */

static void append(const char *path, const char *junk)
{
    int fd = open(path, O_WRONLY | O_APPEND);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, junk, strlen(junk)), (ssize_t)strlen(junk));
    close(fd);
}

static void resume_plain_or_gzip(const char *name, bool gzip)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, name);
    acr_warc_opts o = {.path = path};
    acr_warc *w = open_ok(&o, NULL);
    small_capture(w, 1);
    small_capture(w, 2);
    acr_warc_pos pos;
    acr_warc_pos_get(w, &pos);
    cr_assert_eq(acr_warc_sync(w), 0);
    close_ok(w);
    append(path, "WARC/1.1\r\nWARC-Type: resp");    /* a record torn by the crash */
    w = open_ok(&o, &pos);
    cr_assert_eq(file_size(path), pos.offset, "torn tail cut");
    small_capture(w, 3);
    close_ok(w);
    struct warc got = {0};
    read_warc(path, gzip, &got);
    cr_assert_eq(got.n, 1 + 3 * 2, "one warcinfo and three exchanges: %zu records", got.n);
    for (size_t k = 0; k < got.n; k++)
        check_common(&got.v[k]);
    cr_assert_str_eq(hget(&got.v[6], "WARC-Target-URI"), "http://a.test/3");
    free_warc(&got);
}

Test(warc, resume_cuts_torn_tail_plain)
{
    resume_plain_or_gzip("r.warc", false);
}

Test(warc, resume_cuts_torn_tail_gzip)
{
    resume_plain_or_gzip("r.warc.gz", true);
}

Test(warc, resume_with_rotation_removes_later_files)
{
    char path[512];
    snprintf(path, sizeof path, "%s/r.warc.gz", root);
    acr_warc_opts o = {.path = path, .max_size = 2000, .gzip = true};
    acr_warc *w = open_ok(&o, NULL);
    acr_warc_pos pos = {0}, mid = {0};
    unsigned i = 0;
    while (pos.file < 2 || mid.file == 0) {
        small_capture(w, i++);
        acr_warc_pos_get(w, &pos);
        if (pos.file == 2 && mid.file == 0)
            mid = pos;    /* file 2 with its first exchange */
    }
    while (pos.file < 4) {
        small_capture(w, i++);
        acr_warc_pos_get(w, &pos);
    }
    close_ok(w);
    char f2[512], f3[512], f4[512];
    snprintf(f2, sizeof f2, "%s/r-00002.warc.gz", root);
    snprintf(f3, sizeof f3, "%s/r-00003.warc.gz", root);
    snprintf(f4, sizeof f4, "%s/r-00004.warc.gz", root);
    cr_assert(exists(f3) && exists(f4));
    append(f2, "\x1f\x8b\x08 torn");
    w = open_ok(&o, &mid);
    cr_assert(!exists(f3) && !exists(f4), "later rotation files removed");
    cr_assert_eq(file_size(f2), mid.offset);
    small_capture(w, 1000);
    close_ok(w);
    size_t records;
    unsigned files = check_rotated("r", ".warc.gz", true, 2000, &records);
    cr_assert_geq(files, 2);
}

Test(warc, resume_positions_that_cannot_be)
{
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/x.warc", root);
    acr_warc *w = NULL;
    acr_warc_opts plain = {.path = path}, rot = {.path = path, .max_size = 1000};
    acr_warc_pos p1 = {1, 0}, p0 = {0, 0}, past = {0, 1u << 20};
    cr_assert_eq(acr_warc_open(&w, &plain, &p1, err, sizeof err), -EINVAL);
    cr_assert_eq(acr_warc_open(&w, &rot, &p0, err, sizeof err), -EINVAL);
    cr_assert_eq(acr_warc_open(&w, &plain, &past, err, sizeof err), -EINVAL);
    cr_assert_not_null(strstr(err, "x.warc"), "%s", err);
    cr_assert_null(w);
    /* Resuming a file that had not a single record starts it afresh. */
    w = open_ok(&plain, &p0);
    close_ok(w);
    struct warc got = {0};
    read_warc(path, false, &got);
    cr_assert_eq(got.n, 1);
    free_warc(&got);
}

/* ---- Errors ---- */

Test(warc, open_on_a_full_device_names_it)
{
    if (!exists("/dev/full"))
        cr_skip_test("no /dev/full");
    acr_warc *w = NULL;
    char err[256] = "";
    acr_warc_opts o = {.path = "/dev/full"};
    int rc = acr_warc_open(&w, &o, NULL, err, sizeof err);
    cr_assert_eq(rc, -ENOSPC, "%d %s", rc, err);
    cr_assert_null(w);
    cr_assert_not_null(strstr(err, "/dev/full"), "%s", err);
}

/* A 64 KiB tmpfs (root only, where mount works): the writer fills it, reports
 * -ENOSPC with the file's name, stays failed, and leaves whole records. */
Test(warc, full_disk_is_sticky_and_leaves_whole_records)
{
    char mnt[128], path[256];
    snprintf(mnt, sizeof mnt, "%s/mnt", root);
    cr_assert_eq(mkdir(mnt, 0755), 0);
    if (geteuid() != 0 || mount("tmpfs", mnt, "tmpfs", 0, "size=64k") != 0)
        cr_skip_test("cannot mount a tmpfs here");
    snprintf(path, sizeof path, "%s/full.warc", mnt);
    acr_warc_opts o = {.path = path};
    acr_warc *w = open_ok(&o, NULL);
    int rc = 0;
    unsigned i;
    for (i = 0; i < 10000 && rc == 0; i++) {
        acr_warc_capture *c = acr_warc_capture_new();
        char body[2048];
        memset(body, 'x', sizeof body);
        T->begin(c, "http://a.test/fill");
        T->request(c, S(GET("/fill")));
        T->response(c, S("HTTP/1.1 200 OK\r\nContent-Length: 2048\r\n\r\n"));
        T->response(c, body, sizeof body);
        T->payload(c, body, sizeof body);
        T->end(c, 0, NULL, "10.0.0.1", false);
        rc = acr_warc_write(w, c);
        acr_warc_capture_free(c);
    }
    cr_assert_eq(rc, -ENOSPC, "after %u captures: %d", i, rc);
    acr_warc_capture *c = acr_warc_capture_new();
    cr_assert_eq(acr_warc_write(w, c), -ENOSPC, "sticky");
    acr_warc_capture_free(c);
    cr_assert_eq(acr_warc_sync(w), -ENOSPC);
    acr_warc_pos pos;
    acr_warc_pos_get(w, &pos);
    char err[256] = "";
    cr_assert_eq(acr_warc_close(w, err, sizeof err), -ENOSPC);
    cr_assert_not_null(strstr(err, "full.warc"), "%s", err);
    cr_assert_eq(file_size(path), pos.offset, "the cut record is cut off");
    struct warc got = {0};
    read_warc(path, false, &got);
    for (size_t k = 0; k < got.n; k++)
        check_common(&got.v[k]);
    free_warc(&got);
    cr_assert_eq(umount2(mnt, MNT_DETACH), 0, "%s", strerror(errno));
}

/* A capture that ran out of memory reports it at write, and only it fails. */
Test(warc, capture_oom_reported_at_write)
{
    char path[512];
    snprintf(path, sizeof path, "%s/o.warc", root);
    acr_warc_opts o = {.path = path};
    acr_warc *w = open_ok(&o, NULL);
    acr_warc_capture *c = acr_warc_capture_new();
    acr_alloc_fail_nth(1);
    T->begin(c, "http://a.test/oom");
    acr_alloc_fail_nth(0);
    T->request(c, S(GET("/oom")));
    T->end(c, 0, NULL, "", false);
    cr_assert_eq(acr_warc_write(w, c), -ENOMEM);
    acr_warc_capture_free(c);
    small_capture(w, 1);
    close_ok(w);
    struct warc got = {0};
    read_warc(path, false, &got);
    cr_assert_eq(got.n, 3);
    free_warc(&got);
}

/* Every allocation of open, a capture and a write fails in turn: an error or
 * success, never a leak or a crash (ASan watches). */
Test(warc, allocation_failures)
{
    char path[512];
    snprintf(path, sizeof path, "%s/a.warc.gz", root);
    acr_warc_opts o = {.path = path, .command_line = "acrawl x"};
    for (uint64_t n = 1; n < 200; n++) {
        acr_alloc_fail_nth(n);
        acr_warc *w = NULL;
        char err[256];
        int rc = acr_warc_open(&w, &o, NULL, err, sizeof err);
        if (rc < 0) {
            acr_alloc_fail_nth(0);
            cr_assert_eq(rc, -ENOMEM, "%s", err);
            continue;
        }
        acr_warc_capture *c = acr_warc_capture_new();
        if (c != NULL) {
            hop(c, "http://a.test/", GET("/"), S("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"), S("hi"),
                ACR_ERESET, "1.2.3.4");
            acr_warc_capture_fail(c, "http://a.test/", ACR_EREDIRLOOP, NULL, NULL);
            rc = acr_warc_write(w, c);
            cr_assert(rc == 0 || rc == -ENOMEM, "%d", rc);
            acr_warc_capture_free(c);
        }
        acr_alloc_fail_nth(0);
        acr_warc_close(w, err, sizeof err);
    }
}

/* A fetch that failed after its hops gets its own metadata record, unless its
 * last hop already said so. */
Test(warc, fail_after_hops)
{
    char path[512];
    snprintf(path, sizeof path, "%s/f.warc", root);
    acr_warc_opts o = {.path = path};
    acr_warc *w = open_ok(&o, NULL);
    acr_warc_capture *c = acr_warc_capture_new();
    hop(c, "http://a.test/loop", GET("/loop"), S("HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n"),
        "", 0, 0, "127.0.0.1");
    cr_assert_eq(acr_warc_capture_fail(c, "http://a.test/loop", ACR_EREDIRLOOP, "redirect-loop", "too many"), 0);
    write_one(w, c);
    c = acr_warc_capture_new();
    hop(c, "http://a.test/t", GET("/t"), NULL, 0, NULL, 0, ACR_ETIMEOUT, "127.0.0.1");
    cr_assert_eq(acr_warc_capture_fail(c, "http://a.test/t", ACR_ETIMEOUT, "timeout", "deadline elapsed"), 0);
    write_one(w, c);
    close_ok(w);
    struct warc got = {0};
    read_warc(path, false, &got);
    cr_assert_eq(got.n, 1 + 3 + 2, "%zu records", got.n);
    cr_assert_str_eq(hget(&got.v[3], "WARC-Type"), "metadata");
    cr_assert_not_null(strstr(got.v[3].block, "error-kind: redirect-loop\r\n"));
    cr_assert_eq(hcount(&got.v[3], "WARC-Concurrent-To"), 2);
    cr_assert_not_null(hget(&got.v[2], "WARC-Payload-Digest"), "a whole 302 keeps its payload digest");
    cr_assert_str_eq(hget(&got.v[5], "WARC-Type"), "metadata");
    cr_assert_eq(hcount(&got.v[5], "WARC-Concurrent-To"), 1, "the request only: nothing came back");
    free_warc(&got);
}

/* ---- The independent checker (tests/warc/check_warc.mjs, warcio.js) ---- */

#define CHECKER "tests/warc/check_warc.mjs"

/* Its exit status; quiet: its complaints (expected) not shown. */
static int run_checker(const char *files, bool quiet)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "node " CHECKER " %s >/dev/null%s", files, quiet ? " 2>&1" : "");
    int st = system(cmd);
    cr_assert(WIFEXITED(st), "%s", cmd);
    return WEXITSTATUS(st);
}

static void write_file(const char *path, const char *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    cr_assert_eq(fwrite(p, 1, n, f), n);
    fclose(f);
}

/* A copy of good under bad/ (same name: its WARC-Filename stays right) with the
 * first `from` replaced by `to` (same length). */
static void corrupt(const char *name, const char *from, const char *to)
{
    char src[512], dst[512];
    snprintf(src, sizeof src, "%s/good/%s", root, name);
    snprintf(dst, sizeof dst, "%s/bad/%s", root, name);
    size_t n;
    char *p = slurp(src, &n);
    char *at = (char *)memfind(p, n, from);
    cr_assert_not_null(at, "%s not in %s", from, name);
    memcpy(at, to, strlen(to));
    write_file(dst, p, n);
    free(p);
}

Test(warc, independent_checker_accepts_ours_and_rejects_corruption)
{
    if (system("command -v node >/dev/null 2>&1") != 0 || !exists("tests/warc/node_modules/warcio/package.json"))
        cr_skip_test("node or tests/warc/node_modules missing (scripts/deps.sh installs them)");
    char dir[256], path[512];
    snprintf(dir, sizeof dir, "%s/good", root);
    cr_assert_eq(mkdir(dir, 0755), 0);
    snprintf(dir, sizeof dir, "%s/bad", root);
    cr_assert_eq(mkdir(dir, 0755), 0);
    static const char *const names[] = {"out.warc", "out.warc.gz"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/good/%s", root, names[i]);
        acr_warc_opts o = {.path = path, .command_line = "acrawl --warc x"};
        acr_warc *w = open_ok(&o, NULL);
        write_scenario(w);
        close_ok(w);
    }
    snprintf(path, sizeof path, "%s/good/rot.warc.gz", root);
    acr_warc_opts o = {.path = path, .max_size = 2500};
    acr_warc *w = open_ok(&o, NULL);
    for (unsigned i = 0; i < 20; i++)
        small_capture(w, i);
    close_ok(w);

    char files[1024];
    snprintf(files, sizeof files, "%s/good/out.warc %s/good/out.warc.gz %s/good/rot-*.warc.gz", root, root, root);
    cr_assert_eq(run_checker(files, false), 0, "the checker rejects what we wrote");

    /* A body byte changed: the block digest no longer matches. */
    corrupt("out.warc", "\r\n\r\nhello", "\r\n\r\nhellO");
    snprintf(files, sizeof files, "%s/bad/out.warc", root);
    cr_assert_eq(run_checker(files, true), 1, "a corrupted block passed");
    /* A payload digest changed (block intact): caught by the payload recomputation. */
    corrupt("out.warc", "WARC-Payload-Digest: sha1:", "WARC-Payload-Digest: sha1:7");
    cr_assert_eq(run_checker(files, true), 1, "a corrupted payload digest passed");
    /* All records in a single gzip member. */
    size_t n;
    snprintf(path, sizeof path, "%s/good/out.warc", root);
    char *plain = slurp(path, &n);
    snprintf(path, sizeof path, "%s/bad/out.warc.gz", root);
    gzFile gz = gzopen(path, "wb");
    cr_assert_not_null(gz);
    cr_assert_eq(gzwrite(gz, plain, (unsigned)n), (int)n);
    gzclose(gz);
    free(plain);
    snprintf(files, sizeof files, "%s/bad/out.warc.gz", root);
    cr_assert_eq(run_checker(files, true), 1, "records sharing a gzip member passed");
}

/* A hop the tap never ended (a begin without end, then another begin; or a write
 * while one is open) is written as cancelled, its digests still right. */
Test(warc, unended_hops_are_cancelled)
{
    char path[512];
    snprintf(path, sizeof path, "%s/u.warc", root);
    acr_warc_opts o = {.path = path};
    acr_warc *w = open_ok(&o, NULL);
    acr_warc_capture *c = acr_warc_capture_new();
    T->begin(c, "http://a.test/1");
    T->request(c, S(GET("/1")));
    T->response(c, S("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\npar"));
    T->begin(c, "http://a.test/2");
    T->request(c, S(GET("/2")));
    write_one(w, c);
    close_ok(w);
    struct warc got = {0};
    read_warc(path, false, &got);
    cr_assert_eq(got.n, 1 + 3 + 2, "%zu records", got.n);
    for (size_t k = 0; k < got.n; k++)
        check_common(&got.v[k]);
    cr_assert_str_eq(hget(&got.v[2], "WARC-Truncated"), "unspecified");
    cr_assert_not_null(strstr(got.v[3].block, "error-kind: cancelled\r\n"));
    cr_assert_str_eq(hget(&got.v[4], "WARC-Target-URI"), "http://a.test/2");
    cr_assert_str_eq(hget(&got.v[5], "WARC-Type"), "metadata");
    free_warc(&got);
}
