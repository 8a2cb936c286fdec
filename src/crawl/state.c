/* state.c -- the crawl's resumable state: an append-only journal of checksummed
 * entries and a snapshot it is compacted into (see state.h).
 *
 * Both files: a 24-byte header (8-byte magic, u64 generation, u32 crc32 of the 16
 * bytes before it, u32 0), then entries. An entry: u32 n, u32 crc32 of (the 4 bytes
 * of n, then the n bytes that follow), n bytes: a type byte and its body. Integers
 * are little-endian; strings are bytes with their length in front, no NUL.
 *   RUN      i64 wall ns                        a run started
 *   END      i64 wall ns                        a run ended (close)
 *   QUEUED   u8 via, u8 flags (1 sitemap, 2 has parent), u32 depth, u64 line,
 *            u32 url len, u32 parent len, url, parent
 *   DONE     u64 fp, u8 ok, u64 bytes, i64 wall ns, u64 dev, ino, off, u32 warc file,
 *            u64 warc off
 *   ROBOTS   i32 status, u32 origin len, u32 body len, origin, body
 * A snapshot holds, in this order: TOTALS (the totals accumulator and the last
 * positions), SEEN (u32 n, n u64 fingerprints; repeated), ROBOTS (the latest per
 * origin), QUEUED (the pending URLs in queue order), SNAPEND (u64 counts of seen,
 * robots, pending: a snapshot without it is not whole).
 *
 * The journal's generation is the snapshot's (0 with no snapshot). Compaction writes
 * snapshot.tmp with generation g+1, fsyncs it, renames it over snapshot, fsyncs DIR,
 * then puts a fresh journal of generation g+1 in place the same way. A stop between
 * the two renames leaves a journal of generation g next to a snapshot of g+1: that
 * journal is all in the snapshot already, and is replaced on load. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "state.h"
#include "util/alloc.h"
#include "util/errf.h"
#include "util/fdio.h"
#include "util/optdiff.h"
#include "util/fpset.h"

#define J_MAGIC "ACRSJRN1"
#define S_MAGIC "ACRSSNP1"
#define FILE_HDR 24
#define ENT_HDR 8
/* Largest entry: a QUEUED of two maximal strings, a ROBOTS of a maximal origin and body. */
#define ENTRY_MAX (2 * ACR_STATE_STR_MAX + ACR_STATE_ROBOTS_MAX + 64)
#define SEEN_CHUNK 8192         /* fingerprints per SEEN entry */
#define OPTIONS_MAX (1u << 20)
#define WBUF_FLUSH (1u << 20)   /* the snapshot writer writes in pieces this big */
#define POS_SIZE 36             /* an encoded acr_state_pos */

enum { E_RUN = 1, E_QUEUED, E_DONE, E_ROBOTS, E_END, E_MARK, E_TOTALS = 10, E_SEEN, E_SNAPEND };
enum { F_SITEMAP = 1, F_PARENT = 2 };

/* Bytes of an entry in memory, growable; no sticky failure (unlike acr_buf): a failed
 * reserve leaves what is there intact and the next one may succeed. */
struct wbuf {
    unsigned char *p;
    size_t len, cap;
};

/* Totals as the entries are replayed; a run is open from its RUN to its END (or to
 * the end of the state, for a run that was stopped). */
struct acc {
    uint64_t runs, pages, errors, bytes;
    int64_t elapsed, start, last;
    bool open;
    acr_state_pos pos;
};

struct acr_state {
    char *dir;
    int dirfd, lockfd, jfd;     /* jfd: -1 until load */
    bool resuming, loaded, broken;
    uint64_t gen;               /* of the snapshot and of the journal being written */
    bool has_snap;
    uint64_t jlen;              /* bytes of the journal that are whole entries */
    uint64_t compact_bytes, compact_at;
    struct wbuf out;            /* entries not committed yet */
    struct wbuf scratch;        /* NUL-terminated copies of strings for callbacks */
};

/* ---- little helpers ---- */

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int wbuf_reserve(struct wbuf *b, size_t extra)
{
    if (b->cap - b->len >= extra)
        return 0;
    if (extra > SIZE_MAX / 2 - b->len)
        return -ENOMEM;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < extra)
        cap *= 2;
    unsigned char *p = acr_realloc(b->p, cap);
    if (!p)
        return -ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

static void wbuf_release(struct wbuf *b)
{
    free(b->p);
    *b = (struct wbuf){0};
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p) { return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32; }

/* ---- encoding: entries are built in place at the end of a wbuf ---- */

struct enc {
    unsigned char *p;
};

static void e8(struct enc *e, unsigned v) { *e->p++ = (unsigned char)v; }
static void e32(struct enc *e, uint32_t v)
{
    put32(e->p, v);
    e->p += 4;
}
static void e64(struct enc *e, uint64_t v)
{
    put64(e->p, v);
    e->p += 8;
}
static void ebytes(struct enc *e, const void *s, size_t n)
{
    if (n)
        memcpy(e->p, s, n);
    e->p += n;
}

/* Room for an entry of type and body bytes; the encoder points at its body. */
static int entry_begin(struct wbuf *b, unsigned type, size_t body, struct enc *e)
{
    int rc = wbuf_reserve(b, ENT_HDR + 1 + body);
    if (rc != 0)
        return rc;
    e->p = b->p + b->len + ENT_HDR;
    e8(e, type);
    return 0;
}

/* Frames the entry begun at b->len and ending at e->p: length and checksum. */
static void entry_end(struct wbuf *b, const struct enc *e)
{
    unsigned char *h = b->p + b->len;
    size_t n = (size_t)(e->p - h) - ENT_HDR;
    put32(h, (uint32_t)n);
    uLong crc = crc32(crc32(0, h, 4), h + ENT_HDR, (uInt)n);
    put32(h + 4, (uint32_t)crc);
    b->len += ENT_HDR + n;
}

static void enc_pos(struct enc *e, const acr_state_pos *p)
{
    e64(e, p->records_dev);
    e64(e, p->records_ino);
    e64(e, p->records_off);
    e32(e, p->warc_file);
    e64(e, p->warc_off);
}

static int put_time(struct wbuf *b, unsigned type, int64_t t)
{
    struct enc e;
    int rc = entry_begin(b, type, 8, &e);
    if (rc != 0)
        return rc;
    e64(&e, (uint64_t)t);
    entry_end(b, &e);
    return 0;
}

static void file_header(unsigned char *h, const char *magic, uint64_t gen)
{
    memcpy(h, magic, 8);
    put64(h + 8, gen);
    put32(h + 16, (uint32_t)crc32(0, h, 16));
    put32(h + 20, 0);
}

