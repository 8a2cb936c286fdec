/* input.c -- line reader over a list of sources. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acrawl/error.h"
#include "acrawl/loop.h"
#include "acrawl/task.h"
#include "acrawl/url.h"
#include "input.h"
#include "util/alloc.h"

#define MAX_LINE (64 * 1024)

struct source {
    const char *name;
    int fd;             /* -1 for an argument URL */
    bool regular;
    bool direct;        /* epoll refused it (EPERM: /dev/null and the like): plain read() */
    acr_io *io;         /* for pipes and terminals, once read inside a task */
    int saved_flags;    /* file status flags to restore (io makes the fd non-blocking) */
};

struct acr_input {
    struct source *src;
    size_t n, cur;
    uint64_t lineno;
    char buf[65536];
    size_t start, end;  /* unread bytes in buf */
    char *line;         /* the line being assembled */
    size_t len, cap;
    bool skipping;      /* inside an over-long line */
    bool has_nul;       /* the line holds a NUL byte */
    bool oom;           /* the line could not be held: skipped, reported as such */
    bool arg_done;
    int64_t wait_ns;    /* time spent waiting for a pipe or terminal to deliver */
};

static bool is_url_arg(const char *s) { return strstr(s, "://") != NULL; }

int acr_input_open(acr_input **out, char *const *sources, size_t n, char *err, size_t errlen)
{
    acr_input *in = acr_calloc(1, sizeof *in);
    if (in)
        in->src = acr_calloc(n ? n : 1, sizeof *in->src);
    if (!in || !in->src) {
        free(in);
        snprintf(err, errlen, "reading the input: %s", strerror(ENOMEM));
        return -ENOMEM;
    }
    in->n = n;
    for (size_t i = 0; i < n; i++) {
        struct source *s = &in->src[i];
        s->name = sources[i];
        s->fd = -1;
        if (is_url_arg(s->name))
            continue;
        s->fd = strcmp(s->name, "-") ? open(s->name, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
        struct stat st;
        if (s->fd < 0 || fstat(s->fd, &st) != 0 || S_ISDIR(st.st_mode)) {
            int e = s->fd < 0 ? errno : (S_ISDIR(st.st_mode) ? EISDIR : errno);
            snprintf(err, errlen, "cannot read %s: %s", s->name, strerror(e));
            in->n = i + 1;
            acr_input_free(in);
            return -e;
        }
        s->regular = S_ISREG(st.st_mode);
    }
    *out = in;
    return 0;
}

void acr_input_free(acr_input *in)
{
    if (!in)
        return;
    for (size_t i = 0; i < in->n; i++) {
        struct source *s = &in->src[i];
        if (s->io) {
            acr_io_detach(s->io);
            fcntl(s->fd, F_SETFL, s->saved_flags); /* do not leave the shell's stdin non-blocking */
        }
        if (s->fd > STDIN_FILENO)
            close(s->fd);
    }
    free(in->src);
    free(in->line);
    free(in);
}

bool acr_input_finite(const acr_input *in)
{
    for (size_t i = in->cur; i < in->n; i++) {
        if (in->src[i].fd >= 0 && !in->src[i].regular && !in->src[i].direct)
            return false;
    }
    return true;
}

int64_t acr_input_wait_ns(const acr_input *in) { return in->wait_ns; }

/* Registers a pipe or terminal with the loop. Descriptors epoll refuses (EPERM:
 * /dev/null, other character devices that are always ready) are read directly. */
static int watch(struct source *s, char *err, size_t errlen)
{
    s->saved_flags = fcntl(s->fd, F_GETFL);
    int rc = acr_io_open(&s->io, s->fd);
    if (rc == 0)
        return 0;
    fcntl(s->fd, F_SETFL, s->saved_flags); /* acr_io_open made it non-blocking first */
    s->io = NULL;
    if (rc == -EPERM) {
        s->direct = true;
        return 0;
    }
    snprintf(err, errlen, "reading %s: cannot wait for input on it: %s", s->name, acr_strerror(rc));
    return rc;
}

/* Parks until s has data; counts the wait (it shows whether the input bounded the run). */
static int wait_readable(acr_input *in, struct source *s)
{
    int64_t t0 = acr_now();
    int rc = acr_io_wait(s->io, ACR_READABLE, ACR_FOREVER);
    in->wait_ns += acr_now() - t0;
    return rc;
}

/* Refills buf from the current source. >0 bytes, 0 at its end, or an error. */
static ssize_t fill(acr_input *in, struct source *s, char *err, size_t errlen)
{
    if (!s->regular && !s->direct && !s->io && acr_task_self()) {
        /* A pipe or terminal is read through the loop: a blocking read() here would
         * stall every task until the next line arrives. */
        int rc = watch(s, err, errlen);
        if (rc != 0)
            return rc;
    }
    bool timed = !s->regular && !s->direct;
    for (;;) {
        int64_t t0 = timed ? acr_now() : 0;
        ssize_t n = read(s->fd, in->buf, sizeof in->buf);
        if (timed)
            in->wait_ns += acr_now() - t0; /* the libcurl engine blocks in read() */
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        int e = errno;
        if (e == EAGAIN && s->io) {
            int rc = wait_readable(in, s);
            if (rc == ACR_ECANCELED)
                return rc;
            if (rc != 0) {
                snprintf(err, errlen, "reading %s: waiting for input: %s", s->name, acr_strerror(rc));
                return rc;
            }
            continue;
        }
        snprintf(err, errlen, "reading %s: %s", s->name, strerror(e));
        return -e;
    }
}

static int append(acr_input *in, const char *p, size_t n)
{
    if (in->skipping)
        return 0;
    if (in->len + n > MAX_LINE) {
        in->skipping = true;
        return 0;
    }
    if (in->len + n + 1 > in->cap) {
        size_t cap = in->cap ? in->cap * 2 : 256;
        while (cap < in->len + n + 1)
            cap *= 2;
        char *l = acr_realloc(in->line, cap);
        if (!l) {
            in->oom = in->skipping = true; /* the rest of the line is passed over */
            return 0;
        }
        in->line = l;
        in->cap = cap;
    }
    memcpy(in->line + in->len, p, n);
    if (memchr(p, 0, n))
        in->has_nul = true; /* the line is judged whole, not cut at the NUL */
    in->len += n;
    in->line[in->len] = 0;
    return 0;
}

/* Reads one raw line of the current file source into in->line. 1, 0 at its end, or an error. */
static int raw_line(acr_input *in, struct source *s, char *err, size_t errlen)
{
    in->len = 0;
    in->skipping = false;
    in->has_nul = false;
    in->oom = false;
    if (in->line)
        in->line[0] = 0;
    for (;;) {
        if (in->start == in->end) {
            if (acr_cancelled() && !s->regular)
                return ACR_ECANCELED;
            ssize_t n = fill(in, s, err, errlen);
            if (n < 0)
                return (int)n;
            if (n == 0)
                return in->len > 0 || in->skipping ? 1 : 0;
            in->start = 0;
            in->end = (size_t)n;
        }
        char *b = in->buf + in->start;
        char *nl = memchr(b, '\n', in->end - in->start);
        size_t take = nl ? (size_t)(nl - b) : in->end - in->start;
        if (append(in, b, take) != 0) {
            snprintf(err, errlen, "reading %s: line %llu: %s", s->name, (unsigned long long)in->lineno + 1,
                     strerror(ENOMEM));
            return -ENOMEM;
        }
        in->start += take + (nl ? 1 : 0);
        if (nl)
            return 1;
    }
}

/* Writes each NUL byte of the line as the two characters \0, so the record shows
 * the whole line. 0 or -ENOMEM. */
static int show_nuls(acr_input *in)
{
    size_t nuls = 0;
    for (size_t i = 0; i < in->len; i++)
        if (in->line[i] == 0)
            nuls++;
    if (in->len + nuls + 1 > in->cap) {
        char *l = acr_realloc(in->line, in->len + nuls + 1);
        if (!l)
            return -ENOMEM;
        in->line = l;
        in->cap = in->len + nuls + 1;
    }
    size_t to = in->len + nuls;
    in->line[to] = 0;
    for (size_t from = in->len; from-- > 0;) {
        char c = in->line[from];
        in->line[--to] = c ? c : '0';
        if (!c)
            in->line[--to] = '\\';
    }
    in->len += nuls;
    return 0;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\f' || *s == '\v')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\f' || s[n - 1] == '\v'))
        s[--n] = 0;
    return s;
}

