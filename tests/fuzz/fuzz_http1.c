/* fuzz_http1.c -- acr_http1_response (llhttp, chunked framing, decoding, limits) on
 * server bytes from the input, written into a socketpair by a task on the loop.
 * Byte 0 picks the read options, byte 1 how the bytes are split, the rest is sent. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "acrawl/error.h"
#include "acrawl/loop.h"
#include "acrawl/task.h"
#include "fuzz.h"
#include "http/http1.h"

enum {
    OPT_HEAD = 1 << 0,
    OPT_DECODE = 1 << 1,
    OPT_KEEP_BODY = 1 << 2,
    OPT_FOLLOW = 1 << 3,
    OPT_CANCEL = 1 << 4,      /* no EOF: cancel the reader once it has read everything */
    OPT_SMALL_HEAD = 1 << 5,  /* 256 bytes of headers */
    OPT_SMALL_BODY = 1 << 6,  /* 4096 body bytes, ratio 10 */
    OPT_BODY_FD = 1 << 7,     /* body written to /dev/null */
};

struct run {
    const uint8_t *bytes;
    size_t len;
    uint8_t opts, split;
    int sv[2];
    acr_task *reader;
    bool reader_done;
    acr_response resp;
    acr_http1_result res;
    acr_http1_limits lim;
    int rc;
};

/* The body sink of OPT_BODY_FD: counts what it is given, as -o's writer would take it. */
static uint64_t sunk;

static int count_sink(void *arg, const char *data, size_t len, char *msg, size_t msglen)
{
    (void)arg;
    (void)data;
    (void)msg;
    (void)msglen;
    sunk += len;
    return 0;
}

static int read_main(void *arg)
{
    struct run *r = arg;
    acr_stream s = {.fd = r->sv[0]};
    r->rc = acr_io_open(&s.io, r->sv[0]);
    if (r->rc == 0) {
        acr_http1_read rd = {.method = r->opts & OPT_HEAD ? "HEAD" : "GET", .decode = r->opts & OPT_DECODE,
                             .keep_body = r->opts & OPT_KEEP_BODY, .follow = r->opts & OPT_FOLLOW,
                             .sink = r->opts & OPT_BODY_FD ? count_sink : NULL, .lim = &r->lim};
        /* Every byte is there and then EOF or a cancel comes: the deadline is a hang. */
        r->rc = acr_http1_response(&s, &rd, acr_deadline_in(5 * ACR_SEC), &r->resp, &r->res);
        acr_stream_close(&s);
    } else {
        close(r->sv[0]);
    }
    r->sv[0] = -1;
    r->reader_done = true;
    return 0;
}

/* Until the reader has taken every byte sent so far (or is gone): FIONREAD on the
 * reader's end counts what it has not read yet. A short sleep rather than a yield,
 * so the loop polls epoll (and wakes the reader) at once instead of after a pass. */
static void wait_drained(struct run *r)
{
    int queued = 1;
    while (!r->reader_done && ioctl(r->sv[0], FIONREAD, &queued) == 0 && queued > 0)
        acr_sleep_for(1000);
}

static int write_main(void *arg)
{
    struct run *r = arg;
    uint32_t seed = r->split * 0x01000193u;
    size_t off = 0;
    while (off < r->len && !r->reader_done) {
        size_t n = r->split ? fuzz_chunk(&seed, r->split, r->len - off) : r->len - off;
        ssize_t w = send(r->sv[1], r->bytes + off, n, MSG_NOSIGNAL);
        if (w <= 0)
            break; /* the reader closed early */
        off += (size_t)w;
        if (r->split)
            wait_drained(r); /* so the reader sees this chunk on its own */
    }
    if (r->opts & OPT_CANCEL) {
        wait_drained(r);
        if (!r->reader_done)
            acr_task_cancel(r->reader);
    }
    close(r->sv[1]);
    r->sv[1] = -1;
    return 0;
}

