/* progress.h -- private: the progress line on stderr (terminals only, <= 10/s). */
#ifndef ACR_APP_PROGRESS_H
#define ACR_APP_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "report.h"

typedef struct acr_progress {
    bool on, color, shown;
    int64_t last;
} acr_progress;

#define ACR_PROGRESS_TICK (100 * ACR_MSEC)

void acr_progress_init(acr_progress *p, bool on, bool color);
/* Redraws at most every ACR_PROGRESS_TICK. */
void acr_progress_update(acr_progress *p, const acr_summary *s, unsigned inflight, uint64_t read, bool input_done);
void acr_progress_clear(acr_progress *p);

#endif