/* ---- decoding: bounds-checked reads of an entry's body ---- */

struct dec {
    const unsigned char *p;
    size_t n;
    bool bad;                   /* read past the end */
};

static const unsigned char *dtake(struct dec *d, size_t n)
{
    if (d->bad || d->n < n) {
        d->bad = true;
        return NULL;
    }
    const unsigned char *p = d->p;
    d->p += n;
    d->n -= n;
    return p;
}

static unsigned d8(struct dec *d)
{
    const unsigned char *p = dtake(d, 1);
    return p ? *p : 0;
}

static uint32_t d32(struct dec *d)
{
    const unsigned char *p = dtake(d, 4);
    return p ? get32(p) : 0;
}

static uint64_t d64(struct dec *d)
{
    const unsigned char *p = dtake(d, 8);
    return p ? get64(p) : 0;
}

/* True when the whole body was read and nothing was missing. */
static bool dend(const struct dec *d) { return !d->bad && d->n == 0; }

static void dec_pos(struct dec *d, acr_state_pos *p)
{
    p->records_dev = d64(d);
    p->records_ino = d64(d);
    p->records_off = d64(d);
    p->warc_file = d32(d);
    p->warc_off = d64(d);
}

/* An entry read from a file. */
struct ent {
    unsigned type;
    const unsigned char *body;
    size_t len;                 /* of body */
    size_t off;                 /* of the entry in its file */
    size_t size;                /* of the whole entry */
};

struct queued {
    unsigned via, flags, depth;
    uint64_t line;
    const char *url, *parent;
    size_t lurl, lparent;
};

struct robots {
    int status;
    const char *origin, *body;
    size_t lorigin, lbody;
};

struct done {
    uint64_t fp, bytes;
    bool ok;
    int64_t wall;
    acr_state_pos pos;
};

/* Strings from a file: no NUL inside (they become C strings for the callbacks). */
static const char *dstr(struct dec *d, size_t n)
{
    const unsigned char *p = dtake(d, n);
    if (p && memchr(p, 0, n))
        d->bad = true;
    return (const char *)p;
}

static bool parse_queued(const struct ent *en, struct queued *q)
{
    struct dec d = {en->body, en->len, false};
    q->via = d8(&d);
    q->flags = d8(&d);
    q->depth = d32(&d);
    q->line = d64(&d);
    q->lurl = d32(&d);
    q->lparent = d32(&d);
    if (d.bad || q->lurl == 0 || q->lurl > ACR_STATE_STR_MAX || q->lparent > ACR_STATE_STR_MAX)
        return false;
    q->url = dstr(&d, q->lurl);
    q->parent = dstr(&d, q->lparent);
    return dend(&d) && q->via <= 3 && q->flags <= (F_SITEMAP | F_PARENT);
}

static bool parse_robots(const struct ent *en, struct robots *r)
{
    struct dec d = {en->body, en->len, false};
    r->status = (int)(int32_t)d32(&d);
    r->lorigin = d32(&d);
    r->lbody = d32(&d);
    if (d.bad || r->lorigin > ACR_STATE_STR_MAX || r->lbody > ACR_STATE_ROBOTS_MAX)
        return false;
    r->origin = dstr(&d, r->lorigin);
    r->body = (const char *)dtake(&d, r->lbody);
    return dend(&d);
}

static bool parse_done(const struct ent *en, struct done *o)
{
    struct dec d = {en->body, en->len, false};
    o->fp = d64(&d);
    unsigned ok = d8(&d);
    o->bytes = d64(&d);
    o->wall = (int64_t)d64(&d);
    dec_pos(&d, &o->pos);
    o->ok = ok == 1;
    return dend(&d) && ok <= 1;
}

static bool parse_mark(const struct ent *en, acr_state_pos *pos)
{
    struct dec d = {en->body, en->len, false};
    dec_pos(&d, pos);
    return dend(&d);
}

static bool parse_time(const struct ent *en, int64_t *t)
{
    struct dec d = {en->body, en->len, false};
    *t = (int64_t)d64(&d);
    return dend(&d);
}

/* ---- reading entries one after another from a mapped file ---- */

struct rd {
    const unsigned char *p;
    size_t len, off;
};

enum { N_END, N_OK, N_TORN, N_BAD };

/* The entry at r->off: N_OK (and r->off past it), N_END, N_TORN (the file ends inside
 * it), N_BAD (impossible length or, when checking, wrong checksum). */
static int next_entry(struct rd *r, struct ent *en, bool check)
{
    size_t rem = r->len - r->off;
    if (rem == 0)
        return N_END;
    if (rem < ENT_HDR)
        return N_TORN;
    const unsigned char *h = r->p + r->off;
    size_t n = get32(h);
    if (n == 0 || n > ENTRY_MAX)
        return N_BAD;
    if (n > rem - ENT_HDR)
        return N_TORN;
    if (check && get32(h + 4) != (uint32_t)crc32(crc32(0, h, 4), h + ENT_HDR, (uInt)n))
        return N_BAD;
    *en = (struct ent){.type = h[ENT_HDR], .body = h + ENT_HDR + 1, .len = n - 1, .off = r->off,
                       .size = ENT_HDR + n};
    r->off += ENT_HDR + n;
    return N_OK;
}

/* A mapped file; len 0 maps nothing. */
struct map {
    const unsigned char *p;
    size_t len;
    bool exists;
};

static void unmap(struct map *m)
{
    if (m->len)
        munmap((void *)m->p, m->len);
    *m = (struct map){0};
}

/* Maps name in DIR read-only; a missing file is not an error (m->exists false). */
static int map_file(acr_state *s, const char *name, struct map *m)
{
    *m = (struct map){0};
    int fd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    struct stat st;
    int rc = fstat(fd, &st) == 0 ? 0 : -errno;
    if (rc == 0 && st.st_size > 0) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            rc = -errno;
        } else {
            m->p = p;
            m->len = (size_t)st.st_size;
            madvise(p, m->len, MADV_SEQUENTIAL);
        }
    }
    close(fd);
    m->exists = rc == 0;
    return rc;
}

/* ---- a map from a 64-bit key (an origin's fingerprint) to an offset ---- */

struct omap {
    uint64_t *k, *v;            /* k 0: free */
    size_t cap, n;
};

static uint64_t okey(uint64_t fp) { return fp ? fp : 1; }

static size_t oslot(const struct omap *m, uint64_t k)
{
    size_t i = (size_t)k & (m->cap - 1);
    while (m->k[i] && m->k[i] != k)
        i = (i + 1) & (m->cap - 1);
    return i;
}

