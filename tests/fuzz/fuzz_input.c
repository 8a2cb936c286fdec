/* fuzz_input.c -- the URL list reader (acr_input_next, acr_input_url) on a file whose
 * bytes are the input, read twice in a row and followed by an argument URL. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "acrawl/error.h"
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

static void check_line(uint64_t lineno, const char *text, int rc)
{
    FUZZ_CHECK(text, "text set");
    if (rc == ACR_ETOOLARGE) {
        FUZZ_CHECK(!strcmp(text, "(line too long)"), "an over-long line is named");
    } else {
        size_t n = strlen(text);
        FUZZ_CHECK(n > 0 && n <= 64 * 1024, "a line is not empty and at most 64 KiB");
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
    FUZZ_CHECK(urc == ACR_EBADURL, "a bad line is bad-url");
    char want[32];
    snprintf(want, sizeof want, "line %llu: ", (unsigned long long)lineno);
    FUZZ_CHECK(!strncmp(msg, want, strlen(want)), "the message names the line");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FUZZ_CHECK(memfd >= 0, "memfd");
    FUZZ_CHECK(ftruncate(memfd, 0) == 0, "truncate");
    FUZZ_CHECK(pwrite(memfd, data, size, 0) == (ssize_t)size, "write the input");

    char *sources[] = {path, path, ARG_URL};
    acr_input *in;
    char err[256];
    FUZZ_CHECK(acr_input_open(&in, sources, 3, err, sizeof err) == 0, "open");
    FUZZ_CHECK(acr_input_finite(in), "files and arguments are finite");

    uint64_t last = 0, lineno = 0;
    const char *text = NULL;
    for (;;) {
        int rc = acr_input_next(in, &lineno, &text, err, sizeof err);
        if (rc == 0)
            break;
        FUZZ_CHECK(rc == 1 || rc == ACR_ETOOLARGE, "a line or an over-long line");
        FUZZ_CHECK(lineno > last, "line numbers increase");
        last = lineno;
        check_line(lineno, text, rc);
    }
    /* The argument URL is the last line; every line of both copies counted before it. */
    FUZZ_CHECK(text && !strcmp(text, ARG_URL), "the argument comes last");
    FUZZ_CHECK(last == 2 * count_lines(data, size) + 1, "every input line is counted");
    FUZZ_CHECK(acr_input_next(in, &lineno, &text, err, sizeof err) == 0, "the end stays the end");
    acr_input_free(in);
    return 0;
}