static void check(const struct run *r)
{
    const acr_response *p = &r->resp;
    int rc = r->rc;
    FUZZ_CHECK(rc == 0 || rc == ACR_EPROTO || rc == ACR_ETOOLARGE || rc == ACR_ERESET || rc == -ENOMEM ||
                   (rc == ACR_ECANCELED && (r->opts & OPT_CANCEL)),
               "a documented outcome (not a timeout: the peer closed or cancelled)");
    FUZZ_CHECK(memchr(p->message, 0, sizeof p->message), "message terminated");
    FUZZ_CHECK(rc == 0 || p->message[0], "an error has a message");
    FUZZ_CHECK(rc == 0 || !r->res.keep_alive, "no reuse after an error");
    FUZZ_CHECK(p->raw_bytes <= r->len, "raw body bytes come from the input");
    if (rc != 0)
        return;
    FUZZ_CHECK(p->status >= 100 && p->status <= 999, "status has three digits");
    FUZZ_CHECK(p->status >= 200 || p->status == 101, "1xx responses are skipped");
    if (r->opts & OPT_HEAD)
        FUZZ_CHECK(p->body_bytes == 0, "HEAD has no body");
    if (!(r->opts & OPT_DECODE))
        FUZZ_CHECK(p->raw_bytes == p->body_bytes, "no decoding: body is the raw bytes");
    if ((r->opts & OPT_KEEP_BODY) && !(r->opts & OPT_FOLLOW)) {
        FUZZ_CHECK(p->body_len == p->body_bytes, "kept body is the whole body");
        FUZZ_CHECK(!p->body || p->body[p->body_len] == 0, "kept body is NUL-terminated");
    }
    if (r->opts & OPT_SMALL_BODY)
        FUZZ_CHECK(p->body_bytes <= 4096, "body limit holds");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* The writer task sleeps 1 us per chunk; the default 50 us timer slack would make
     * that most of the run time. */
    prctl(PR_SET_TIMERSLACK, 1UL);
    return 0;
}

/* One read of the bytes split as split says; r is left for the caller to release. */
static void run_once(acr_loop *loop, const uint8_t *data, size_t size, uint8_t split, struct run *r)
{
    *r = (struct run){.bytes = data + 2, .len = size - 2, .opts = data[0], .split = split};
    r->lim.max_header = r->opts & OPT_SMALL_HEAD ? 256 : 64 * 1024;
    r->lim.max_body = r->opts & OPT_SMALL_BODY ? 4096 : 0;
    r->lim.max_ratio = r->opts & OPT_SMALL_BODY ? 10 : 1000;
    FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, r->sv) == 0, "socketpair");

    acr_task *w;
    FUZZ_CHECK(acr_spawn(loop, &r->reader, read_main, r) == 0, "spawn reader");
    FUZZ_CHECK(acr_spawn(loop, &w, write_main, r) == 0, "spawn writer");
    int rc = acr_loop_run(loop);
    FUZZ_CHECK(rc == 0, "loop runs to the end");
    FUZZ_CHECK(acr_task_done(r->reader) && acr_task_done(w), "both tasks finished");
    acr_task_unref(r->reader);
    acr_task_unref(w);
    FUZZ_CHECK(r->sv[0] < 0 && r->sv[1] < 0, "both ends closed");
    check(r);
}

/* The decompression-ratio limit is checked as chunks arrive, so where it trips
 * depends on the split by design. */
static bool ratio_limit(const struct run *r)
{
    return r->rc == ACR_ETOOLARGE && strstr(r->resp.message, "ratio");
}

/* A response over a limit and malformed too: which trips first depends on how llhttp
 * cut its callback spans, and so on the split. Either way it fails. */
static bool two_faults(const struct run *a, const struct run *b)
{
    return a->rc != 0 && b->rc != 0 && (a->rc == ACR_ETOOLARGE || b->rc == ACR_ETOOLARGE);
}

/* Where the bytes are split must not change the outcome. keep_alive may: bytes past
 * the response only spoil reuse when they arrive in the same read. */
static void compare(const struct run *a, const struct run *b)
{
    if (getenv("FUZZ_DEBUG"))
        fprintf(stderr, "split rc=%d [%s] whole rc=%d [%s]\n", a->rc, a->resp.message, b->rc, b->resp.message);
    if (ratio_limit(a) || ratio_limit(b) || two_faults(a, b))
        return;
    FUZZ_CHECK(a->rc == b->rc, "same outcome split or whole");
    FUZZ_CHECK(a->resp.status == b->resp.status, "same status split or whole");
    if (a->rc != 0)
        return;
    FUZZ_CHECK(a->resp.raw_bytes == b->resp.raw_bytes, "same raw bytes split or whole");
    FUZZ_CHECK(a->resp.body_bytes == b->resp.body_bytes, "same body bytes split or whole");
    FUZZ_CHECK(a->resp.headers.n == b->resp.headers.n, "same headers split or whole");
    FUZZ_CHECK(a->resp.body_len == b->resp.body_len &&
                   (!a->resp.body_len || !memcmp(a->resp.body, b->resp.body, a->resp.body_len)),
               "same body split or whole");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static acr_loop *loop; /* one loop for the process: its stacks are pooled */
    static struct run split, whole;
    if (!loop)
        loop = acr_loop_new(NULL);
    FUZZ_CHECK(loop, "loop created");
    if (size < 2)
        return 0;
    run_once(loop, data, size, data[1], &split);
    if (data[1] != 0) {
        run_once(loop, data, size, 0, &whole);
        compare(&split, &whole);
        acr_response_release(&whole.resp);
    }
    acr_response_release(&split.resp);
    return 0;
}