static int omap_grow(struct omap *m)
{
    struct omap g = {.cap = m->cap ? m->cap * 2 : 64};
    g.k = acr_calloc(g.cap, sizeof *g.k);
    g.v = g.k ? acr_calloc(g.cap, sizeof *g.v) : NULL;
    if (!g.v) {
        free(g.k);
        return -ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (m->k[i]) {
            size_t j = oslot(&g, m->k[i]);
            g.k[j] = m->k[i];
            g.v[j] = m->v[i];
        }
    }
    g.n = m->n;
    free(m->k);
    free(m->v);
    *m = g;
    return 0;
}

static int omap_put(struct omap *m, uint64_t fp, uint64_t v)
{
    if ((m->n + 1) * 2 > m->cap && omap_grow(m) != 0)
        return -ENOMEM;
    uint64_t k = okey(fp);
    size_t i = oslot(m, k);
    if (!m->k[i]) {
        m->k[i] = k;
        m->n++;
    }
    m->v[i] = v;
    return 0;
}

/* The value of fp, or 0 when absent (values stored are never 0). */
static uint64_t omap_get(const struct omap *m, uint64_t fp)
{
    if (!m->cap)
        return 0;
    size_t i = oslot(m, okey(fp));
    return m->k[i] ? m->v[i] : 0;
}

static void omap_release(struct omap *m)
{
    free(m->k);
    free(m->v);
    *m = (struct omap){0};
}

/* ---- totals ---- */

static void acc_close_run(struct acc *a)
{
    if (a->open && a->last > a->start)
        a->elapsed += a->last - a->start;
    a->open = false;
}

static void acc_time(struct acc *a, int64_t t)
{
    if (a->open && t > a->last)
        a->last = t;
}

static void acc_run(struct acc *a, int64_t t)
{
    acc_close_run(a);
    a->runs++;
    a->open = true;
    a->start = a->last = t;
}

static void acc_done(struct acc *a, const struct done *o)
{
    a->pages++;
    a->errors += !o->ok;
    a->bytes += o->bytes;
    a->pos = o->pos;
    acc_time(a, o->wall);
}

static int put_totals(struct wbuf *b, const struct acc *a)
{
    struct enc e;
    int rc = entry_begin(b, E_TOTALS, 4 * 8 + 3 * 8 + 1 + POS_SIZE, &e);
    if (rc != 0)
        return rc;
    e64(&e, a->runs);
    e64(&e, a->pages);
    e64(&e, a->errors);
    e64(&e, a->bytes);
    e64(&e, (uint64_t)a->elapsed);
    e64(&e, (uint64_t)a->start);
    e64(&e, (uint64_t)a->last);
    e8(&e, a->open);
    enc_pos(&e, &a->pos);
    entry_end(b, &e);
    return 0;
}

static bool parse_totals(const struct ent *en, struct acc *a)
{
    struct dec d = {en->body, en->len, false};
    a->runs = d64(&d);
    a->pages = d64(&d);
    a->errors = d64(&d);
    a->bytes = d64(&d);
    a->elapsed = (int64_t)d64(&d);
    a->start = (int64_t)d64(&d);
    a->last = (int64_t)d64(&d);
    unsigned open = d8(&d);
    dec_pos(&d, &a->pos);
    a->open = open == 1;
    return dend(&d) && open <= 1;
}

/* ---- files in DIR ---- */

static int sync_dir(acr_state *s) { return fsync(s->dirfd) == 0 ? 0 : -errno; }

/* Puts name in place with contents p: written to name.tmp, synced, renamed over name,
 * DIR synced. A stop at any point leaves either the old name or the new one. */
static int replace_file(acr_state *s, const char *name, const void *p, size_t n)
{
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%s.tmp", name);
    int fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    int rc = acr__write_all(fd, p, n);
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && renameat(s->dirfd, tmp, s->dirfd, name) != 0)
        rc = -errno;
    if (rc != 0) {
        unlinkat(s->dirfd, tmp, 0);
        return rc;
    }
    return sync_dir(s);
}

static bool exists(acr_state *s, const char *name) { return faccessat(s->dirfd, name, F_OK, 0) == 0; }

/* An I/O failure on a file of DIR, as a message. */
static int io_fail(acr_state *s, char *err, size_t errlen, int rc, const char *what)
{
    if (rc == -ENOSPC || rc == -EDQUOT)
        return acr__errf(err, errlen, rc, "state %s: no space left on the device while %s (free some, then run the same command again)",
                    s->dir, what);
    return acr__errf(err, errlen, rc, "state %s: %s: %s", s->dir, what, strerror(-rc));
}

/* ---- options ---- */

#define OPT_ADVICE "(use another --state directory, or the same options)"

/* The stored options (a) against this command's (b), both in the same canonical
 * order: 0, or -EINVAL with err naming the first difference. */
static int compare_options(acr_state *s, const char *a, size_t la, const char *b, size_t lb, char *err, size_t errlen)
{
    char subject[PATH_MAX + 16];
    snprintf(subject, sizeof subject, "state %s", s->dir);
    return acr__optdiff(a, la, b, lb, subject, "made", OPT_ADVICE, err, errlen);
}

static int read_options(acr_state *s, char **out, size_t *len)
{
    struct map m;
    int rc = map_file(s, "options", &m);
    *out = NULL;
    *len = 0;
    if (rc != 0 || !m.exists)
        return rc;
    if (m.len > OPTIONS_MAX) {
        unmap(&m);
        return -EFBIG;
    }
    *out = acr_malloc(m.len + 1);
    if (*out) {
        if (m.len)
            memcpy(*out, m.p, m.len);
        (*out)[m.len] = 0;
        *len = m.len;
    }
    unmap(&m);
    return *out ? 1 : -ENOMEM;
}

static int new_journal(acr_state *s, uint64_t gen);

static int check_options(acr_state *s, const char *options, char *err, size_t errlen)
{
    char *stored;
    size_t len;
    int rc = read_options(s, &stored, &len);
    if (rc < 0)
        return acr__errf(err, errlen, rc, "state %s: cannot read its options file: %s", s->dir, strerror(-rc));
    if (rc > 0) {
        s->resuming = true;
        rc = compare_options(s, stored, len, options, strlen(options), err, errlen);
        free(stored);
        return rc;
    }
    struct stat jst;
    bool bare_journal = fstatat(s->dirfd, "journal", &jst, 0) == 0 && jst.st_size <= FILE_HDR;
    if ((exists(s, "journal") && !bare_journal) || exists(s, "snapshot"))
        return acr__errf(err, errlen, -EBADMSG,
                    "state %s holds a journal but no options file: it is damaged or not acrawl's (move it away, or use another --state directory)",
                    s->dir);
    /* The journal first: a state with options always has one, so options without a
     * journal or a snapshot mean one was removed (see load_files); a journal with no
     * entry and no options is a first run stopped in between, started afresh. */
    rc = new_journal(s, 0);
    if (rc == 0 && (rc = replace_file(s, "options", options, strlen(options))) != 0)
        unlinkat(s->dirfd, "journal", 0); /* else the next open finds a journal without options */
    return rc ? io_fail(s, err, errlen, rc, "writing its options file") : 0;
}

