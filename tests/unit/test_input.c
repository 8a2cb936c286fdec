/* test_input.c -- the line reader: NUL bytes, and descriptors epoll refuses. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "acrawl/url.h"
#include "helpers.h"
#include "jobs/input.h"

/* A temporary file holding len bytes of data; its path in path. */
static void write_file(char *path, size_t pathlen, const char *data, size_t len)
{
    snprintf(path, pathlen, "/tmp/acrawl-test-input-XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, data, len), (ssize_t)len);
    close(fd);
}

Test(input, a_nul_byte_makes_a_bad_url_line_shown_whole)
{
    static const char data[] = "http://a.test/x\0y\n#c\0omment\nhttp://b.test/\n";
    char path[64];
    write_file(path, sizeof path, data, sizeof data - 1);
    char *src[] = {path};
    acr_input *in;
    char err[256] = "";
    cr_assert_eq(acr_input_open(&in, src, 1, err, sizeof err), 0, "%s", err);
    uint64_t line;
    const char *text;
    cr_assert_eq(acr_input_next(in, &line, &text, err, sizeof err), ACR_INPUT_NUL);
    cr_assert_eq(line, 1);
    cr_assert_str_eq(text, "http://a.test/x\\0y");
    acr_url u;
    char msg[256];
    cr_assert_eq(acr_input_url(line, text, ACR_INPUT_NUL, &u, msg, sizeof msg), ACR_EBADURL);
    cr_assert(strstr(msg, "line 1: ") && strstr(msg, "NUL byte"), "%s", msg);
    cr_assert_eq(acr_input_next(in, &line, &text, err, sizeof err), 1, "the comment is skipped");
    cr_assert_eq(line, 3);
    cr_assert_str_eq(text, "http://b.test/");
    cr_assert_eq(acr_input_next(in, &line, &text, err, sizeof err), 0);
    acr_input_free(in);
    unlink(path);
}

/* Reads /dev/null as standard input inside a task, where pipes go through epoll. */
static int read_dev_null(void *arg)
{
    (void)arg;
    char *src[] = {"-"};
    acr_input *in;
    char err[256] = "";
    cr_assert_eq(acr_input_open(&in, src, 1, err, sizeof err), 0, "%s", err);
    uint64_t line;
    const char *text;
    int rc = acr_input_next(in, &line, &text, err, sizeof err);
    cr_assert_eq(rc, 0, "rc %d, err \"%s\"", rc, err);
    cr_assert(acr_input_finite(in));
    acr_input_free(in);
    return 0;
}

Test(input, dev_null_on_stdin_inside_a_task_is_empty_input)
{
    int fd = open("/dev/null", O_RDONLY);
    cr_assert_geq(fd, 0);
    cr_assert_eq(dup2(fd, STDIN_FILENO), STDIN_FILENO);
    close(fd);
    int before = fcntl(STDIN_FILENO, F_GETFL);
    cr_assert_eq(run_in_loop(read_dev_null, NULL), 0);
    cr_assert_eq(fcntl(STDIN_FILENO, F_GETFL), before, "stdin's flags are left as they were");
}
