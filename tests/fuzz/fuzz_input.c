/* fuzz_input.c -- the URL list reader (acr_input_next, acr_input_url) on a file whose
 * bytes are the input, read twice in a row and followed by an argument URL; then the
 * same bytes through a pipe in chunks, read in a task, must give the same lines. */
#include <fcntl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "acrawl/error.h"
#include "acrawl/loop.h"
#include "acrawl/task.h"
#include "acrawl/url.h"
#include "fuzz.h"
#include "jobs/input.h"

#define ARG_URL "http://arg.example/"

static int memfd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    memfd = memfd_create("fuzz-input", MFD_CLOEXEC);
    /* The writer task sleeps 1 us per chunk; the default 50 us timer slack would make
     * that most of the run time. */
    prctl(PR_SET_TIMERSLACK, 1UL);
    snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
    return 0;
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

/* Input lines in the bytes: every '\n' ends one, and a last line without one counts. */
static uint64_t count_lines(const uint8_t *data, size_t size)
{
    uint64_t n = 0;
    for (size_t i = 0; i < size; i++)
        n += data[i] == '\n';
    return n + (size > 0 && data[size - 1] != '\n');
}

/* What acr_input_next gives for a line: a line, one holding NUL bytes (shown as
 * \0), one that could not be held in memory, or an over-long one. */
static bool is_line_rc(int rc)
{
    return rc == 1 || rc == ACR_INPUT_NUL || rc == ACR_INPUT_OOM || rc == ACR_ETOOLARGE;
}

static void check_line(uint64_t lineno, const char *text, int rc)
{
    FUZZ_CHECK(text, "text set");
    if (rc == ACR_ETOOLARGE) {
        FUZZ_CHECK(!strcmp(text, "(line too long)"), "an over-long line is named");
    } else {
        size_t n = strlen(text);
        /* A NUL line shows each NUL as the two characters \0. */
        FUZZ_CHECK(n > 0 && n <= (rc == ACR_INPUT_NUL ? 128 : 64) * 1024, "a line is not empty and at most 64 KiB");
        FUZZ_CHECK(text[0] != '#', "comments are skipped");
        FUZZ_CHECK(!is_space(text[0]) && !is_space(text[n - 1]), "whitespace is trimmed");
        FUZZ_CHECK(!strchr(text, '\n'), "one line at a time");
    }
    acr_url u;
    char msg[300] = "";
    int urc = acr_input_url(lineno, text, rc, &u, msg, sizeof msg);
    if (urc == 0) {
        FUZZ_CHECK(rc == 1, "an over-long line is never a URL");
        acr_url_release(&u);
        return;
    }
    FUZZ_CHECK(urc == ACR_EBADURL || (urc == -ENOMEM && rc == ACR_INPUT_OOM), "a bad line is bad-url");
    char want[32];
    snprintf(want, sizeof want, "line %llu: ", (unsigned long long)lineno);
    FUZZ_CHECK(!strncmp(msg, want, strlen(want)), "the message names the line");
}

/* The lines of the first copy, as read from the file, to compare the pipe with. */
struct line {
    uint64_t lineno;
    int rc;
    char *text;
};

static struct line *lines;
static size_t nlines, caplines;

static void keep_line(uint64_t lineno, int rc, const char *text)
{
    if (nlines == caplines) {
        caplines = caplines ? caplines * 2 : 64;
        lines = realloc(lines, caplines * sizeof *lines);
        FUZZ_CHECK(lines, "memory for the line list");
    }
    lines[nlines].lineno = lineno;
    lines[nlines].rc = rc;
    lines[nlines].text = strdup(text);
    FUZZ_CHECK(lines[nlines].text, "memory for a line");
    nlines++;
}

static void drop_lines(void)
{
    for (size_t i = 0; i < nlines; i++)
        free(lines[i].text);
    nlines = 0;
}

/* A regular file, read directly (outside any task): both copies, then the argument. */
static void read_file(const uint8_t *data, size_t size)
{
    FUZZ_CHECK(ftruncate(memfd, 0) == 0, "truncate");
    FUZZ_CHECK(pwrite(memfd, data, size, 0) == (ssize_t)size, "write the input");
    char *sources[] = {path, path, ARG_URL};
    acr_input *in;
    char err[256];
    FUZZ_CHECK(acr_input_open(&in, sources, 3, err, sizeof err) == 0, "open");
    FUZZ_CHECK(acr_input_finite(in), "files and arguments are finite");

    uint64_t last = 0, lineno = 0, first_copy = count_lines(data, size);
    const char *text = NULL;
    for (;;) {
        int rc = acr_input_next(in, &lineno, &text, err, sizeof err);
        if (rc == 0)
            break;
        FUZZ_CHECK(is_line_rc(rc), "a line, a NUL line, an over-long line");
        FUZZ_CHECK(lineno > last, "line numbers increase");
        last = lineno;
        check_line(lineno, text, rc);
        if (lineno <= first_copy)
            keep_line(lineno, rc, text);
    }
    /* The argument URL is the last line; every line of both copies counted before it. */
    FUZZ_CHECK(text && !strcmp(text, ARG_URL), "the argument comes last");
    FUZZ_CHECK(last == 2 * first_copy + 1, "every input line is counted");
    FUZZ_CHECK(acr_input_next(in, &lineno, &text, err, sizeof err) == 0, "the end stays the end");
    acr_input_free(in);
}