/* ---- open ---- */

static int open_dir(acr_state *s, const char *dir, char *err, size_t errlen)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return acr__errf(err, errlen, -errno, "cannot create state directory %s: %s", dir, strerror(errno));
    s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->dirfd < 0)
        return acr__errf(err, errlen, -errno, "cannot open state directory %s: %s", dir, strerror(errno));
    s->lockfd = openat(s->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->lockfd < 0)
        return acr__errf(err, errlen, -errno, "state %s: cannot open its lock file: %s", dir, strerror(errno));
    while (flock(s->lockfd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EINTR)
            continue;
        if (errno == EWOULDBLOCK)
            return acr__errf(err, errlen, -EBUSY, "state %s is in use by another acrawl (each --state directory takes one crawl at a time)",
                        dir);
        return acr__errf(err, errlen, -errno, "state %s: cannot lock it: %s", dir, strerror(errno));
    }
    /* Leftovers of a stop in the middle of replace_file or a compaction. */
    unlinkat(s->dirfd, "options.tmp", 0);
    unlinkat(s->dirfd, "snapshot.tmp", 0);
    unlinkat(s->dirfd, "journal.tmp", 0);
    return 0;
}

static void state_free(acr_state *s)
{
    if (s->jfd >= 0)
        close(s->jfd);
    if (s->lockfd >= 0)
        close(s->lockfd); /* and with it the lock */
    if (s->dirfd >= 0)
        close(s->dirfd);
    wbuf_release(&s->out);
    wbuf_release(&s->scratch);
    free(s->dir);
    free(s);
}

int acr_state_open(acr_state **out, const char *dir, const char *options, char *err, size_t errlen)
{
    *out = NULL;
    acr_state *s = acr_calloc(1, sizeof *s);
    if (!s)
        return acr__errf(err, errlen, -ENOMEM, "state %s: out of memory", dir);
    s->dirfd = s->lockfd = s->jfd = -1;
    s->compact_bytes = ACR_STATE_COMPACT_BYTES;
    s->dir = acr_strdup(dir);
    int rc = s->dir ? open_dir(s, dir, err, errlen) : acr__errf(err, errlen, -ENOMEM, "state %s: out of memory", dir);
    if (rc == 0)
        rc = check_options(s, options ? options : "", err, errlen);
    if (rc != 0) {
        state_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

bool acr_state_resuming(const acr_state *s) { return s->resuming; }

void acr_state_set_compact_bytes(acr_state *s, uint64_t n)
{
    s->compact_bytes = n ? n : ACR_STATE_COMPACT_BYTES;
    s->compact_at = s->jlen + s->compact_bytes;
}

/* ---- load ---- */

/* A snapshot's sections, as offsets, and what it says. */
struct snap {
    struct map m;
    uint64_t gen;
    size_t seen, robots, pending, end; /* where each section starts; end: SNAPEND */
    uint64_t nseen;             /* fingerprints in its SEEN section */
};

/* A journal's whole entries end at `end`; past it is a torn tail. */
struct jrnl {
    struct map m;
    uint64_t gen;
    size_t end;
    bool stale;                 /* of an older generation than the snapshot: ignored */
};

/* What the passes over the files gather. */
struct replay {
    acr__fpset done;            /* fingerprints done in the journal, then also those handed out */
    struct omap robots;         /* origin fp -> 1 + offset of its latest ROBOTS in the journal */
    struct acc acc;
};

static int corrupt(acr_state *s, char *err, size_t errlen, const char *file, size_t off, const char *why)
{
    return acr__errf(err, errlen, -EBADMSG,
                "state %s is damaged: %s at byte %zu: %s (move it away to start the crawl afresh, or use another --state directory)",
                s->dir, file, off, why);
}

static bool header_ok(const struct map *m, const char *magic, uint64_t *gen)
{
    if (m->len < FILE_HDR || memcmp(m->p, magic, 8) != 0 || get32(m->p + 16) != (uint32_t)crc32(0, m->p, 16))
        return false;
    *gen = get64(m->p + 8);
    return true;
}

/* Where the snapshot's section of entries of type begins (TOTALS: none, at the header's end). */
static size_t *section_start(struct snap *sn, unsigned type)
{
    switch (type) {
    case E_SEEN:
        return &sn->seen;
    case E_ROBOTS:
        return &sn->robots;
    case E_QUEUED:
        return &sn->pending;
    default:
        return &sn->end;
    }
}

/* Checks a snapshot entry by entry and finds its sections; reads its totals. */
static int snap_check(acr_state *s, struct snap *sn, struct acc *a, char *err, size_t errlen)
{
    if (!header_ok(&sn->m, S_MAGIC, &sn->gen))
        return corrupt(s, err, errlen, "snapshot", 0, "not a snapshot header");
    struct rd r = {sn->m.p, sn->m.len, FILE_HDR};
    struct ent en;
    unsigned section = E_TOTALS; /* the sections come in the order TOTALS SEEN ROBOTS QUEUED SNAPEND */
    static const unsigned order[] = {E_TOTALS, E_SEEN, E_ROBOTS, E_QUEUED, E_SNAPEND};
    size_t at = 0;
    uint64_t count[3] = {0};
    for (;;) {
        int k = next_entry(&r, &en, true);
        if (k != N_OK)
            return corrupt(s, err, errlen, "snapshot", r.off, k == N_END ? "it ends early" : "an entry is damaged");
        while (at < 5 && order[at] != en.type)
            at++;
        if (at == 5 || (en.type == E_TOTALS) != (en.off == FILE_HDR))
            return corrupt(s, err, errlen, "snapshot", en.off, "an entry out of place");
        if (en.type != section) {
            section = en.type;
            *section_start(sn, en.type) = en.off;
        }
        bool ok = true;
        struct queued q;
        struct robots rb;
        if (en.type == E_TOTALS) {
            ok = parse_totals(&en, a);
        } else if (en.type == E_SEEN) {
            ok = en.len >= 4 && get32(en.body) <= SEEN_CHUNK && en.len == 4 + 8 * (size_t)get32(en.body);
            count[0] += ok ? get32(en.body) : 0;
        } else if (en.type == E_ROBOTS) {
            ok = parse_robots(&en, &rb);
            count[1]++;
        } else if (en.type == E_QUEUED) {
            ok = parse_queued(&en, &q);
            count[2]++;
        } else {
            ok = en.len == 24 && get64(en.body) == count[0] && get64(en.body + 8) == count[1] &&
                 get64(en.body + 16) == count[2] && r.off == r.len;
            if (ok)
                break;
        }
        if (!ok)
            return corrupt(s, err, errlen, "snapshot", en.off, "an entry does not parse");
    }
    sn->nseen = count[0];
    /* Empty sections start where the next one does. */
    sn->pending = sn->pending ? sn->pending : sn->end;
    sn->robots = sn->robots ? sn->robots : sn->pending;
    sn->seen = sn->seen ? sn->seen : sn->robots;
    return 0;
}

/* Applies one journal entry to what the replay gathers. */
static bool replay_entry(struct replay *rp, const struct ent *en, int *rc)
{
    struct queued q;
    struct robots rb;
    struct done d;
    int64_t t;
    switch (en->type) {
    case E_RUN:
        if (!parse_time(en, &t))
            return false;
        acc_run(&rp->acc, t);
        return true;
    case E_END:
        if (!parse_time(en, &t))
            return false;
        acc_time(&rp->acc, t);
        acc_close_run(&rp->acc);
        return true;
    case E_QUEUED:
        return parse_queued(en, &q);
    case E_DONE:
        if (!parse_done(en, &d))
            return false;
        acc_done(&rp->acc, &d);
        *rc = acr__fpset_add(&rp->done, d.fp) < 0 ? -ENOMEM : 0;
        return true;
    case E_ROBOTS:
        if (!parse_robots(en, &rb))
            return false;
        *rc = omap_put(&rp->robots, acr__hash64(rb.origin, rb.lorigin), 1 + en->off);
        return true;
    case E_MARK:
        return parse_mark(en, &rp->acc.pos);
    default:
        return false;
    }
}

static bool all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i])
            return false;
    }
    return true;
}

