/* progress.h -- private: the progress line on stderr (terminals only, <= 10/s). When
 * stdout is a terminal too, the line steps aside for records (hold/release). */
#ifndef ACR_APP_PROGRESS_H
#define ACR_APP_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report.h"

typedef struct acr_progress {
    bool on, color, shown;
    bool shared;            /* records go to a terminal too: never draw over them */
    bool held;              /* records are waiting to be flushed: draw nothing */
    int64_t last;
    char line[256];         /* the last line rendered, for a redraw after records */
    size_t len;
} acr_progress;

#define ACR_PROGRESS_TICK (100 * ACR_MSEC)

/* on: draw at all (stderr is a terminal); shared: stdout is a terminal as well. */
void acr_progress_init(acr_progress *p, bool on, bool color, bool shared);
/* Renders the line at most every ACR_PROGRESS_TICK; draws it unless held. */
void acr_progress_update(acr_progress *p, const acr_summary *s, unsigned inflight, uint64_t read, bool input_done);
/* Before a record is written: when shared, clears the line and keeps it off until
 * acr_progress_release, so a record never lands after the line's text. */
void acr_progress_hold(acr_progress *p);
/* After the held records were flushed: draws the last rendered line again. */
void acr_progress_release(acr_progress *p);
void acr_progress_clear(acr_progress *p);

#endif
