/* Monotonic time in nanoseconds: the one clock the scheduler's deadlines use.
 *
 * Every conversion of a caller's timeout saturates instead of overflowing:
 * the kernel's own ktime saturates at its maximum, so a tv_sec near
 * LONG_MAX (Rust's Duration::MAX, a "never" written as a huge time) waits
 * for ever natively, and must not wrap into a time long past here. */
#ifndef GR_CLOCK_H
#define GR_CLOCK_H

#include <stdint.h>
#include <time.h>

#define GR_NSEC 1000000000LL /* ns in a second */
#define GR_MSEC 1000000LL    /* ns in a millisecond */
#define GR_USEC 1000LL	     /* ns in a microsecond */

/* ts in ns, clamped to the int64_t range (tv_nsec in [0, 1e9) assumed). */
static inline int64_t gr_ts_ns(const struct timespec *ts)
{
	if (ts->tv_sec >= INT64_MAX / GR_NSEC)
		return INT64_MAX;
	if (ts->tv_sec <= INT64_MIN / GR_NSEC)
		return INT64_MIN;
	return (int64_t)ts->tv_sec * GR_NSEC + ts->tv_nsec;
}

/* a + b for b >= 0, clamped at INT64_MAX. */
static inline int64_t gr_ns_add(int64_t a, int64_t b)
{
	return a > INT64_MAX - b ? INT64_MAX : a + b;
}

/* sec seconds and n units of unit ns (both >= 0), clamped at INT64_MAX. */
static inline int64_t gr_ns_of(int64_t sec, int64_t n, int64_t unit)
{
	int64_t s, u;

	if (__builtin_mul_overflow(sec, GR_NSEC, &s) || __builtin_mul_overflow(n, unit, &u))
		return INT64_MAX;
	return gr_ns_add(s, u);
}

/* clock_gettime goes through the vDSO: no system call. */
static inline int64_t gr_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * GR_NSEC + ts.tv_nsec;
}

/* The deadline ns (>= 0) from now: never 0 (which parks without one), and
 * INT64_MAX, a deadline that never comes, for a timeout too large to add. */
static inline int64_t gr_deadline_in(int64_t ns)
{
	return gr_ns_add(gr_now(), ns);
}

#endif