/* Checks the journal entry by entry, gathering the done set, the latest robots per
 * origin and the totals; finds where its whole entries end (a torn or damaged last
 * entry, or a zero-filled tail, is cut off; damage with more after it is an error). */
static int journal_check(acr_state *s, struct jrnl *j, struct replay *rp, char *err, size_t errlen)
{
    struct rd r = {j->m.p, j->m.len, FILE_HDR};
    struct ent en;
    for (;;) {
        int k = next_entry(&r, &en, true);
        if (k == N_END || k == N_TORN)
            break;
        if (k == N_BAD) {
            size_t n = get32(r.p + r.off);
            bool last = n > 0 && n <= ENTRY_MAX && r.off + ENT_HDR + n == r.len;
            /* zeros from inside this entry on (a power loss): nothing whole follows it */
            bool fits = n > 0 && n <= ENTRY_MAX && r.off + ENT_HDR + n < r.len;
            bool zeros_after = fits && all_zero(r.p + r.off + ENT_HDR + n, r.len - (r.off + ENT_HDR + n));
            if (last || zeros_after || all_zero(r.p + r.off, r.len - r.off))
                break;
            return corrupt(s, err, errlen, "journal", r.off, "an entry fails its checksum and more follows");
        }
        int rc = 0;
        if (!replay_entry(rp, &en, &rc))
            return corrupt(s, err, errlen, "journal", en.off, "an entry does not parse");
        if (rc != 0)
            return acr__errf(err, errlen, rc, "state %s: out of memory loading it", s->dir);
    }
    j->end = r.off;
    return 0;
}

/* Copies a string of a file into scratch, NUL-terminated; the pointer lasts until the
 * next copy_strs. */
static int copy_strs(acr_state *s, const char *a, size_t la, const char *b, size_t lb, const char **ca, const char **cb)
{
    s->scratch.len = 0;
    int rc = wbuf_reserve(&s->scratch, la + lb + 2);
    if (rc != 0)
        return rc;
    char *p = (char *)s->scratch.p;
    memcpy(p, a, la);
    p[la] = 0;
    if (lb)
        memcpy(p + la + 1, b, lb);
    p[la + 1 + lb] = 0;
    *ca = p;
    *cb = p + la + 1;
    return 0;
}

/* The seen calls for the SEEN entries of a snapshot, or the QUEUED entries of a journal. */
static void emit_seen(const unsigned char *p, size_t from, size_t to, const acr_state_visit *v, void *arg)
{
    struct rd r = {p, to, from};
    struct ent en;
    struct queued q;
    while (next_entry(&r, &en, false) == N_OK) {
        if (en.type == E_SEEN) {
            uint32_t n = get32(en.body);
            for (uint32_t i = 0; i < n; i++)
                v->seen(arg, get64(en.body + 4 + 8 * (size_t)i));
        } else if (en.type == E_QUEUED && parse_queued(&en, &q)) {
            v->seen(arg, acr__hash64(q.url, q.lurl));
        }
    }
}

/* Robots entries between from and to: all of a snapshot's that the journal does not
 * override (journal false), or each origin's latest of a journal's (journal true). */
static int emit_robots(acr_state *s, const unsigned char *p, size_t from, size_t to, bool journal,
                       const struct replay *rp, const acr_state_visit *v, void *arg)
{
    struct rd r = {p, to, from};
    struct ent en;
    struct robots rb;
    while (next_entry(&r, &en, false) == N_OK) {
        if (en.type != E_ROBOTS || !parse_robots(&en, &rb))
            continue;
        uint64_t latest = omap_get(&rp->robots, acr__hash64(rb.origin, rb.lorigin));
        if (journal ? latest != 1 + en.off : latest != 0)
            continue;
        const char *origin, *unused;
        int rc = copy_strs(s, rb.origin, rb.lorigin, "", 0, &origin, &unused);
        if (rc != 0)
            return rc;
        v->robots(arg, origin, rb.status, rb.body, rb.lbody);
    }
    return 0;
}

/* QUEUED entries between from and to that are not done, and not handed out already. */
static int emit_pending(acr_state *s, const unsigned char *p, size_t from, size_t to, struct replay *rp,
                        const acr_state_visit *v, void *arg)
{
    struct rd r = {p, to, from};
    struct ent en;
    struct queued q;
    while (next_entry(&r, &en, false) == N_OK) {
        if (en.type != E_QUEUED || !parse_queued(&en, &q))
            continue;
        int added = acr__fpset_add(&rp->done, acr__hash64(q.url, q.lurl));
        if (added < 0)
            return added;
        if (added == 0)
            continue;
        acr_state_url u = {.depth = q.depth, .via = q.via, .line = q.line, .sitemap = q.flags & F_SITEMAP};
        int rc = copy_strs(s, q.url, q.lurl, q.parent, q.lparent, &u.url, &u.parent);
        if (rc != 0)
            return rc;
        if (!(q.flags & F_PARENT))
            u.parent = NULL;
        if (v->pending)
            v->pending(arg, &u);
    }
    return 0;
}

