/* keep.c -- the WARC archive and the crawl's state, in step with the records (see
 * keep.h for the order that makes a resumed crawl exact). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acrawl/error.h"
#include "acrawl/loop.h"
#include "keep.h"
#include "kind.h"
#include "run.h"
#include "util/buf.h"
#include "util/fpset.h"

void acr_keep_fail(acr_keep *k, int code, const char *fmt, ...)
{
    if (k->error)
        return;
    k->error = code ? code : -EIO;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(k->message, sizeof k->message, fmt, ap);
    va_end(ap);
    fprintf(stderr, "acrawl: %s\n", k->message);
}

/* ---- the options a state is bound to ---- */

/* One "name=value\n" line; a newline in a value would start a line of its own. */
static void opt_line(acr_buf *b, const char *name, const char *value)
{
    acr_buf_puts(b, name);
    acr_buf_putc(b, '=');
    for (const char *p = value ? value : ""; *p; p++) {
        if (*p == '\n' || *p == '\\')
            acr_buf_putc(b, '\\');
        acr_buf_putc(b, *p == '\n' ? 'n' : *p);
    }
    acr_buf_putc(b, '\n');
}

static void opt_num(acr_buf *b, const char *name, unsigned long long v)
{
    char s[32];
    snprintf(s, sizeof s, "%llu", v);
    opt_line(b, name, s);
}

static void opt_secs(acr_buf *b, const char *name, int64_t ns)
{
    char s[32];
    snprintf(s, sizeof s, "%.9g", (double)ns / 1e9);
    opt_line(b, name, s);
}

/* The request every page gets: -X, --compressed, -H. */
static void opt_request(acr_buf *b, const acr_config *c)
{
    opt_line(b, "request", c->job.req.method);
    opt_num(b, "compressed", c->job.req.decode);
    for (size_t i = 0; i < c->nheaders; i++) {
        acr_buf h = {0}; /* whole: two long headers differing late must differ here too */
        acr_buf_puts(&h, c->headers[i].name);
        acr_buf_puts(&h, ": ");
        acr_buf_puts(&h, c->headers[i].value);
        acr_buf_putc(&h, '\0');
        b->oom |= h.oom;
        opt_line(b, "header", h.oom ? "" : h.p);
        acr_buf_release(&h);
    }
}

char *acr_crawl_options(const acr_config *c, bool shared)
{
    const acr_crawl_opts *co = &c->job.crawl;
    acr_buf b = {0};
    opt_num(&b, "fingerprints", ACR_HASH64_VERSION);
    for (size_t i = 0; !shared && i < c->nsources; i++)
        opt_line(&b, "seeds", c->sources[i]);
    if (co->max_depth == ACR_CRAWL_INF_DEPTH)
        opt_line(&b, "level", "inf");
    else
        opt_num(&b, "level", co->max_depth);
    opt_num(&b, "max-pages", co->max_pages);
    opt_num(&b, "max-host-pages", co->host_page_cap);
    opt_num(&b, "span-hosts", co->span_hosts);
    opt_line(&b, "domains", co->domains);
    opt_line(&b, "exclude-domains", co->exclude_domains);
    opt_line(&b, "include", co->include);
    opt_line(&b, "exclude", co->exclude);
    opt_num(&b, "no-parent", co->no_parent);
    opt_num(&b, "page-requisites", co->page_requisites);
    opt_num(&b, "no-robots", co->no_robots);
    opt_num(&b, "no-sitemaps", co->no_sitemaps);
    if (shared) {
        /* politeness holds across the workers together: one value for all; each
         * worker has its own outputs */
        opt_num(&b, "per-host", co->per_host);
        opt_secs(&b, "wait", co->wait);
        opt_num(&b, "random-wait", co->random_wait);
        opt_secs(&b, "max-crawl-delay", co->max_crawl_delay);
        opt_request(&b, c);
        goto done;
    }
    for (size_t i = 0; i < co->nsitemaps; i++)
        opt_line(&b, "sitemap", co->sitemaps[i]);
    opt_line(&b, "format", c->format == ACR_FMT_JSON ? "json" : c->format == ACR_FMT_WRITEOUT ? "write-out" : "text");
    opt_line(&b, "write-out", c->format == ACR_FMT_WRITEOUT ? c->writeout : NULL);
    opt_request(&b, c);
    opt_line(&b, "output-dir", c->job.output_dir);
    opt_line(&b, "warc", c->warc);
    opt_num(&b, "warc-gzip", c->warc_gzip);
    opt_num(&b, "warc-max-size", c->warc_max_size);
done:
    acr_buf_putc(&b, '\0');
    if (b.oom) {
        acr_buf_release(&b);
        return NULL;
    }
    return b.p;
}

