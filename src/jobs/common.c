/* common.c -- what both jobs do alike (see common.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acrawl/error.h"
#include "common.h"
#include "fetchjob.h"
#include "util/alloc.h"
#include "util/fdio.h"
#include "runtime/check.h"

void acr__emit(acr_chan *records, uint64_t *emitted, acr_record *r)
{
    int was = acr_shield(1);
    int rc = acr_chan_send(records, r, ACR_FOREVER);
    ACR_ASSERT(rc == 0, "the records channel stays open until every record is in");
    if (rc != 0)
        acr_record_free(r);
    (*emitted)++;
    acr_shield(was);
}

void acr__read_lines(acr_input *in, acr_line_fn *take, void *arg, char *err, size_t errlen)
{
    bool shielded = false;
    for (;;) {
        if (acr_cancelled() && !shielded) {
            if (!acr_input_finite(in))
                break;
            acr_shield(1);
            shielded = true;
        }
        uint64_t line;
        const char *text;
        int rc = acr_input_next(in, &line, &text, err, errlen);
        if (rc == 0)
            break;
        if (rc == ACR_ECANCELED)
            continue;
        if (rc < 0 && rc != ACR_ETOOLARGE)
            return; /* err says why */
        take(arg, line, text, rc);
    }
    err[0] = 0;
}

void acr__reap(acr_group *g)
{
    while (acr_group_ready(g) > 0) {
        acr_task *t;
        if (acr_group_next(g, 0, &t) != 0)
            break;
        acr_task_unref(t);
    }
}

static int rate_wait(double rate, int64_t *next_start)
{
    int64_t now = acr_now();
    if (*next_start < now)
        *next_start = now;
    int64_t at = *next_start;
    *next_start += (int64_t)(1e9 / rate);
    return acr_sleep_until(at);
}

bool acr__admit(acr_sem *slots, double rate, int64_t *next_start, const bool *stopping)
{
    if (*stopping || acr_sem_acquire(slots, ACR_FOREVER) != 0)
        return false;
    if ((rate > 0 && rate_wait(rate, next_start) != 0) || *stopping) {
        acr_sem_release(slots);
        return false;
    }
    return true;
}

int acr__open_output_dir(const char *dir, char *err, size_t errlen)
{
    mkdir(dir, 0755);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "output directory %s: %s", dir, strerror(e));
        return -e;
    }
    return fd;
}

int acr__file_sink(void *arg, const char *p, size_t n, char *msg, size_t msglen)
{
    int rc = acr__write_all((int)(intptr_t)arg, p, n);
    if (rc != 0)
        snprintf(msg, msglen, "cannot write the body to the output file: %s", strerror(-rc));
    return rc;
}

int acr__file_restart(void *arg)
{
    int fd = (int)(intptr_t)arg;
    return ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0;
}

int acr__create_new(int dirfd, const char *name, char *used, size_t usedlen)
{
    for (int k = 0; k < 100; k++) {
        if (k == 0)
            snprintf(used, usedlen, "%s", name);
        else
            snprintf(used, usedlen, "%s.%d", name, k);
        int fd = openat(dirfd, used, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd >= 0)
            return fd;
        if (errno != EEXIST)
            return -errno;
    }
    return -EEXIST;
}

int acr__open_flat(int dirfd, uint64_t n, const char *url, char **saved)
{
    char name[256], used[272];
    acr_job_safe_name(name, sizeof name, n, url);
    int fd = acr__create_new(dirfd, name, used, sizeof used);
    if (fd >= 0 && !(*saved = acr_strdup(used))) {
        close(fd);
        return -ENOMEM;
    }
    return fd;
}
