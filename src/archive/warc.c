/* warc.c -- the WARC 1.1 writer: captures of the wire through acr_tap, records built
 * with their digests known up front, one gzip member each, files that rotate and
 * that hold only whole records up to the last sync. */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <isa-l/igzip_lib.h>

#include "acrawl/error.h"
#include "archive/spool.h"
#include "archive/warc.h"
#include "util/alloc.h"
#include "util/fdio.h"
#include "util/buf.h"

#define SPOOL_MEM (1024 * 1024) /* per message kept in RAM before it spills */
#define OBUF_CAP (1024 * 1024)  /* output buffer: a record that fits goes in one write */
#define ZBUF_CAP (64 * 1024)    /* deflate output, moved to the member spool */
/* igzip's level 1: about three times zlib's level 1 speed here, and a size within 2 %
 * of it (bench/run_archive.sh); level 0 is faster still but 10 % larger. */
#define ZLEVEL 1
#define ZLEVEL_BUF ISAL_DEF_LVL1_DEFAULT
#define RBUF_CAP (256 * 1024)   /* reads of a spilled spool */
#define SHA1_LEN 20
#define ID_LEN 48               /* "<urn:uuid:" 36 ">" NUL, rounded */

#define CONFORMS_TO "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"

/* ---- The capture: what the tap saw ---- */

struct hop {
    char *url;
    struct timespec date;          /* at begin: the capture's WARC-Date */
    acr_spool req, resp;
    EVP_MD_CTX *req_md, *resp_md, *pay_md; /* until end, then the digests below */
    unsigned char req_sha[SHA1_LEN], resp_sha[SHA1_LEN], pay_sha[SHA1_LEN];
    int error;
    char *message;
    char ip[46];
    bool ended;
};

struct acr_warc_capture {
    struct hop *hops;
    size_t n, cap;
    bool open;                     /* hops[n - 1] is between begin and end */
    int err;                       /* first error of a callback (sticky) */
    char *fail_url, *fail_kind, *fail_msg;
    int fail_code;
    struct timespec fail_date;
    bool failed;
};

acr_warc_capture *acr_warc_capture_new(void)
{
    return acr_calloc(1, sizeof(acr_warc_capture));
}

static void hop_release(struct hop *h)
{
    free(h->url);
    free(h->message);
    acr_spool_release(&h->req);
    acr_spool_release(&h->resp);
    EVP_MD_CTX_free(h->req_md);
    EVP_MD_CTX_free(h->resp_md);
    EVP_MD_CTX_free(h->pay_md);
    memset(h, 0, sizeof *h);
}

void acr_warc_capture_free(acr_warc_capture *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++)
        hop_release(&c->hops[i]);
    free(c->hops);
    free(c->fail_url);
    free(c->fail_kind);
    free(c->fail_msg);
    free(c);
}

static void cap_error(acr_warc_capture *c, int rc)
{
    if (c->err == 0)
        c->err = rc;
}

static int md_start(EVP_MD_CTX **md)
{
    if (*md == NULL)
        *md = EVP_MD_CTX_new();
    if (*md == NULL)
        return -ENOMEM;
    return EVP_DigestInit_ex(*md, EVP_sha1(), NULL) == 1 ? 0 : -ENOMEM;
}

static void md_add(acr_warc_capture *c, EVP_MD_CTX *md, const char *p, size_t n)
{
    if (EVP_DigestUpdate(md, p, n) != 1)
        cap_error(c, -EIO);
}

static void md_done(acr_warc_capture *c, EVP_MD_CTX **md, unsigned char *out)
{
    if (*md != NULL && EVP_DigestFinal_ex(*md, out, NULL) != 1)
        cap_error(c, -EIO);
    EVP_MD_CTX_free(*md);
    *md = NULL;
}

static int hop_init(struct hop *h, const char *url)
{
    memset(h, 0, sizeof *h);
    acr_spool_init(&h->req, SPOOL_MEM);
    acr_spool_init(&h->resp, SPOOL_MEM);
    clock_gettime(CLOCK_REALTIME, &h->date);
    h->url = acr_strdup(url ? url : "");
    if (h->url == NULL)
        return -ENOMEM;
    if (md_start(&h->req_md) < 0 || md_start(&h->resp_md) < 0 || md_start(&h->pay_md) < 0)
        return -ENOMEM;
    return 0;
}

/* The hop the tap is filling, or NULL when the attempt could not be followed. */
static struct hop *cur(acr_warc_capture *c)
{
    return c->open ? &c->hops[c->n - 1] : NULL;
}

static void hop_end(acr_warc_capture *c, struct hop *h, int error, const char *message, const char *ip);

