/* mirror.c -- paths under the -o directory for crawled pages (see mirror.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acrawl/url.h"
#include "common.h"
#include "mirror.h"
#include "util/alloc.h"
#include "util/buf.h"

#define MAX_COMPONENT 200

/* One path component from n bytes of s: [A-Za-z0-9._-] kept, anything else '_',
 * never empty, never starting with a dot (no ".", "..", hidden files). */
static void component(char *out, const char *s, size_t n)
{
    size_t o = 0;
    if (n == 0 || s[0] == '.')
        out[o++] = '_';
    for (size_t i = 0; i < n && o < MAX_COMPONENT; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                  c == '.' || c == '_';
        out[o++] = ok ? c : '_';
    }
    out[o] = 0;
}

/* Enters (creating it if need be) the directory name under *dirfd, without
 * following links; *dirfd becomes its descriptor (the old one closed unless it was
 * the caller's). 0 or -errno. */
static int enter(int *dirfd, int base, const char *name)
{
    if (mkdirat(*dirfd, name, 0755) != 0 && errno != EEXIST)
        return -errno;
    int fd = openat(*dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (*dirfd != base)
        close(*dirfd);
    *dirfd = fd;
    return 0;
}

static int create(int dirfd, acr_buf *path, const char *name)
{
    char used[MAX_COMPONENT + 8];
    int fd = acr__create_new(dirfd, name, used, sizeof used);
    if (fd >= 0)
        acr_buf_puts(path, used);
    return fd;
}

/* The file name: the last path segment (index.html after a '/'), with the query. */
static void file_name(char *out, size_t outlen, const char *last, size_t n, const char *query)
{
    char seg[MAX_COMPONENT + 2], q[MAX_COMPONENT + 2];
    component(seg, n ? last : "index.html", n ? n : strlen("index.html"));
    if (!query) {
        snprintf(out, outlen, "%s", seg);
        return;
    }
    component(q, query, strlen(query));
    snprintf(out, outlen, "%.100s@%.90s", seg, q);
}

static int walk(int dirfd, const acr_url *u, acr_buf *path)
{
    char name[MAX_COMPONENT + 8];
    char host[300];
    snprintf(host, sizeof host, "%s_%u", u->host, (unsigned)u->port);
    component(name, host, strlen(host));
    int cur = dirfd;
    int rc = enter(&cur, dirfd, name);
    acr_buf_puts(path, name);
    const char *p = u->target, *query = strchr(p, '?');
    const char *end = query ? query : p + strlen(p);
    while (rc == 0) {
        while (p < end && *p == '/')
            p++;
        const char *slash = memchr(p, '/', (size_t)(end - p));
        if (!slash) {
            file_name(name, sizeof name, p, (size_t)(end - p), query ? query + 1 : NULL);
            acr_buf_puts(path, "/");
            rc = create(cur, path, name);
            break;
        }
        component(name, p, (size_t)(slash - p));
        acr_buf_puts(path, "/");
        acr_buf_puts(path, name);
        rc = enter(&cur, dirfd, name);
        p = slash;
    }
    if (cur != dirfd)
        close(cur);
    return rc;
}

int acr_mirror_open(int dirfd, const char *url, char **saved)
{
    acr_url u;
    int rc = acr_url_parse(&u, url, NULL, 0);
    if (rc != 0)
        return rc == -ENOMEM ? rc : -EINVAL;
    acr_buf path = {0};
    int fd = walk(dirfd, &u, &path);
    acr_url_release(&u);
    if (fd >= 0 && (path.oom || !(*saved = acr_strdup(path.p)))) {
        close(fd);
        fd = -ENOMEM;
    }
    acr_buf_release(&path);
    return fd;
}
