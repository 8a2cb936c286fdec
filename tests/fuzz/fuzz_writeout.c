/* fuzz_writeout.c -- -w templates: acr_output_check_writeout, then rendering records
 * in every format. The input is "template\0url\0message": the URL and the error
 * message (the server's or the resolver's words) are untrusted bytes too. */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "acrawl/error.h"
#include "app/output.h"
#include "fuzz.h"

static int memfd = -1;
static char rendered[1 << 20];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    memfd = memfd_create("fuzz-writeout", MFD_CLOEXEC);
    return 0;
}

/* The next NUL-separated field of the input, or "" past its end. */
static const char *field(const char **p, const char *end)
{
    if (*p >= end)
        return "";
    const char *s = *p;
    *p += strlen(s) + 1;
    return s;
}

/* Renders r in fmt into rendered[]; returns its length. */
static size_t render(acr_format fmt, const char *wfmt, const acr_record *r)
{
    static acr_output o; /* 64 KiB buffer */
    FUZZ_CHECK(ftruncate(memfd, 0) == 0 && lseek(memfd, 0, SEEK_SET) == 0, "reset memfd");
    acr_output_init(&o, memfd, fmt, wfmt);
    FUZZ_CHECK(acr_output_record(&o, r) == 0, "record written");
    FUZZ_CHECK(acr_output_flush(&o) == 0, "flushed");
    ssize_t n = pread(memfd, rendered, sizeof rendered - 1, 0);
    FUZZ_CHECK(n >= 0, "read back");
    rendered[n] = 0;
    return (size_t)n;
}

/* Fields stay where awk and cut expect them: line status bytes ms url [kind message]. */
static void check_text(size_t n, const acr_record *r)
{
    FUZZ_CHECK(n > 0 && rendered[n - 1] == '\n', "a text record is one line");
    FUZZ_CHECK(memchr(rendered, '\n', n) == rendered + n - 1, "no newline inside a text record");
    FUZZ_CHECK(!memchr(rendered, '\r', n), "no CR inside a text record");
    size_t tabs = 0;
    for (size_t i = 0; i < n; i++)
        tabs += rendered[i] == '\t';
    FUZZ_CHECK(tabs == (r->error ? 6u : 4u), "a text record has its fixed number of fields");
}

static void check_json(size_t n)
{
    FUZZ_CHECK(n > 1 && rendered[n - 1] == '\n' && rendered[0] == '{', "a JSON record is one object");
    for (size_t i = 0; i + 1 < n; i++)
        FUZZ_CHECK((unsigned char)rendered[i] >= 0x20, "control characters are escaped in JSON");
}

static bool plain(const char *s) { return !strchr(s, '%') && !strchr(s, '\\'); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FUZZ_CHECK(memfd >= 0, "memfd");
    char *in = malloc(size + 1);
    if (!in)
        return 0;
    memcpy(in, data, size);
    in[size] = 0;
    const char *p = in, *end = in + size;
    const char *wfmt = field(&p, end);
    const char *url = field(&p, end);
    const char *message = field(&p, end);

    char bad[128];
    const char *unknown = acr_output_check_writeout(wfmt, bad, sizeof bad);
    if (unknown) {
        FUZZ_CHECK(unknown == bad, "the name is in the caller's buffer");
        FUZZ_CHECK(strlen(unknown) < sizeof bad, "the name fits");
    }

    acr_record ok = {.line = 7, .seq = 3, .url = (char *)url, .final_url = (char *)url, .status = 200,
                     .raw_bytes = 1234, .body_bytes = 5678, .redirects = 2, .attempt = 1,
                     .t = {.queue = 1000, .dns = 2000000, .connect = 3000000, .tls = 4000000, .ttfb = 9000000,
                           .total = 12345678}};
    acr_record failed = {.line = UINT64_MAX, .url = (char *)url, .error = ACR_ETIMEOUT, .attempt = 3,
                         .saved = (char *)message, .t = {.total = INT64_MAX}};
    snprintf(failed.message, sizeof failed.message, "%s", message);
    const acr_record *recs[] = {&ok, &failed};
    for (size_t i = 0; i < 2; i++) {
        check_text(render(ACR_FMT_TEXT, NULL, recs[i]), recs[i]);
        check_json(render(ACR_FMT_JSON, NULL, recs[i]));
        if (unknown)
            continue;
        size_t n = render(ACR_FMT_WRITEOUT, wfmt, recs[i]);
        if (plain(wfmt))
            FUZZ_CHECK(n == strlen(wfmt) && !memcmp(rendered, wfmt, n), "a plain template is copied");
    }
    free(in);
    return 0;
}