#define UNENDED "the attempt was cut off before its end"

static void tap_begin(void *arg, const char *url)
{
    acr_warc_capture *c = arg;
    if (c->open)
        hop_end(c, &c->hops[c->n - 1], ACR_ECANCELED, UNENDED, "");
    c->open = false;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4;
        struct hop *v = acr_realloc(c->hops, cap * sizeof *v);
        if (v == NULL) {
            cap_error(c, -ENOMEM);
            return;
        }
        c->hops = v;
        c->cap = cap;
    }
    struct hop *h = &c->hops[c->n];
    if (hop_init(h, url) < 0) {
        hop_release(h);
        cap_error(c, -ENOMEM);
        return;
    }
    c->n++;
    c->open = true;
}

static void tap_request(void *arg, const char *data, size_t len)
{
    acr_warc_capture *c = arg;
    struct hop *h = cur(c);
    if (h == NULL)
        return;
    int rc = acr_spool_add(&h->req, data, len);
    if (rc < 0)
        cap_error(c, rc);
    md_add(c, h->req_md, data, len);
}

static void tap_response(void *arg, const char *data, size_t len)
{
    acr_warc_capture *c = arg;
    struct hop *h = cur(c);
    if (h == NULL)
        return;
    int rc = acr_spool_add(&h->resp, data, len);
    if (rc < 0)
        cap_error(c, rc);
    md_add(c, h->resp_md, data, len);
}

/* The bytes so far were a 1xx response: the record keeps the final one only. */
static void tap_interim(void *arg)
{
    acr_warc_capture *c = arg;
    struct hop *h = cur(c);
    if (h == NULL)
        return;
    acr_spool_clear(&h->resp);
    if (md_start(&h->resp_md) < 0 || md_start(&h->pay_md) < 0)
        cap_error(c, -ENOMEM);
}

static void tap_payload(void *arg, const char *data, size_t len)
{
    acr_warc_capture *c = arg;
    struct hop *h = cur(c);
    if (h == NULL)
        return;
    md_add(c, h->pay_md, data, len);
}

static void hop_end(acr_warc_capture *c, struct hop *h, int error, const char *message, const char *ip)
{
    h->ended = true;
    h->error = error;
    if (error != 0) {
        h->message = acr_strdup(message && message[0] ? message : acr_strerror(error));
        if (h->message == NULL)
            cap_error(c, -ENOMEM);
    }
    /* No stdio here: this runs on a task's stack. */
    size_t n = ip ? strnlen(ip, sizeof h->ip - 1) : 0;
    memcpy(h->ip, ip ? ip : "", n);
    h->ip[n] = 0;
    md_done(c, &h->req_md, h->req_sha);
    md_done(c, &h->resp_md, h->resp_sha);
    md_done(c, &h->pay_md, h->pay_sha);
}

static void tap_end(void *arg, int error, const char *message, const char *ip, bool again)
{
    acr_warc_capture *c = arg;
    struct hop *h = cur(c);
    if (h == NULL)
        return;
    c->open = false;
    if (again) {
        hop_release(h);
        c->n--;
        return;
    }
    hop_end(c, h, error, message, ip);
}

const acr_tap acr_warc_tap = {
    .begin = tap_begin,
    .request = tap_request,
    .response = tap_response,
    .interim = tap_interim,
    .payload = tap_payload,
    .end = tap_end,
};

int acr_warc_capture_fail(acr_warc_capture *c, const char *url, int code, const char *kind, const char *message)
{
    free(c->fail_url);
    free(c->fail_kind);
    free(c->fail_msg);
    c->fail_url = acr_strdup(url ? url : "");
    c->fail_kind = kind ? acr_strdup(kind) : NULL;
    c->fail_msg = acr_strdup(message && message[0] ? message : acr_strerror(code));
    c->fail_code = code;
    clock_gettime(CLOCK_REALTIME, &c->fail_date);
    c->failed = c->fail_url != NULL && c->fail_msg != NULL && (kind == NULL || c->fail_kind != NULL);
    return c->failed ? 0 : -ENOMEM;
}

/* ---- Formatting ---- */

static const char hexdig[] = "0123456789abcdef";

/* RFC 4648 base32 of a SHA-1: 20 bytes make 32 characters, no padding. */
static void base32(const unsigned char *sha, char *out)
{
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    size_t o = 0;
    for (size_t i = 0; i < SHA1_LEN; i += 5) {
        uint64_t v = 0;
        for (size_t j = 0; j < 5; j++)
            v = v << 8 | sha[i + j];
        for (int k = 35; k >= 0; k -= 5)
            out[o++] = alpha[(v >> k) & 31];
    }
    out[o] = 0;
}

