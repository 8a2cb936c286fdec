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

#endif
