/* fuzz_http1.c -- acr_http1_response (llhttp, chunked framing, decoding, limits) on
 * server bytes from the input, written into a socketpair by a task on the loop.
 * Byte 0 picks the read options, byte 1 how the bytes are split, the rest is sent. */
#include <fcntl.h>
#include <string.h>
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

static int devnull = -1;

static int read_main(void *arg)
{
    struct run *r = arg;
    acr_stream s = {.fd = r->sv[0]};
    r->rc = acr_io_open(&s.io, r->sv[0]);
    if (r->rc == 0) {
        acr_http1_read rd = {.method = r->opts & OPT_HEAD ? "HEAD" : "GET", .decode = r->opts & OPT_DECODE,
                             .keep_body = r->opts & OPT_KEEP_BODY, .follow = r->opts & OPT_FOLLOW,
                             .body_fd = r->opts & OPT_BODY_FD ? devnull : 0, .lim = &r->lim};
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

/* Until the reader has taken every byte sent so far (or is gone). */
static void wait_drained(struct run *r)
{
    int queued = 1;
    while (!r->reader_done && ioctl(r->sv[1], FIONREAD, &queued) == 0 && queued > 0)
        acr_yield();
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
    devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static acr_loop *loop; /* one loop for the process: its stacks are pooled */
    if (!loop)
        loop = acr_loop_new(NULL);
    FUZZ_CHECK(loop, "loop created");
    if (size < 2)
        return 0;
    struct run r = {.bytes = data + 2, .len = size - 2, .opts = data[0], .split = data[1]};
    r.lim.max_header = r.opts & OPT_SMALL_HEAD ? 256 : 64 * 1024;
    r.lim.max_body = r.opts & OPT_SMALL_BODY ? 4096 : 0;
    r.lim.max_ratio = r.opts & OPT_SMALL_BODY ? 10 : 1000;
    FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, r.sv) == 0, "socketpair");

    acr_task *w;
    FUZZ_CHECK(acr_spawn(loop, &r.reader, read_main, &r) == 0, "spawn reader");
    FUZZ_CHECK(acr_spawn(loop, &w, write_main, &r) == 0, "spawn writer");
    int rc = acr_loop_run(loop);
    FUZZ_CHECK(rc == 0, "loop runs to the end");
    FUZZ_CHECK(acr_task_done(r.reader) && acr_task_done(w), "both tasks finished");
    acr_task_unref(r.reader);
    acr_task_unref(w);
    FUZZ_CHECK(r.sv[0] < 0 && r.sv[1] < 0, "both ends closed");

    check(&r);
    acr_response_release(&r.resp);
    return 0;
}