static void put_digest(acr_buf *b, const char *field, const unsigned char *sha)
{
    char s[40];
    base32(sha, s);
    acr_buf_puts(b, field);
    acr_buf_puts(b, ": sha1:");
    acr_buf_puts(b, s);
    acr_buf_puts(b, "\r\n");
}

/* A random (version 4) UUID as a record ID: "<urn:uuid:...>". */
static int new_id(char *out)
{
    unsigned char r[16];
    size_t got = 0;
    while (got < sizeof r) {
        ssize_t k = getrandom(r + got, sizeof r - got, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -errno;
        got += (size_t)k;
    }
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    char *p = out + sprintf(out, "<urn:uuid:");
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hexdig[r[i] >> 4];
        *p++ = hexdig[r[i] & 15];
    }
    strcpy(p, ">");
    return 0;
}

/* UTC with microseconds, as WARC 1.1 allows: 2026-11-22T04:05:06.123456Z. */
static void put_date(acr_buf *b, const struct timespec *ts)
{
    struct tm tm;
    char s[96];
    gmtime_r(&ts->tv_sec, &tm);
    snprintf(s, sizeof s, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, (long)(ts->tv_nsec / 1000));
    acr_buf_puts(b, s);
}

static void put_u64(acr_buf *b, uint64_t v)
{
    char s[24];
    acr_utoa(s, v);
    acr_buf_puts(b, s);
}

/* A field value on one line: control characters (CR and LF above all, which would
 * end the field) become \xHH. */
static void put_text(acr_buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch < 0x20 || ch == 0x7f) {
            char e[4] = {'\\', 'x', hexdig[ch >> 4], hexdig[ch & 15]};
            acr_buf_add(b, e, 4);
        } else {
            acr_buf_putc(b, (char)ch);
        }
    }
}

/* A URI without whitespace (WARC 1.1 §5.8): what RFC 3986 would escape anyway. */
static void put_uri(acr_buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch <= 0x20 || ch >= 0x7f) {
            char e[3] = {'%', "0123456789ABCDEF"[ch >> 4], "0123456789ABCDEF"[ch & 15]};
            acr_buf_add(b, e, 3);
        } else {
            acr_buf_putc(b, (char)ch);
        }
    }
}

static void put_field(acr_buf *b, const char *name, const char *value)
{
    acr_buf_puts(b, name);
    acr_buf_puts(b, ": ");
    put_text(b, value);
    acr_buf_puts(b, "\r\n");
}

/* The record kind of a code, as in ACR_ERRNO_MAP (app/kind.c says the same; the
 * archive layer does not reach up into app for it). */
static const char *kind_of(int code)
{
    switch (code) {
#define KIND_CASE(name, n, kind, msg) \
    case ACR_##name:                  \
        return kind;
        ACR_ERRNO_MAP(KIND_CASE)
#undef KIND_CASE
    }
    return code == 0 ? "ok" : "system";
}

/* WARC-Truncated for a response cut short by error, or NULL when the error leaves a
 * whole response (a redirect loop, a bad Location) or comes before any. */
static const char *truncated_reason(int code)
{
    switch (code) {
    case 0:
    case ACR_EREDIRLOOP:
    case ACR_EBADURL:
    case ACR_EDNS:
    case ACR_ECONNECT:
    case ACR_EREFUSED:
    case ACR_ETLSHANDSHAKE:
    case ACR_ETLSVERIFY:
        return NULL;
    case ACR_ETIMEOUT:
        return "time";
    case ACR_ETOOLARGE:
        return "length";
    case ACR_ERESET:
    case ACR_ECLOSED:
    case -ECONNRESET:
    case -EPIPE:
        return "disconnect";
    default:
        return "unspecified";
    }
}

/* ---- Record headers ---- */

struct head {
    const char *type;
    const char *id;
    const struct timespec *date;
    const char *uri;                  /* WARC-Target-URI or NULL */
    const char *ip;                   /* "" or NULL: none */
    const char *to[2];                /* WARC-Concurrent-To IDs, NULL: none */
    const char *filename;             /* warcinfo only */
    const char *ctype;
    const unsigned char *block_sha;
    const unsigned char *pay_sha;     /* NULL: no payload digest */
    const char *truncated;            /* NULL: not truncated */
    uint64_t len;
};