static int emit_all(acr_state *s, const struct snap *sn, const struct jrnl *j, struct replay *rp,
                    const acr_state_visit *v, void *arg)
{
    const unsigned char *jp = j->stale ? NULL : j->m.p;
    size_t jend = j->stale ? 0 : j->end;
    if (v->expect_seen && sn->m.exists)
        v->expect_seen(arg, sn->nseen);
    if (v->seen && sn->m.exists)
        emit_seen(sn->m.p, sn->seen, sn->robots, v, arg);
    if (v->seen && jp)
        emit_seen(jp, FILE_HDR, jend, v, arg);
    int rc = 0;
    if (v->robots && sn->m.exists)
        rc = emit_robots(s, sn->m.p, sn->robots, sn->pending, false, rp, v, arg);
    if (rc == 0 && v->robots && jp)
        rc = emit_robots(s, jp, FILE_HDR, jend, true, rp, v, arg);
    if (rc == 0 && sn->m.exists)
        rc = emit_pending(s, sn->m.p, sn->pending, sn->end, rp, v, arg);
    if (rc == 0 && jp)
        rc = emit_pending(s, jp, FILE_HDR, jend, rp, v, arg);
    return rc;
}

/* Maps the snapshot and the journal and checks them; decides whether the journal is
 * stale. */
static int load_files(acr_state *s, struct snap *sn, struct jrnl *j, struct replay *rp, char *err, size_t errlen)
{
    int rc = map_file(s, "snapshot", &sn->m);
    if (rc == 0)
        rc = map_file(s, "journal", &j->m);
    if (rc != 0)
        return io_fail(s, err, errlen, rc, "reading it");
    if (sn->m.exists) {
        rc = snap_check(s, sn, &rp->acc, err, errlen);
        if (rc != 0)
            return rc;
    }
    if (!j->m.exists && !sn->m.exists && s->resuming)
        return acr__errf(err, errlen, -EBADMSG,
                    "state %s holds options but neither a journal nor a snapshot: they were removed, and a crawl "
                    "started afresh would fetch and record every page again (move DIR away to start afresh)",
                    s->dir);
    if (!j->m.exists)
        return 0;
    if (!header_ok(&j->m, J_MAGIC, &j->gen))
        return corrupt(s, err, errlen, "journal", 0, "not a journal header");
    if (j->gen < sn->gen) {
        j->stale = true; /* a stop between the two renames of a compaction */
        return 0;
    }
    if (j->gen > sn->gen)
        return corrupt(s, err, errlen, "journal", 8, sn->m.exists ? "newer than the snapshot" : "the snapshot it follows is missing");
    return journal_check(s, j, rp, err, errlen);
}

/* A fresh journal of generation gen in place of any other. */
static int new_journal(acr_state *s, uint64_t gen)
{
    unsigned char h[FILE_HDR];
    file_header(h, J_MAGIC, gen);
    return replace_file(s, "journal", h, sizeof h);
}

/* Opens the journal for appending, after cutting off a torn tail or replacing a stale
 * or missing journal. */
static int open_journal(acr_state *s, const struct jrnl *j)
{
    int rc = 0;
    if (!j->m.exists || j->stale)
        rc = new_journal(s, s->gen);
    if (rc != 0)
        return rc;
    s->jfd = openat(s->dirfd, "journal", O_RDWR | O_CLOEXEC);
    if (s->jfd < 0)
        return -errno;
    s->jlen = j->m.exists && !j->stale ? j->end : FILE_HDR;
    if (j->m.exists && !j->stale && j->end < j->m.len) {
        if (ftruncate(s->jfd, (off_t)j->end) != 0 || fdatasync(s->jfd) != 0)
            return -errno;
    }
    /* From the journal's start, not this run's: a crawl stopped often still compacts. */
    s->compact_at = FILE_HDR + s->compact_bytes;
    return 0;
}

int acr_state_load(acr_state *s, const acr_state_visit *v, void *arg, acr_state_pos *pos, acr_state_totals *tot,
                   char *err, size_t errlen)
{
    if (s->loaded)
        return acr__errf(err, errlen, -EINVAL, "state %s: loaded twice", s->dir);
    static const acr_state_visit none = {0};
    v = v ? v : &none;
    struct snap sn = {0};
    struct jrnl j = {0};
    struct replay rp = {.acc = {0}};
    acr__fpset_init(&rp.done);
    int rc = load_files(s, &sn, &j, &rp, err, errlen);
    if (rc == 0) {
        s->gen = sn.gen;
        s->has_snap = sn.m.exists;
        rc = emit_all(s, &sn, &j, &rp, v, arg);
        if (rc != 0)
            acr__errf(err, errlen, rc, "state %s: out of memory loading it", s->dir);
    }
    if (rc == 0) {
        rc = open_journal(s, &j);
        if (rc != 0)
            io_fail(s, err, errlen, rc, "opening its journal");
    }
    unmap(&sn.m);
    unmap(&j.m);
    acr__fpset_release(&rp.done);
    omap_release(&rp.robots);
    wbuf_release(&s->scratch);
    if (rc != 0)
        return rc;
    acc_close_run(&rp.acc);
    if (pos)
        *pos = rp.acc.pos;
    if (tot)
        *tot = (acr_state_totals){.runs = rp.acc.runs, .pages = rp.acc.pages, .errors = rp.acc.errors,
                                  .bytes = rp.acc.bytes, .elapsed_ns = rp.acc.elapsed};
    s->loaded = true;
    rc = put_time(&s->out, E_RUN, wall_ns());
    if (rc != 0)
        return acr__errf(err, errlen, rc, "state %s: out of memory", s->dir);
    return acr_state_commit(s, err, errlen);
}

/* ---- appending ---- */

int acr_state_queued(acr_state *s, const acr_state_url *u)
{
    if (!s->loaded || !u->url || !*u->url || u->via > 3)
        return -EINVAL;
    size_t lu = strlen(u->url), lp = u->parent ? strlen(u->parent) : 0;
    if (lu > ACR_STATE_STR_MAX || lp > ACR_STATE_STR_MAX)
        return -E2BIG;
    struct enc e;
    int rc = entry_begin(&s->out, E_QUEUED, 22 + lu + lp, &e);
    if (rc != 0)
        return rc;
    e8(&e, u->via);
    e8(&e, (u->sitemap ? F_SITEMAP : 0) | (u->parent ? F_PARENT : 0));
    e32(&e, u->depth);
    e64(&e, u->line);
    e32(&e, (uint32_t)lu);
    e32(&e, (uint32_t)lp);
    ebytes(&e, u->url, lu);
    ebytes(&e, u->parent, lp);
    entry_end(&s->out, &e);
    return 0;
}

