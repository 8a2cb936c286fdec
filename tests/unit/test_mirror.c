/* test_mirror.c -- jobs/mirror: paths under the -o directory for crawled pages. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "jobs/mirror.h"

static char root[64];
static int rootfd;

static void setup(void)
{
    snprintf(root, sizeof root, "/tmp/acrawl-mirror-XXXXXX");
    cr_assert_not_null(mkdtemp(root));
    rootfd = open(root, O_RDONLY | O_DIRECTORY);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    cr_assert_eq(system(cmd), 0);
    close(rootfd);
}

static void opens_as(const char *url, const char *want)
{
    char *saved = NULL;
    int fd = acr_mirror_open(rootfd, url, &saved);
    cr_assert_geq(fd, 0, "%s: %s", url, strerror(-fd));
    cr_assert_str_eq(saved, want);
    close(fd);
    free(saved);
}

Test(mirror, paths_follow_the_url_and_stay_inside, .init = setup, .fini = teardown)
{
    opens_as("http://h.test/a/b.html", "h.test_80/a/b.html");
    opens_as("http://h.test/a/", "h.test_80/a/index.html");
    opens_as("https://h.test/a/b.html", "h.test_443/a/b.html");
    opens_as("http://h.test/a/b.html", "h.test_80/a/b.html.1"); /* never overwritten */
    opens_as("http://h.test/q?x=/../..&y=%2F", "h.test_80/q@x__.._.._y__2F");
    opens_as("http://h.test/.hidden/..../x", "h.test_80/_.hidden/_..../x");
}

Test(mirror, a_file_where_a_directory_must_go_is_enotdir, .init = setup, .fini = teardown)
{
    opens_as("http://h.test/a", "h.test_80/a");
    char *saved = NULL;
    cr_assert_eq(acr_mirror_open(rootfd, "http://h.test/a/b", &saved), -ENOTDIR);
    cr_assert_null(saved);
}

Test(mirror, a_planted_link_is_not_followed, .init = setup, .fini = teardown)
{
    opens_as("http://h.test/x", "h.test_80/x");
    char link[128];
    snprintf(link, sizeof link, "%s/h.test_80/evil", root);
    cr_assert_eq(symlink("/tmp", link), 0);
    char *saved = NULL;
    int fd = acr_mirror_open(rootfd, "http://h.test/evil/f", &saved);
    cr_assert_lt(fd, 0, "followed a link out of the mirror to %s", saved ? saved : "?");
}