/* The header through its blank line; -ENOMEM on allocation failure. */
static int head_build(acr_buf *b, const struct head *h)
{
    b->len = 0;
    acr_buf_puts(b, "WARC/1.1\r\nWARC-Type: ");
    acr_buf_puts(b, h->type);
    acr_buf_puts(b, "\r\nWARC-Record-ID: ");
    acr_buf_puts(b, h->id);
    acr_buf_puts(b, "\r\nWARC-Date: ");
    put_date(b, h->date);
    acr_buf_puts(b, "\r\n");
    if (h->filename)
        put_field(b, "WARC-Filename", h->filename);
    if (h->uri) {
        acr_buf_puts(b, "WARC-Target-URI: ");
        put_uri(b, h->uri);
        acr_buf_puts(b, "\r\n");
    }
    if (h->ip && h->ip[0])
        put_field(b, "WARC-IP-Address", h->ip);
    for (size_t i = 0; i < 2; i++)
        if (h->to[i])
            put_field(b, "WARC-Concurrent-To", h->to[i]);
    put_field(b, "Content-Type", h->ctype);
    put_digest(b, "WARC-Block-Digest", h->block_sha);
    if (h->pay_sha)
        put_digest(b, "WARC-Payload-Digest", h->pay_sha);
    if (h->truncated)
        put_field(b, "WARC-Truncated", h->truncated);
    acr_buf_puts(b, "Content-Length: ");
    put_u64(b, h->len);
    acr_buf_puts(b, "\r\n\r\n");
    return b->oom ? -ENOMEM : 0;
}

/* ---- The writer ---- */

struct acr_warc {
    char *path;            /* as given */
    char *dir;             /* its folder, for the fsync that makes a new name durable */
    bool gzip;
    uint64_t max_size;
    char *software, *cmdline;
    char host[256];
    unsigned file;         /* rotation index of the open file */
    char *fname;           /* its name */
    int fd;
    uint64_t offset;       /* bytes of whole records in it */
    uint64_t rec_len;      /* bytes of the record being written, flushed so far */
    unsigned nrec;         /* records in it besides warcinfo */
    bool dir_dirty;        /* a file was created since the folder's last fsync */
    int err;               /* first error of the writer's life (sticky) */
    char msg[512];
    char *obuf;            /* output buffer, OBUF_CAP */
    size_t olen;
    char *zbuf;            /* deflate output, ZBUF_CAP */
    char *rbuf;            /* reads of spilled spools, RBUF_CAP */
    struct isal_zstream z; /* igzip (ISA-L): one gzip member per record */
    uint8_t *zlevel;       /* its level buffer, ZLEVEL_BUF */
    acr_spool member;      /* a gzip member, whole before its size decides rotation */
    acr_spool imember;     /* the warcinfo's, made while member waits for a new file */
    acr_spool *zdst;       /* where deflate output goes */
};

static int fail(acr_warc *w, int rc, const char *what)
{
    if (w->err == 0) {
        w->err = rc;
        snprintf(w->msg, sizeof w->msg, "%s: %s: %s", w->fname ? w->fname : w->path, what, strerror(-rc));
    }
    return w->err;
}

/* pwrite at the end of the record so far, whole. */
static int write_out(acr_warc *w, const char *p, size_t n)
{
    int rc = acr__pwrite_all(w->fd, p, n, w->offset + w->rec_len);
    if (rc == 0)
        w->rec_len += n;
    return rc;
}

static int out_flush(acr_warc *w)
{
    int rc = write_out(w, w->obuf, w->olen);
    w->olen = 0;
    return rc;
}

static int out_add(void *arg, const char *p, size_t n)
{
    acr_warc *w = arg;
    if (n > OBUF_CAP - w->olen) {
        int rc = out_flush(w);
        if (rc < 0)
            return rc;
        if (n >= OBUF_CAP)
            return write_out(w, p, n);
    }
    memcpy(w->obuf + w->olen, p, n);
    w->olen += n;
    return 0;
}

/* Deflates what z holds as input into the member spool: all of it, and with finish
 * the member's end too. */
static int z_run(acr_warc *w, bool finish)
{
    w->z.end_of_stream = finish;
    for (;;) {
        w->z.next_out = (uint8_t *)w->zbuf;
        w->z.avail_out = ZBUF_CAP;
        if (isal_deflate(&w->z) != COMP_OK)
            return -EIO;
        int rc = acr_spool_add(w->zdst, w->zbuf, ZBUF_CAP - w->z.avail_out);
        if (rc < 0)
            return rc;
        bool done = finish ? w->z.internal_state.state == ZSTATE_END : w->z.avail_in == 0;
        if (done && w->z.avail_out > 0)
            return 0;
    }
}

static int z_add(void *arg, const char *p, size_t n)
{
    acr_warc *w = arg;
    while (n > 0) {
        uint32_t k = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
        w->z.next_in = (uint8_t *)p;
        w->z.avail_in = k;
        int rc = z_run(w, false);
        if (rc < 0)
            return rc;
        p += k;
        n -= k;
    }
    return 0;
}