int acr_state_done(acr_state *s, const char *url, bool ok, uint64_t bytes, const acr_state_pos *pos)
{
    static const acr_state_pos zero = {0};
    if (!s->loaded || !url)
        return -EINVAL;
    struct enc e;
    int rc = entry_begin(&s->out, E_DONE, 25 + POS_SIZE, &e);
    if (rc != 0)
        return rc;
    e64(&e, acr__hash64(url, strlen(url)));
    e8(&e, ok);
    e64(&e, bytes);
    e64(&e, (uint64_t)wall_ns());
    enc_pos(&e, pos ? pos : &zero);
    entry_end(&s->out, &e);
    return 0;
}

int acr_state_mark(acr_state *s, const acr_state_pos *pos)
{
    if (!s->loaded || !pos)
        return -EINVAL;
    struct enc e;
    int rc = entry_begin(&s->out, E_MARK, POS_SIZE, &e);
    if (rc != 0)
        return rc;
    enc_pos(&e, pos);
    entry_end(&s->out, &e);
    return 0;
}

int acr_state_robots(acr_state *s, const char *origin, int status, const char *body, size_t len)
{
    if (!s->loaded || !origin || (len && !body))
        return -EINVAL;
    size_t lo = strlen(origin);
    if (lo > ACR_STATE_STR_MAX || len > ACR_STATE_ROBOTS_MAX)
        return -E2BIG;
    struct enc e;
    int rc = entry_begin(&s->out, E_ROBOTS, 12 + lo + len, &e);
    if (rc != 0)
        return rc;
    e32(&e, (uint32_t)status);
    e32(&e, (uint32_t)lo);
    e32(&e, (uint32_t)len);
    ebytes(&e, origin, lo);
    ebytes(&e, body, len);
    entry_end(&s->out, &e);
    return 0;
}

/* ---- compaction ---- */

/* The snapshot being written: entries gather in b and go to fd a piece at a time. */
struct swriter {
    int fd;
    struct wbuf b;
    int rc;
    uint64_t count[3];          /* seen, robots, pending */
    uint64_t *fp;               /* SEEN_CHUNK fingerprints gathered for a SEEN entry */
};

static void sw_flush(struct swriter *w, bool all)
{
    if (w->rc == 0 && (all || w->b.len >= WBUF_FLUSH))
        w->rc = acr__write_all(w->fd, w->b.p, w->b.len);
    if (all || w->b.len >= WBUF_FLUSH)
        w->b.len = 0;
}

/* Copies a whole entry (header and all) as it is. */
static void sw_copy(struct swriter *w, const struct ent *en)
{
    if (w->rc == 0)
        w->rc = wbuf_reserve(&w->b, en->size);
    if (w->rc != 0)
        return;
    memcpy(w->b.p + w->b.len, en->body - 1 - ENT_HDR, en->size);
    w->b.len += en->size;
    sw_flush(w, false);
}

