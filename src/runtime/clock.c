/* clock.c -- the monotonic clock every deadline is measured on. */
#include <time.h>

#include "acrawl/loop.h"

int64_t acr_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * ACR_SEC + ts.tv_nsec;
}

int64_t acr_deadline_in(int64_t ns)
{
    int64_t now = acr_now();
    if (ns >= ACR_FOREVER - now)
        return ACR_FOREVER;
    return now + ns;
}