static void z_start(acr_warc *w)
{
    isal_deflate_init(&w->z);
    w->z.level = ZLEVEL;
    w->z.level_buf = w->zlevel;
    w->z.level_buf_size = ZLEVEL_BUF;
    w->z.gzip_flag = IGZIP_GZIP;
    w->z.flush = NO_FLUSH;
}

/* Where a record's block comes from: a spool or memory. */
struct block {
    const acr_spool *sp;
    const char *p;
    size_t len;
};

static uint64_t block_len(const struct block *b)
{
    return b->sp ? b->sp->size : b->len;
}

static int block_each(acr_warc *w, const struct block *b, acr_spool_fn *fn)
{
    if (b->sp)
        return acr_spool_each(b->sp, fn, w, w->rbuf, RBUF_CAP);
    return b->len ? fn(w, b->p, b->len) : 0;
}

static const char trailer[] = "\r\n\r\n";

/* The whole record as one gzip member into m, so its size is known before it goes
 * to the file. */
static int compress_member(acr_warc *w, acr_spool *m, const acr_buf *head, const struct block *b)
{
    acr_spool_clear(m);
    w->zdst = m;
    z_start(w);
    int rc = z_add(w, head->p, head->len);
    if (rc == 0)
        rc = block_each(w, b, z_add);
    if (rc < 0)
        return rc;
    w->z.next_in = (uint8_t *)trailer;
    w->z.avail_in = 4;
    return z_run(w, true);
}

static int emit(acr_warc *w, acr_spool *m, const acr_buf *head, const struct block *b)
{
    int rc;
    w->rec_len = 0;
    w->olen = 0;
    if (w->gzip) {
        rc = acr_spool_each(m, out_add, w, w->rbuf, RBUF_CAP);
    } else {
        rc = out_add(w, head->p, head->len);
        if (rc == 0)
            rc = block_each(w, b, out_add);
        if (rc == 0)
            rc = out_add(w, trailer, 4);
    }
    if (rc == 0)
        rc = out_flush(w);
    return rc;
}

static int rotate(acr_warc *w);

/* Writes one record whole, or cuts what went out of it off the file again. */
static int record(acr_warc *w, const acr_buf *head, const struct block *b, bool info)
{
    if (w->err)
        return w->err;
    acr_spool *m = info ? &w->imember : &w->member;
    uint64_t size = head->len + block_len(b) + 4;
    if (w->gzip) {
        int rc = compress_member(w, m, head, b);
        if (rc < 0)
            return fail(w, rc, "compressing a record through a temporary file");
        size = m->size;
    }
    if (!info && w->max_size && w->nrec > 0 && w->offset + size > w->max_size) {
        int rc = rotate(w);
        if (rc < 0)
            return rc;
    }
    int rc = emit(w, m, head, b);
    if (rc == 0 && w->rec_len != size)
        rc = -EIO;
    if (rc < 0) {
        /* Best effort: the file stays whole records even without a resume. */
        int ignored = ftruncate(w->fd, (off_t)w->offset);
        (void)ignored;
        return fail(w, rc, "write");
    }
    w->offset += size;
    if (!info)
        w->nrec++;
    return 0;
}

