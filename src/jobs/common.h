/* common.h -- private: what the list job and the crawl job do alike: hand records to
 * the program, read input lines (to the end of finite input after a stop), reap
 * finished fetch tasks, and wait for a permit and the --rate slot. */
#ifndef ACR_JOBS_COMMON_H
#define ACR_JOBS_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acrawl/sync.h"
#include "acrawl/task.h"
#include "input.h"
#include "record.h"

/* Hands r to the program on records, shielded (a cancelled task still delivers),
 * and counts it in *emitted. */
void acr__emit(acr_chan *records, uint64_t *emitted, acr_record *r);

/* One input line for a job: read_rc is acr_input_next's return (positive, or
 * ACR_ETOOLARGE). */
typedef void acr_line_fn(void *arg, uint64_t line, const char *text, int read_rc);

/* Reads input to the end (or to a read error, kept in err), giving each line to
 * take. Once the task is cancelled, finite input is still read to the end, shielded,
 * so every line gets its (cancelled) record; a pipe or terminal is left unread. */
void acr__read_lines(acr_input *in, acr_line_fn *take, void *arg, char *err, size_t errlen);

/* Takes the references of the group's finished members. */
void acr__reap(acr_group *g);

/* Waits for a permit of slots and, with rate > 0, for the next --rate slot
 * (*next_start keeps the schedule). False, holding nothing, when *stopping is set
 * or the task is cancelled. */
bool acr__admit(acr_sem *slots, double rate, int64_t *next_start, const bool *stopping);

/* -o: the output directory, created if missing, opened for *at() calls. The fd, or
 * -errno with err naming the directory. */
int acr__open_output_dir(const char *dir, char *err, size_t errlen);

/* Creates a new file name under dirfd, or name.1 ... name.99 when it exists: O_EXCL,
 * so nothing is overwritten, O_NOFOLLOW, so a planted link is not followed. The fd
 * with the name used in used (usedlen bytes), or -errno. */
int acr__create_new(int dirfd, const char *name, char *used, size_t usedlen);

/* Opens a new file under dirfd named by acr_job_safe_name(n, url): O_EXCL, so nothing
 * is overwritten (numbered suffixes on a clash), O_NOFOLLOW, so a planted link is not
 * followed. The fd with *saved (allocated) its name, or -errno. */
int acr__open_flat(int dirfd, uint64_t n, const char *url, char **saved);

/* A body sink (acr_body_sink) writing to the file descriptor carried in arg
 * ((void *)(intptr_t)fd). */
int acr__file_sink(void *arg, const char *data, size_t len, char *msg, size_t msglen);

/* Starts the file in arg afresh for a retry (an acr_attempts restart hook). */
int acr__file_restart(void *arg);

#endif