/* ---- the same bytes through a pipe, read inside a task while a writer task
 * sends them in chunks: the lines must be the file's. ---- */

struct piped {
    const uint8_t *data;
    size_t size, max;   /* chunks of 1..max bytes */
    uint32_t seed;
    int rfd, wfd;
    char rpath[64];
    bool reader_done;
    size_t got;         /* lines compared */
};

static int pipe_reader(void *arg)
{
    struct piped *p = arg;
    char *sources[] = {p->rpath, ARG_URL};
    acr_input *in;
    char err[256];
    FUZZ_CHECK(acr_input_open(&in, sources, 2, err, sizeof err) == 0, "open the pipe");
    FUZZ_CHECK(!acr_input_finite(in), "a pipe is not finite");
    uint64_t lineno;
    const char *text;
    for (;;) {
        int rc = acr_input_next(in, &lineno, &text, err, sizeof err);
        if (rc == 0)
            break;
        FUZZ_CHECK(is_line_rc(rc), "a line, a NUL line, an over-long line from a pipe");
        if (p->got == nlines) {
            FUZZ_CHECK(!strcmp(text, ARG_URL), "nothing but the argument after the pipe's lines");
            continue;
        }
        const struct line *l = &lines[p->got++];
        FUZZ_CHECK(l->lineno == lineno && l->rc == rc, "same line numbers from a pipe as from a file");
        FUZZ_CHECK(!strcmp(l->text, text), "same text from a pipe as from a file");
    }
    FUZZ_CHECK(p->got == nlines, "every line from the pipe");
    acr_input_free(in);
    p->reader_done = true;
    return 0;
}

static int pipe_writer(void *arg)
{
    struct piped *p = arg;
    size_t off = 0;
    while (off < p->size && !p->reader_done) {
        size_t n = fuzz_chunk(&p->seed, p->max, p->size - off);
        ssize_t w = write(p->wfd, p->data + off, n);
        FUZZ_CHECK(w == (ssize_t)n, "a chunk of at most PIPE_BUF goes in whole");
        off += n;
        int queued = 1; /* until the reader took it, so it reads this chunk alone */
        while (!p->reader_done && ioctl(p->rfd, FIONREAD, &queued) == 0 && queued > 0)
            acr_sleep_for(1000);
    }
    close(p->wfd);
    return 0;
}

static void read_pipe(const uint8_t *data, size_t size)
{
    static acr_loop *loop; /* one for the process: stacks stay pooled */
    if (!loop)
        loop = acr_loop_new(NULL);
    FUZZ_CHECK(loop, "loop");
    /* Split points from the bytes themselves (FNV-1a), so a crash replays. Big
     * inputs get bigger chunks: one epoll round per chunk. */
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 16777619u;
    static const size_t maxes[] = {1, 7, 64, 4096};
    struct piped p = {.data = data, .size = size, .seed = h, .max = maxes[h % 4]};
    if (size > 8192 && p.max < 512)
        p.max = 512;
    int fds[2];
    FUZZ_CHECK(pipe2(fds, O_CLOEXEC) == 0, "pipe");
    p.rfd = fds[0];
    p.wfd = fds[1];
    snprintf(p.rpath, sizeof p.rpath, "/proc/self/fd/%d", p.rfd);
    acr_task *r, *w;
    FUZZ_CHECK(acr_spawn(loop, &r, pipe_reader, &p) == 0, "spawn reader");
    FUZZ_CHECK(acr_spawn(loop, &w, pipe_writer, &p) == 0, "spawn writer");
    FUZZ_CHECK(acr_loop_run(loop) == 0, "loop runs to the end");
    acr_task_unref(r);
    acr_task_unref(w);
    close(p.rfd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FUZZ_CHECK(memfd >= 0, "memfd");
    read_file(data, size);
    read_pipe(data, size);
    drop_lines();
    return 0;
}
