/* Turning a caller's timeout into a scheduler deadline, with libc's
 * checks in libc's order: an absolute time is looked at only when the
 * caller really has to wait. */
#ifndef GR_TIMEOUT_H
#define GR_TIMEOUT_H

#include <errno.h>
#include <stdint.h>
#include <time.h>

#include "clock.h"

/* How long a blocking call may wait. */
struct gr_timeout {
	const struct timespec *abs; /* absolute time on clk; NULL: forever */
	clockid_t clk;		    /* CLOCK_REALTIME or CLOCK_MONOTONIC */
	int try_only;		    /* 1: never wait (trylock, trywait) */
};

#define GR_FOREVER ((struct gr_timeout){NULL, CLOCK_REALTIME, 0})
#define GR_TRY	   ((struct gr_timeout){NULL, CLOCK_REALTIME, 1})

/* The clocks futex-based waits accept (glibc's
 * futex_abstimed_supported_clockid). */
static inline int gr_timeout_clock_ok(clockid_t clk)
{
	return clk == CLOCK_REALTIME || clk == CLOCK_MONOTONIC;
}

/* Sets *deadline (monotonic ns; 0 = none) for a caller that must wait.
 * Returns 0, -EBUSY for try_only (the caller says what "busy" means),
 * -EINVAL for a bad tv_nsec, -ETIMEDOUT when the time has passed. */
static inline int gr_timeout_deadline(const struct gr_timeout *to, int64_t *deadline)
{
	struct timespec now;
	int64_t left;

	*deadline = 0;
	if (to->try_only)
		return -EBUSY;
	if (!to->abs)
		return 0;
	if (to->abs->tv_nsec < 0 || to->abs->tv_nsec >= GR_NSEC)
		return -EINVAL;
	if (to->abs->tv_sec < 0)
		return -ETIMEDOUT;
	gr_real.clock_gettime(to->clk, &now);
	left = gr_ts_ns(to->abs) - gr_ts_ns(&now);
	if (left <= 0)
		return -ETIMEDOUT;
	*deadline = gr_deadline_in(left);
	return 0;
}

#endif