static int sha1(const char *p, size_t n, unsigned char *out)
{
    return EVP_Digest(p, n, out, NULL, EVP_sha1(), NULL) == 1 ? 0 : -EIO;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static int write_info(acr_warc *w)
{
    acr_buf body = {0}, head = {0};
    put_field(&body, "software", w->software);
    put_field(&body, "format", "WARC File Format 1.1");
    put_field(&body, "conformsTo", CONFORMS_TO);
    if (w->host[0])
        put_field(&body, "hostname", w->host);
    if (w->cmdline)
        put_field(&body, "acrawl-command-line", w->cmdline);
    unsigned char sha[SHA1_LEN];
    char id[ID_LEN];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int rc = body.oom ? -ENOMEM : sha1(body.p, body.len, sha);
    if (rc == 0)
        rc = new_id(id);
    if (rc == 0) {
        struct head h = {.type = "warcinfo", .id = id, .date = &now, .filename = base_name(w->fname),
                         .ctype = "application/warc-fields", .block_sha = sha, .len = body.len};
        rc = head_build(&head, &h);
    }
    if (rc < 0) {
        fail(w, rc, "warcinfo");
    } else {
        struct block b = {.p = body.p, .len = body.len};
        rc = record(w, &head, &b, true);
    }
    acr_buf_release(&body);
    acr_buf_release(&head);
    return rc;
}

/* The name of rotation file idx (0: the path itself): "-%05u" before ".warc.gz",
 * ".warc" or ".gz", else before the base name's last extension, else at the end. */
static char *file_name(const char *path, unsigned idx)
{
    if (idx == 0)
        return acr_strdup(path);
    static const char *const known[] = {".warc.gz", ".warc", ".gz"};
    const char *base = base_name(path);
    size_t n = strlen(path), blen = strlen(base), at = n;
    bool found = false;
    for (size_t i = 0; i < sizeof known / sizeof known[0] && !found; i++) {
        size_t k = strlen(known[i]);
        if (blen > k && strcasecmp(path + n - k, known[i]) == 0) {
            at = n - k;
            found = true;
        }
    }
    const char *dot = strrchr(base, '.');
    if (!found && dot != NULL && dot > base)
        at = (size_t)(dot - path);
    size_t cap = n + 16;
    char *s = acr_malloc(cap);
    if (s != NULL)
        snprintf(s, cap, "%.*s-%05u%s", (int)at, path, idx, path + at);
    return s;
}

/* Opens rotation file idx: afresh (truncated), or to resume at offset. A file
 * without records gets its warcinfo. */
static int open_file(acr_warc *w, unsigned idx, uint64_t offset, bool resume)
{
    free(w->fname);
    w->fname = file_name(w->path, w->max_size ? idx : 0);
    if (w->fname == NULL)
        return fail(w, -ENOMEM, "file name");
    int fd = open(w->fname, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return fail(w, -errno, "open");
    /* Locked before it is cut: a second acrawl on the same file is refused and does
     * not truncate the first one's archive. */
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno == EWOULDBLOCK ? EBUSY : errno;
        close(fd);
        return fail(w, -e, e == EBUSY ? "lock: another process is writing it" : "lock");
    }
    struct stat fst;
    if (!resume && fstat(fd, &fst) == 0 && S_ISREG(fst.st_mode) && ftruncate(fd, 0) != 0) {
        int e = errno;
        close(fd);
        return fail(w, -e, "truncate");
    }
    w->fd = fd;
    w->file = idx;
    w->offset = offset;
    w->nrec = offset > 0;
    w->dir_dirty = true;
    if (resume) {
        struct stat st;
        if (fstat(fd, &st) < 0)
            return fail(w, -errno, "fstat");
        if ((uint64_t)st.st_size < offset)
            return fail(w, -EINVAL, "shorter than the position to resume from");
        if (ftruncate(fd, (off_t)offset) < 0)
            return fail(w, -errno, "truncate to the position to resume from");
    }
    return offset == 0 ? write_info(w) : 0;
}

/* For the crash tests (tests/cli/state.bats): ACRAWL_TEST_KILL_IN_ROTATION=N kills
 * the process with SIGKILL in its Nth rotation, the new file created with a torn
 * warcinfo in it: the worst moment for a resume to find. */
static void crash_test(acr_warc *w)
{
    static unsigned rotations;
    const char *at = getenv("ACRAWL_TEST_KILL_IN_ROTATION");
    if (!at || strtoul(at, NULL, 10) != ++rotations)
        return;
    char *name = file_name(w->path, w->file + 1);
    int fd = name ? open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
    ssize_t torn = fd >= 0 ? write(fd, "WARC/1.1\r\nWARC-Type: warc", 25) : 0;
    (void)torn; /* killed all the same */
    kill(getpid(), SIGKILL);
}

/* Leaves a full file for the next one. The old file is made durable first: the
 * position moves past it, and acr_warc_sync syncs only the current file. */
static int rotate(acr_warc *w)
{
    if (fsync(w->fd) < 0)
        return fail(w, -errno, "fsync");
    int fd = w->fd;
    w->fd = -1;
    if (close(fd) < 0)
        return fail(w, -errno, "close");
    crash_test(w);
    return open_file(w, w->file + 1, 0, false);
}

/* Removes the rotation files after idx that an earlier run left, up to the first
 * that is not there. */
static int remove_after(acr_warc *w, unsigned idx)
{
    for (unsigned i = idx + 1; i != 0; i++) {
        char *name = file_name(w->path, i);
        if (name == NULL)
            return fail(w, -ENOMEM, "file name");
        int rc = unlink(name) < 0 ? -errno : 0;
        if (rc < 0 && rc != -ENOENT) {
            snprintf(w->msg, sizeof w->msg, "%s: remove: %s", name, strerror(-rc));
            w->err = rc;
        }
        free(name);
        if (rc < 0)
            return rc == -ENOENT ? 0 : rc;
    }
    return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

static void writer_free(acr_warc *w)
{
    if (w->fd >= 0)
        close(w->fd);
    free(w->zlevel);
    acr_spool_release(&w->member);
    acr_spool_release(&w->imember);
    free(w->path);
    free(w->dir);
    free(w->software);
    free(w->cmdline);
    free(w->fname);
    free(w->obuf);
    free(w->zbuf);
    free(w->rbuf);
    free(w);
}

static int writer_init(acr_warc *w, const acr_warc_opts *o)
{
    w->gzip = o->gzip || ends_with(o->path, ".gz");
    w->max_size = o->max_size;
    w->path = acr_strdup(o->path);
    const char *base = base_name(o->path);
    w->dir = base == o->path ? acr_strdup(".") : acr_strndup(o->path, (size_t)(base - o->path));
    w->software = acr_strdup(o->software ? o->software : "acrawl/" ACRAWL_VERSION);
    w->cmdline = o->command_line ? acr_strdup(o->command_line) : NULL;
    w->obuf = acr_malloc(OBUF_CAP);
    w->zbuf = acr_malloc(ZBUF_CAP);
    w->rbuf = acr_malloc(RBUF_CAP);
    w->zlevel = w->gzip ? acr_malloc(ZLEVEL_BUF) : NULL;
    if (!w->path || !w->dir || !w->software || (o->command_line && !w->cmdline) || !w->obuf || !w->zbuf ||
        !w->rbuf || (w->gzip && !w->zlevel))
        return fail(w, -ENOMEM, "out of memory");
    if (gethostname(w->host, sizeof w->host - 1) < 0)
        w->host[0] = 0;
    return 0;
}

static int check_resume(const acr_warc_opts *o, const acr_warc_pos *resume, char *err, size_t errlen)
{
    if (o == NULL || o->path == NULL || o->path[0] == 0) {
        snprintf(err, errlen, "warc: no file name");
        return -EINVAL;
    }
    if (resume && (o->max_size ? resume->file == 0 : resume->file != 0)) {
        snprintf(err, errlen, "%s: cannot resume at file %u %s rotation", o->path, resume->file,
                 o->max_size ? "with" : "without");
        return -EINVAL;
    }
    return 0;
}

int acr_warc_open(acr_warc **out, const acr_warc_opts *o, const acr_warc_pos *resume, char *err, size_t errlen)
{
    *out = NULL;
    int rc = check_resume(o, resume, err, errlen);
    if (rc < 0)
        return rc;
    acr_warc *w = acr_calloc(1, sizeof *w);
    if (w == NULL) {
        snprintf(err, errlen, "%s: out of memory", o->path);
        return -ENOMEM;
    }
    w->fd = -1;
    acr_spool_init(&w->member, SPOOL_MEM);
    acr_spool_init(&w->imember, SPOOL_MEM);
    rc = writer_init(w, o);
    unsigned idx = resume ? resume->file : (o->max_size ? 1 : 0);
    if (rc == 0)
        rc = open_file(w, idx, resume ? resume->offset : 0, resume != NULL);
    if (rc == 0 && o->max_size)
        rc = remove_after(w, idx);
    if (rc < 0) {
        snprintf(err, errlen, "%s", w->msg);
        writer_free(w);
        return rc;
    }
    *out = w;
    return 0;
}

void acr_warc_pos_get(const acr_warc *w, acr_warc_pos *out)
{
    out->file = w->file;
    out->offset = w->offset;
}

int acr_warc_sync(acr_warc *w)
{
    if (w->err)
        return w->err;
    if (fsync(w->fd) < 0)
        return fail(w, -errno, "fsync");
    if (!w->dir_dirty)
        return 0;
    int dfd = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return fail(w, -errno, "open its folder to sync it");
    /* Some file systems cannot sync a folder (EINVAL): nothing more to do there. */
    int rc = fsync(dfd) < 0 && errno != EINVAL ? -errno : 0;
    close(dfd);
    if (rc < 0)
        return fail(w, rc, "fsync of its folder");
    w->dir_dirty = false;
    return 0;
}

int acr_warc_close(acr_warc *w, char *err, size_t errlen)
{
    if (w == NULL)
        return 0;
    int rc = w->err;
    if (rc == 0)
        rc = acr_warc_sync(w);
    if (w->fd >= 0) {
        int fd = w->fd;
        w->fd = -1;
        if (close(fd) < 0 && rc == 0)
            rc = fail(w, -errno, "close");
    }
    if (rc < 0)
        snprintf(err, errlen, "%s", w->msg);
    writer_free(w);
    return rc;
}

/* ---- Records of a capture ---- */

/* The fields of a metadata record about a failure. */
struct failure {
    const char *uri;
    const struct timespec *date;
    const char *ip;
    const char *to[2];
    const char *kind;
    int code;
    const char *message;
};

static int write_meta(acr_warc *w, const struct failure *f)
{
    acr_buf body = {0}, head = {0};
    put_field(&body, "error-kind", f->kind);
    put_field(&body, "error-code", acr_errname(f->code));
    put_field(&body, "error-message", f->message);
    unsigned char sha[SHA1_LEN];
    char id[ID_LEN];
    int rc = body.oom ? -ENOMEM : sha1(body.p, body.len, sha);
    if (rc == 0)
        rc = new_id(id);
    if (rc == 0) {
        struct head h = {.type = "metadata", .id = id, .date = f->date, .uri = f->uri, .ip = f->ip,
                         .to = {f->to[0], f->to[1]}, .ctype = "application/warc-fields", .block_sha = sha,
                         .len = body.len};
        rc = head_build(&head, &h);
    }
    if (rc < 0) {
        fail(w, rc, "metadata record");
    } else {
        struct block b = {.p = body.p, .len = body.len};
        rc = record(w, &head, &b, false);
    }
    acr_buf_release(&body);
    acr_buf_release(&head);
    return rc;
}

/* One HTTP message of a hop as a request or response record. */
static int write_msg(acr_warc *w, const struct head *h, const acr_spool *sp)
{
    acr_buf head = {0};
    int rc = head_build(&head, h);
    if (rc < 0) {
        fail(w, rc, "record header");
    } else {
        struct block b = {.sp = sp};
        rc = record(w, &head, &b, false);
    }
    acr_buf_release(&head);
    return rc;
}

/* The records of one hop; ids receive the IDs of its request and response ("" if
 * none), for what refers to them. */
static int write_hop(acr_warc *w, const struct hop *hp, char ids[2][ID_LEN])
{
    const char *trunc = truncated_reason(hp->error);
    ids[0][0] = 0;
    ids[1][0] = 0;
    int rc = 0;
    if (hp->req.size > 0) {
        rc = new_id(ids[0]);
        struct head h = {.type = "request", .id = ids[0], .date = &hp->date, .uri = hp->url, .ip = hp->ip,
                         .ctype = "application/http;msgtype=request", .block_sha = hp->req_sha,
                         .len = hp->req.size};
        if (rc == 0)
            rc = write_msg(w, &h, &hp->req);
    }
    if (rc == 0 && hp->resp.size > 0) {
        rc = new_id(ids[1]);
        struct head h = {.type = "response", .id = ids[1], .date = &hp->date, .uri = hp->url, .ip = hp->ip,
                         .to = {ids[0][0] ? ids[0] : NULL}, .ctype = "application/http;msgtype=response",
                         .block_sha = hp->resp_sha, .pay_sha = trunc ? NULL : hp->pay_sha,
                         .truncated = trunc, .len = hp->resp.size};
        if (rc == 0)
            rc = write_msg(w, &h, &hp->resp);
    }
    if (rc == 0 && hp->error != 0) {
        struct failure f = {.uri = hp->url, .date = &hp->date, .ip = hp->ip,
                            .to = {ids[0][0] ? ids[0] : NULL, ids[1][0] ? ids[1] : NULL},
                            .kind = kind_of(hp->error), .code = hp->error, .message = hp->message};
        rc = write_meta(w, &f);
    }
    if (rc < 0 && w->err == 0)
        fail(w, rc, "getrandom");
    return rc < 0 ? w->err : 0;
}

int acr_warc_error(const acr_warc *w) { return w->err; }

int acr_warc_write(acr_warc *w, acr_warc_capture *c)
{
    if (w->err)
        return w->err;
    if (c->open) {
        c->open = false;
        hop_end(c, &c->hops[c->n - 1], ACR_ECANCELED, UNENDED, "");
    }
    if (c->err)
        return c->err;
    char ids[2][ID_LEN] = {{0}};
    for (size_t i = 0; i < c->n; i++) {
        int rc = write_hop(w, &c->hops[i], ids);
        if (rc < 0)
            return rc;
    }
    if (!c->failed || (c->n > 0 && c->hops[c->n - 1].error == c->fail_code))
        return 0;
    struct failure f = {.uri = c->fail_url, .date = &c->fail_date, .ip = "",
                        .to = {ids[0][0] ? ids[0] : NULL, ids[1][0] ? ids[1] : NULL},
                        .kind = c->fail_kind ? c->fail_kind : kind_of(c->fail_code), .code = c->fail_code,
                        .message = c->fail_msg};
    return write_meta(w, &f);
}