static void sw_seen(struct swriter *w, const uint64_t *fp, size_t n)
{
    struct enc e;
    if (w->rc == 0)
        w->rc = entry_begin(&w->b, E_SEEN, 4 + 8 * n, &e);
    if (w->rc != 0)
        return;
    e32(&e, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        e64(&e, fp[i]);
    entry_end(&w->b, &e);
    w->count[0] += n;
    sw_flush(w, false);
}

/* SEEN: the old snapshot's as they are, then the journal's QUEUED fingerprints. */
static void write_seen(struct swriter *w, const struct snap *old, const struct map *jm, size_t jend)
{
    if (w->rc != 0)
        return;
    struct rd r = {old->m.p, old->robots, old->seen};
    struct ent en;
    while (old->m.exists && next_entry(&r, &en, false) == N_OK) {
        sw_copy(w, &en);
        w->count[0] += get32(en.body);
    }
    size_t n = 0;
    struct queued q;
    r = (struct rd){jm->p, jend, FILE_HDR};
    while (next_entry(&r, &en, false) == N_OK) {
        if (en.type != E_QUEUED || !parse_queued(&en, &q))
            continue;
        w->fp[n++] = acr__hash64(q.url, q.lurl);
        if (n == SEEN_CHUNK) {
            sw_seen(w, w->fp, n);
            n = 0;
        }
    }
    if (n)
        sw_seen(w, w->fp, n);
}

/* ROBOTS: the old snapshot's the journal does not override, the journal's latest. */
static void write_robots(struct swriter *w, const struct snap *old, const struct map *jm, size_t jend,
                         const struct replay *rp)
{
    struct ent en;
    struct robots rb;
    struct rd r = {old->m.p, old->pending, old->robots};
    while (old->m.exists && next_entry(&r, &en, false) == N_OK) {
        if (parse_robots(&en, &rb) && omap_get(&rp->robots, acr__hash64(rb.origin, rb.lorigin)) == 0) {
            sw_copy(w, &en);
            w->count[1]++;
        }
    }
    r = (struct rd){jm->p, jend, FILE_HDR};
    while (next_entry(&r, &en, false) == N_OK) {
        if (en.type == E_ROBOTS && parse_robots(&en, &rb) &&
            omap_get(&rp->robots, acr__hash64(rb.origin, rb.lorigin)) == 1 + en.off) {
            sw_copy(w, &en);
            w->count[1]++;
        }
    }
}

/* QUEUED entries from `from` to `to` not done and not written already. */
static void write_pending(struct swriter *w, const unsigned char *p, size_t from, size_t to, struct replay *rp)
{
    struct rd r = {p, to, from};
    struct ent en;
    struct queued q;
    while (w->rc == 0 && next_entry(&r, &en, false) == N_OK) {
        if (en.type != E_QUEUED || !parse_queued(&en, &q))
            continue;
        int added = acr__fpset_add(&rp->done, acr__hash64(q.url, q.lurl));
        if (added < 0)
            w->rc = -ENOMEM;
        if (added > 0) {
            sw_copy(w, &en);
            w->count[2]++;
        }
    }
}

static void write_snapend(struct swriter *w)
{
    struct enc e;
    if (w->rc == 0)
        w->rc = entry_begin(&w->b, E_SNAPEND, 24, &e);
    if (w->rc != 0)
        return;
    for (int i = 0; i < 3; i++)
        e64(&e, w->count[i]);
    entry_end(&w->b, &e);
    sw_flush(w, true);
}

/* Writes snapshot.tmp of generation gen from the old snapshot and the journal. */
static int write_snapshot(acr_state *s, const struct snap *old, const struct map *jm, struct replay *rp, uint64_t gen)
{
    struct swriter w = {.fd = openat(s->dirfd, "snapshot.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)};
    if (w.fd < 0)
        return -errno;
    w.fp = acr_malloc(SEEN_CHUNK * sizeof *w.fp);
    w.rc = w.fp ? wbuf_reserve(&w.b, WBUF_FLUSH + FILE_HDR) : -ENOMEM;
    if (w.rc == 0) {
        file_header(w.b.p, S_MAGIC, gen);
        w.b.len = FILE_HDR;
        w.rc = put_totals(&w.b, &rp->acc);
    }
    write_seen(&w, old, jm, s->jlen);
    write_robots(&w, old, jm, s->jlen, rp);
    if (old->m.exists)
        write_pending(&w, old->m.p, old->pending, old->end, rp);
    write_pending(&w, jm->p, FILE_HDR, s->jlen, rp);
    write_snapend(&w);
    if (w.rc == 0 && fsync(w.fd) != 0)
        w.rc = -errno;
    if (close(w.fd) != 0 && w.rc == 0)
        w.rc = -errno;
    wbuf_release(&w.b);
    free(w.fp);
    return w.rc;
}

/* Replays the journal (the done set, the latest robots, the totals) for compaction. */
static int compact_replay(acr_state *s, const struct map *jm, struct replay *rp, char *err, size_t errlen)
{
    struct rd r = {jm->p, s->jlen, FILE_HDR};
    struct ent en;
    int k = next_entry(&r, &en, true);
    for (; k == N_OK; k = next_entry(&r, &en, true)) {
        int rc = 0;
        if (!replay_entry(rp, &en, &rc))
            return corrupt(s, err, errlen, "journal", en.off, "an entry does not parse");
        if (rc != 0)
            return acr__errf(err, errlen, rc, "state %s: out of memory compacting it", s->dir);
    }
    if (k != N_END)
        return corrupt(s, err, errlen, "journal", r.off, "an entry fails its checksum");
    return 0;
}

/* The new snapshot and journal in place, in that order (see the top of the file). */
static int compact_swap(acr_state *s, char *err, size_t errlen)
{
    if (renameat(s->dirfd, "snapshot.tmp", s->dirfd, "snapshot") != 0) {
        int rc = -errno;
        unlinkat(s->dirfd, "snapshot.tmp", 0);
        return io_fail(s, err, errlen, rc, "putting its new snapshot in place");
    }
    /* From here the old journal is stale: the next load ignores it. */
    s->gen++;
    s->has_snap = true;
    int rc = sync_dir(s);
    if (rc == 0)
        rc = new_journal(s, s->gen);
    int fd = rc == 0 ? openat(s->dirfd, "journal", O_RDWR | O_CLOEXEC) : -1;
    if (fd < 0) {
        s->broken = true; /* appending to the stale journal would lose the entries */
        return io_fail(s, err, errlen, rc ? rc : -errno, "starting a new journal after compaction");
    }
    close(s->jfd);
    s->jfd = fd;
    s->jlen = FILE_HDR;
    return 0;
}

static int compact(acr_state *s, char *err, size_t errlen)
{
    struct snap old = {0};
    struct map jm = {0};
    struct replay rp = {.acc = {0}};
    acr__fpset_init(&rp.done);
    int rc = s->has_snap ? map_file(s, "snapshot", &old.m) : 0;
    if (rc == 0)
        rc = map_file(s, "journal", &jm);
    if (rc != 0 || jm.len < s->jlen || old.m.exists != s->has_snap)
        rc = io_fail(s, err, errlen, rc ? rc : -EIO, "reading it to compact it (a file changed under it?)");
    if (rc == 0 && old.m.exists)
        rc = snap_check(s, &old, &rp.acc, err, errlen);
    if (rc == 0)
        rc = compact_replay(s, &jm, &rp, err, errlen);
    if (rc == 0) {
        rc = write_snapshot(s, &old, &jm, &rp, s->gen + 1);
        if (rc != 0) {
            unlinkat(s->dirfd, "snapshot.tmp", 0);
            io_fail(s, err, errlen, rc, "writing a snapshot");
        }
    }
    unmap(&old.m);
    unmap(&jm);
    acr__fpset_release(&rp.done);
    omap_release(&rp.robots);
    return rc == 0 ? compact_swap(s, err, errlen) : rc;
}

int acr_state_commit(acr_state *s, char *err, size_t errlen)
{
    if (s->broken)
        return acr__errf(err, errlen, -EIO, "state %s: an earlier failure left its journal unusable", s->dir);
    if (s->out.len == 0)
        return 0;
    if (!s->loaded)
        return acr__errf(err, errlen, -EINVAL, "state %s: entries before load", s->dir);
    int rc = acr__pwrite_all(s->jfd, s->out.p, s->out.len, s->jlen);
    if (rc != 0) {
        /* A part may be written: cut it off, so that later entries follow whole ones. */
        if (ftruncate(s->jfd, (off_t)s->jlen) != 0)
            s->broken = true;
        return io_fail(s, err, errlen, rc, "writing its journal");
    }
    s->jlen += s->out.len;
    s->out.len = 0;
    if (s->jlen < s->compact_at)
        return 0;
    s->compact_at = s->jlen + s->compact_bytes; /* once more only after as much again, if this fails */
    rc = compact(s, err, errlen);
    if (rc == 0)
        s->compact_at = s->jlen + s->compact_bytes;
    return rc;
}

int acr_state_sync(acr_state *s)
{
    if (s->jfd < 0)
        return 0;
    return fdatasync(s->jfd) == 0 ? 0 : -errno;
}

void acr_state_discard(acr_state *s)
{
    if (s)
        s->out.len = 0;
}

int acr_state_close(acr_state *s, char *err, size_t errlen)
{
    if (!s)
        return 0;
    int rc = 0;
    if (s->broken)
        rc = acr_state_commit(s, err, errlen); /* says why */
    if (s->loaded && !s->broken) {
        rc = put_time(&s->out, E_END, wall_ns());
        if (rc != 0)
            acr__errf(err, errlen, rc, "state %s: out of memory", s->dir);
        int rc2 = acr_state_commit(s, rc ? NULL : err, errlen);
        rc = rc ? rc : rc2;
        if (rc == 0) {
            rc = acr_state_sync(s);
            if (rc != 0)
                io_fail(s, err, errlen, rc, "syncing its journal");
        }
    }
    state_free(s);
    return rc;
}
