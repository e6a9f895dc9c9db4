/* Monotonic time in nanoseconds: the one clock the scheduler's deadlines use. */
#ifndef GR_CLOCK_H
#define GR_CLOCK_H

#include <stdint.h>
#include <time.h>

#include "real.h"

#define GR_NSEC 1000000000LL /* ns in a second */
#define GR_MSEC 1000000LL    /* ns in a millisecond */

static inline int64_t gr_ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * GR_NSEC + ts->tv_nsec;
}

/* clock_gettime goes through the vDSO: ~20 ns, no system call. The real
 * one: the exported clock_gettime is a hook (CPU clocks of green threads). */
static inline int64_t gr_now(void)
{
	struct timespec ts;

	gr_real.clock_gettime(CLOCK_MONOTONIC, &ts);
	return gr_ts_ns(&ts);
}

#endif