/* Whether --warc can name this file (said on stderr when not): its directory is
 * there, and it is neither the records' file nor inside the state's directory,
 * which it would wreck. Checked before anything is created. */
static bool warc_name_ok(const acr_keep *k)
{
    const acr_config *c = k->c;
    const char *slash = strrchr(c->warc, '/');
    char dir[4096];
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - c->warc) : 1, slash ? c->warc : ".");
    if (!dir[0])
        snprintf(dir, sizeof dir, "/");
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "acrawl: --warc %s: no directory %s\n", c->warc, dir);
        return false;
    }
    if (k->out_file && stat(c->warc, &st) == 0 && (uint64_t)st.st_dev == k->out_dev &&
        (uint64_t)st.st_ino == k->out_ino) {
        fprintf(stderr, "acrawl: --warc %s is the file the records go to\n", c->warc);
        return false;
    }
    if (!c->state_dir)
        return true;
    char *sdir = realpath(c->state_dir, NULL), *wdir = realpath(dir, NULL);
    bool inside = sdir && wdir && !strcmp(sdir, wdir);
    free(sdir);
    free(wdir);
    if (inside)
        fprintf(stderr, "acrawl: --warc %s is inside the --state directory %s\n", c->warc, c->state_dir);
    return !inside;
}

/* Opens the WARC: afresh, or (resume non-NULL) continuing where the state says the
 * last page done left it. 0, or an exit code with the reason printed. */
static int open_warc(acr_keep *k, const acr_warc_pos *resume)
{
    char software[256];
    snprintf(software, sizeof software, "acrawl/%s (%s)", ACRAWL_VERSION, acr_client_versions());
    acr_warc_opts wo = {.path = k->c->warc, .gzip = k->c->warc_gzip, .max_size = k->c->warc_max_size,
                        .software = software, .command_line = k->c->command_line};
    char err[512] = "";
    int rc = acr_warc_open(&k->warc, &wo, resume, err, sizeof err);
    if (rc == 0)
        return 0;
    fprintf(stderr, "acrawl: --warc: %s\n", err[0] ? err : acr_strerror(rc));
    /* A name that cannot be a file here is a usage error, as for --report-file; a
     * disk that fails is not. */
    if (resume && rc == -EINVAL) {
        fprintf(stderr, "acrawl: --warc: the archive is shorter than the state says it was (a power loss?): "
                        "move the state directory or the archive away to start afresh\n");
        return ACR_EXIT_FAILED;
    }
    bool bad_name = rc == -EINVAL || rc == -ENOENT || rc == -EACCES || rc == -EISDIR || rc == -ENOTDIR ||
                    rc == -EROFS || rc == -ENAMETOOLONG || rc == -EBUSY;
    return bad_name ? ACR_EXIT_USAGE : ACR_EXIT_FAILED;
}

int acr_keep_open(acr_keep *k, acr_config *c, int out_fd)
{
    memset(k, 0, sizeof *k);
    k->c = c;
    k->out_fd = out_fd;
    struct stat st, er;
    if (out_fd >= 0 && fstat(out_fd, &st) == 0 && S_ISREG(st.st_mode)) {
        k->out_file = true;
        k->out_dev = (uint64_t)st.st_dev;
        k->out_ino = (uint64_t)st.st_ino;
        k->out_base = (uint64_t)st.st_size;
        /* Messages in the same file (>> out 2>&1) would move it under the positions the
         * state keeps: then it is treated like a pipe, never cut back. */
        if (fstat(STDERR_FILENO, &er) == 0 && er.st_dev == st.st_dev && er.st_ino == st.st_ino) {
            k->out_file = false;
            if (c->state_dir && c->job.crawl.on)
                fprintf(stderr, "acrawl: --state: note: records and messages share a file, so a resume cannot "
                                "cut back the records of pages in flight at a crash (send stderr elsewhere)\n");
        }
    }
    if (c->warc && !warc_name_ok(k))
        return ACR_EXIT_USAGE; /* before a state is bound to it */
    if (!c->state_dir || !c->job.crawl.on)
        return c->warc ? open_warc(k, NULL) : 0; /* before anything is fetched */
    char *opts = acr_crawl_options(c, false);
    if (!opts) {
        fprintf(stderr, "acrawl: --state %s: out of memory\n", c->state_dir);
        return ACR_EXIT_FAILED;
    }
    char err[512] = "";
    int rc = acr_state_open(&k->state, c->state_dir, opts, err, sizeof err);
    free(opts);
    if (rc != 0) {
        fprintf(stderr, "acrawl: %s\n", err[0] ? err : acr_strerror(rc));
        return rc == -EINVAL || rc == -EBUSY ? ACR_EXIT_USAGE : ACR_EXIT_FAILED;
    }
    c->job.crawl.state = k->state;
    return 0;
}

