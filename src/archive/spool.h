/* spool.h -- private: bytes kept for later, in memory up to a limit and then in an
 * unlinked temporary file, so a capture of a body of hundreds of MB costs a file and
 * not RAM. Errors are sticky: a caller that cannot report (a tap callback) adds and
 * forgets, and whoever reads the spool sees the first error. */
#ifndef ACR_ARCHIVE_SPOOL_H
#define ACR_ARCHIVE_SPOOL_H

#include <stddef.h>
#include <stdint.h>

typedef struct acr_spool {
    char *mem;          /* the bytes while they fit in mem_max; NULL once spilled */
    size_t len, cap;
    size_t mem_max;
    int fd;             /* the temporary file once spilled, else -1 */
    uint64_t size;      /* bytes held, wherever they are */
    int err;            /* 0 or the first -errno (sticky) */
} acr_spool;

/* Empty, holding up to mem_max bytes in memory before it spills. No allocation. */
void acr_spool_init(acr_spool *s, size_t mem_max);
/* Appends; past mem_max everything moves to an O_TMPFILE file (or an unlinked
 * mkstemp file) in $TMPDIR, else /tmp. Blocks only on that local file. Returns 0, or
 * the sticky error: -ENOMEM, -errno of open/write (-ENOSPC ...); after an error the
 * spool ignores further bytes. */
int acr_spool_add(acr_spool *s, const void *p, size_t n);
/* Empties it (a spilled spool keeps its file, truncated); clears no error. */
void acr_spool_clear(acr_spool *s);
/* Calls fn on the bytes in order, in pieces: pointers into the memory, or reads of
 * the file into scratch (scratchlen > 0). Stops at the first non-zero return of fn,
 * and returns it; or the spool's error, or -errno of pread (-EIO if the file is
 * shorter than size). */
typedef int acr_spool_fn(void *arg, const char *p, size_t n);
int acr_spool_each(const acr_spool *s, acr_spool_fn *fn, void *arg, char *scratch, size_t scratchlen);
/* Frees the memory and closes the file (which goes away with it). */
void acr_spool_release(acr_spool *s);

#endif
