/* input.h -- private: URL input from files, standard input and arguments, read
 * lazily line by line. Pipes and terminals are read through the loop (a task
 * waits for data), so an endless pipe streams; regular files are read directly. */
#ifndef ACR_JOBS_INPUT_H
#define ACR_JOBS_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct acr_input acr_input;

/* sources: "-" (standard input), a URL (has "://"), or a file path. Every file is
 * opened now, so a missing one is reported before anything runs.
 * 0, or -errno with err naming the file. */
int acr_input_open(acr_input **out, char *const *sources, size_t n, char *err, size_t errlen);
void acr_input_free(acr_input *in);

/* A line holding a NUL byte: acr_input_next's text shows each NUL as \0, and
 * acr_input_url makes it a bad-url line (never cut at the NUL and fetched). */
#define ACR_INPUT_NUL 2
/* A line that could not be held in memory: its text is "(out of memory)", and
 * acr_input_url makes it a `system` (-ENOMEM) line; reading goes on. */
#define ACR_INPUT_OOM 3

/* The next URL line: blank lines and lines starting with '#' are skipped, surrounding
 * whitespace is trimmed. 1 with *text (valid until the next call) and *lineno, 0 at
 * the end, ACR_INPUT_NUL (as 1, but the line holds a NUL byte), ACR_INPUT_OOM,
 * ACR_ECANCELED,
 * ACR_ETOOLARGE (a line over 64 KiB, skipped: *lineno says which and *text is
 * "(line too long)"), or a negative code with err saying what failed. Inside a task,
 * waits on pipes and terminals without blocking the loop; descriptors epoll refuses
 * (/dev/null) and regular files are read directly. */
int acr_input_next(acr_input *in, uint64_t *lineno, const char **text, char *err, size_t errlen);

struct acr_url;
/* Checks a line acr_input_next gave (read_rc: its return, positive or ACR_ETOOLARGE):
 * 0 with the URL parsed into *u (release it), or the code for the line's record with
 * msg "line N: reason": ACR_EBADURL, or -ENOMEM when memory ran out. Both engines
 * judge their input here. */
int acr_input_url(uint64_t lineno, const char *text, int read_rc, struct acr_url *u, char *msg, size_t len);

/* True when what is left to read is finite and quick (files and arguments, not a
 * pipe or terminal): a stopped run can still give every line its record. */
bool acr_input_finite(const acr_input *in);

/* Time spent waiting for pipes and terminals to deliver, in ns: when it is most of
 * the wall time, the producer, not the requests, set the pace. */
int64_t acr_input_wait_ns(const acr_input *in);

#endif