int acr_input_next(acr_input *in, uint64_t *lineno, const char **text, char *err, size_t errlen)
{
    while (in->cur < in->n) {
        struct source *s = &in->src[in->cur];
        if (s->fd < 0) { /* an argument URL is one line */
            in->cur++;
            *lineno = ++in->lineno;
            *text = s->name;
            return 1;
        }
        int rc = raw_line(in, s, err, errlen);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            in->cur++;
            in->start = in->end = 0;
            continue;
        }
        *lineno = ++in->lineno;
        if (in->oom) {
            *text = "(out of memory)";
            return ACR_INPUT_OOM;
        }
        if (in->skipping) {
            *text = "(line too long)";
            return ACR_ETOOLARGE;
        }
        if (in->has_nul && show_nuls(in) != 0) {
            *text = "(out of memory)";
            return ACR_INPUT_OOM;
        }
        char *t = trim(in->line);
        if (*t == 0 || *t == '#')
            continue;
        *text = t;
        return in->has_nul ? ACR_INPUT_NUL : 1;
    }
    return 0;
}

int acr_input_url(uint64_t lineno, const char *text, int read_rc, acr_url *u, char *msg, size_t len)
{
    char why[200] = "line longer than 64 KiB";
    int rc = ACR_EBADURL;
    if (read_rc == ACR_INPUT_NUL) {
        snprintf(why, sizeof why, "the line contains a NUL byte (shown as \\0)");
    } else if (read_rc == ACR_INPUT_OOM) {
        snprintf(why, sizeof why, "out of memory: the line could not be read");
        rc = -ENOMEM;
    } else if (read_rc != ACR_ETOOLARGE) {
        rc = acr_url_parse(u, text, why, sizeof why);
        if (rc == 0)
            return 0;
        if (rc != -ENOMEM)
            rc = ACR_EBADURL;
    }
    snprintf(msg, len, "line %llu: %s", (unsigned long long)lineno, why);
    return rc;
}