/* A resumed crawl: records after the last page the state knows as done belong to
 * pages it fetches again, so the records file loses them (only when it is the same
 * file, and only what lies past that point). */
static void cut_records(acr_keep *k, const acr_state_pos *pos)
{
    if (!k->out_file || pos->records_ino == 0 || pos->records_dev != k->out_dev || pos->records_ino != k->out_ino)
        return;
    if (pos->records_off > k->out_base)
        fprintf(stderr, "acrawl: --state: warning: the records file is %llu bytes shorter than the last run left it: "
                        "records of pages done before may be missing from it\n",
                (unsigned long long)(pos->records_off - k->out_base));
    if (pos->records_off >= k->out_base)
        return;
    if (ftruncate(k->out_fd, (off_t)pos->records_off) != 0) {
        acr_keep_fail(k, -errno, "cannot cut the records file back to the last page done: %s", strerror(errno));
        return;
    }
    lseek(k->out_fd, 0, SEEK_END);
    fprintf(stderr, "acrawl: --state: %llu bytes of records after the last page done were cut off (those pages are "
                    "fetched again)\n",
            (unsigned long long)(k->out_base - pos->records_off));
    k->out_base = pos->records_off;
}

static void position(const acr_keep *k, const acr_output *out, acr_state_pos *pos);

/* Where this run's outputs begin goes into the journal before any record is written:
 * a run stopped before its first page was journaled done has then still told a
 * resume which file to cut back, and where. */
static int mark_start(acr_keep *k)
{
    acr_state_pos now;
    position(k, NULL, &now);
    char err[512] = "";
    int rc = acr_state_mark(k->state, &now);
    if (rc == 0)
        rc = acr_state_commit(k->state, err, sizeof err);
    if (rc == 0)
        return 0;
    fprintf(stderr, "acrawl: %s\n", err[0] ? err : acr_strerror(rc));
    return ACR_EXIT_FAILED;
}

int acr_keep_start(acr_keep *k, acr_job *job)
{
    const acr_crawl *crawl = acr_job_crawl(job);
    if (!k->state || !crawl)
        return 0;
    acr_state_pos pos = {0};
    acr_crawl_resumed(crawl, &pos, &k->before);
    cut_records(k, &pos);
    bool resuming = acr_state_resuming(k->state);
    if (resuming)
        fprintf(stderr, "acrawl: --state %s: resuming after %llu run%s: %llu pages done\n", k->c->state_dir,
                (unsigned long long)k->before.runs, k->before.runs == 1 ? "" : "s",
                (unsigned long long)k->before.pages);
    if (k->error)
        return ACR_EXIT_FAILED;
    /* Before the first page was done, there is nothing of the WARC to keep. */
    acr_warc_pos wp = {.file = pos.warc_file, .offset = pos.warc_off};
    int rc = k->c->warc ? open_warc(k, resuming && (wp.file || wp.offset) ? &wp : NULL) : 0;
    return rc ? rc : mark_start(k);
}

static void warc_write(acr_keep *k, acr_warc_capture *cap)
{
    if (!k->warc || !cap || k->error)
        return;
    int rc = acr_warc_write(k->warc, cap);
    if (rc == 0)
        return;
    if (acr_warc_error(k->warc)) {
        acr_keep_fail(k, rc, "--warc %s: %s", k->c->warc, acr_strerror(rc));
    } else if (rc == -ENOMEM) {
        fprintf(stderr, "acrawl: --warc: out of memory: an exchange is missing from the archive\n");
    } else {
        /* the capture's own spool: every large response would go missing the same way */
        const char *tmp = getenv("TMPDIR");
        acr_keep_fail(k, rc, "--warc: cannot keep a response in a temporary file in %s: %s", tmp && *tmp ? tmp : "/tmp",
                      acr_strerror(rc));
    }
}

/* Where the outputs stand now (after the record just given to out, if any). */
static void position(const acr_keep *k, const acr_output *out, acr_state_pos *pos)
{
    memset(pos, 0, sizeof *pos);
    if (k->out_file) {
        pos->records_dev = k->out_dev;
        pos->records_ino = k->out_ino;
        pos->records_off = k->out_base + (out ? acr_output_bytes(out) : k->out_bytes);
    }
    if (k->warc) {
        acr_warc_pos wp;
        acr_warc_pos_get(k->warc, &wp);
        pos->warc_file = wp.file;
        pos->warc_off = wp.offset;
    }
}

bool acr_keep_before(acr_keep *k, acr_record *r)
{
    /* A page cut short by a stop, or finished after a failure to keep (the state no
     * longer journals): the next run fetches it again, so no record now. */
    if (k->state && r->crawl && (r->error == ACR_ECANCELED || k->error)) {
        k->deferred++;
        return false;
    }
    if (r->warc && r->error)
        acr_warc_capture_fail(r->warc, r->url, r->error, acr_error_kind(r->error), r->message);
    warc_write(k, r->warc);
    return true;
}

void acr_keep_after(acr_keep *k, const acr_record *r, const acr_output *out)
{
    if (!k->state || !r->crawl || k->error)
        return;
    acr_state_pos pos;
    position(k, out, &pos);
    k->out_bytes = acr_output_bytes(out);
    if (acr_state_done(k->state, r->url, r->error == 0, r->raw_bytes, &pos) != 0)
        acr_keep_fail(k, -ENOMEM, "--state %s: out of memory", k->c->state_dir);
}

void acr_keep_commit(acr_keep *k)
{
    if (!k->state && !k->warc)
        return;
    if (k->state && !k->error) {
        char err[512] = "";
        int rc = acr_state_commit(k->state, err, sizeof err);
        if (rc != 0)
            acr_keep_fail(k, rc, "%s", err[0] ? err : acr_strerror(rc));
    }
    int64_t now = acr_now();
    if (now - k->last_sync < ACR_SEC)
        return;
    k->last_sync = now;
    /* The outputs first, then the journal: what a sync made durable of the journal
     * points into durable outputs (the kernel may still write the journal back
     * earlier: after a power loss a resume then finds the WARC short and says so). */
    if (k->warc && !k->error && acr_warc_sync(k->warc) != 0)
        acr_keep_fail(k, -EIO, "--warc %s: cannot sync it to disk", k->c->warc);
    if (k->out_file)
        fdatasync(k->out_fd);
    if (k->state && !k->error)
        acr_state_sync(k->state);
}

/* A robots.txt exchange: into the WARC, and the state's position moves past it, so
 * that a resume does not cut it off while the state keeps the rules it gave. */
void acr_keep_archive(void *arg, acr_warc_capture *cap)
{
    acr_keep *k = arg;
    warc_write(k, cap);
    if (!k->state || !k->warc || k->error)
        return;
    acr_state_pos pos;
    position(k, NULL, &pos);
    if (acr_state_mark(k->state, &pos) != 0)
        acr_keep_fail(k, -ENOMEM, "--state %s: out of memory", k->c->state_dir);
}

int acr_keep_close(acr_keep *k)
{
    int rc = 0;
    char err[512] = "";
    if (k->warc) {
        int w = acr_warc_close(k->warc, err, sizeof err);
        if (w != 0 && !k->error)
            acr_keep_fail(k, w, "--warc: %s", err[0] ? err : acr_strerror(w));
        rc = rc ? rc : w;
        k->warc = NULL;
    }
    if (k->state) {
        err[0] = 0;
        if (k->error)
            acr_state_discard(k->state);
        int s = acr_state_close(k->state, err, sizeof err);
        if (s != 0 && !k->error)
            acr_keep_fail(k, s, "%s", err[0] ? err : acr_strerror(s));
        rc = rc ? rc : s;
        k->state = NULL;
    }
    return rc ? rc : k->error;
}
