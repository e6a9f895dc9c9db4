/* Sleeping: sleep, usleep, nanosleep, clock_nanosleep, thrd_sleep.
 *
 * A green sleep parks on a monotonic deadline. glibc's sleep() and usleep()
 * call its internal nanosleep, not the exported one, so each is hooked.
 * Contracts kept: nanosleep returns -1 and sets errno, clock_nanosleep
 * returns the error number; EINVAL for tv_nsec outside [0, 1e9) or a
 * negative tv_sec (for TIMER_ABSTIME too, as the kernel); EFAULT for a NULL
 * request; rem is written only on EINTR. An absolute deadline on a clock
 * other than CLOCK_MONOTONIC is re-checked against that clock at wake-up,
 * so a sleep never ends before its clock says so.
 *
 * A CPU-time clock (the process's, another process's or another thread's,
 * green or not) advances only while something runs, here mostly the other
 * green threads of the one OS thread: the real call would stop them and so
 * the clock itself, for good. The thread parks instead, each time for what
 * is left on the clock (it cannot gain more than that while the OS thread
 * runs others), until the clock says the time has come. The caller's own
 * thread clock, as in the kernel, is EINVAL.
 *
 * Left to libc: the alarm clocks, and clocks the kernel rejects: the real
 * call gives libc's exact answer. A signal handler that runs meanwhile
 * (runtime/signal.c) ends the sleep with EINTR and what was left in rem,
 * as natively. */
#include "hook.h"

#include <errno.h>

#include "../runtime/cancel.h"
#include "../runtime/clock.h"
#include "../runtime/cpuclock.h"
#include "../runtime/tid.h"

static int green_clock(clockid_t clk)
{
	return clk == CLOCK_REALTIME || clk == CLOCK_MONOTONIC || clk == CLOCK_BOOTTIME ||
	       clk == CLOCK_TAI;
}

/* Whether clk is a CPU-time clock a green thread waits on by looking at
 * it again (the top comment); the caller's own is not (EINVAL). */
static int cpu_clock(clockid_t clk)
{
	struct timespec now;
	int saved = errno, ok;

	if (clk != CLOCK_PROCESS_CPUTIME_ID &&
	    (clk >= 0 || clk == gr_cpuclock_id(gr_tid_of(gr_rt.cur))))
		return 0;
	/* One the kernel does not know (a thread gone): its answer. */
	ok = clock_gettime(clk, &now) == 0;
	errno = saved;
	return ok;
}

static int cpu_sleep(clockid_t clk, int flags, const struct timespec *req, int64_t *left_ns)
{
	struct timespec now;
	int64_t target, left;

	if (clock_gettime(clk, &now) < 0)
		return -EINVAL; /* it has just ended */
	target = flags & TIMER_ABSTIME ? gr_ts_ns(req) : gr_ns_add(gr_ts_ns(&now), gr_ts_ns(req));
	for (;;) {
		left = target - gr_ts_ns(&now);
		if (left <= 0)
			break;
		if (gr_park(GR_WAIT_SLEEP, NULL, gr_deadline_in(left)) == -EINTR) {
			clock_gettime(clk, &now);
			left = target - gr_ts_ns(&now);
			/* rem is not written for absolute sleeps */
			*left_ns = flags & TIMER_ABSTIME || left < 0 ? 0 : left;
			return -EINTR;
		}
		clock_gettime(clk, &now);
	}
	gr_maybe_yield();
	return 0;
}

/* Returns 0 or -errno; on -EINTR (a signal handler ran) *left_ns says how
 * much of a relative sleep was left. */
static int sleep_for(clockid_t clk, int flags, const struct timespec *req, int64_t *left_ns)
{
	struct timespec now;
	int64_t deadline;

	if (!req)
		return -EFAULT;
	if (req->tv_nsec < 0 || req->tv_nsec >= GR_NSEC || req->tv_sec < 0)
		return -EINVAL;
	if (!green_clock(clk))
		return cpu_sleep(clk, flags, req, left_ns);
	if (!(flags & TIMER_ABSTIME)) {
		/* Relative sleeps measure elapsed time, whatever the clock. */
		int64_t d = gr_ts_ns(req);
		if (d == 0) {
			gr_yield();
			return 0;
		}
		deadline = gr_deadline_in(d);
		for (;;) {
			int r = gr_park(GR_WAIT_SLEEP, NULL, deadline);
			if (r == -ETIMEDOUT)
				return 0;
			if (r == -EINTR) {
				int64_t left = deadline - gr_now();
				*left_ns = left > 0 ? left : 0;
				return -EINTR;
			}
		}
	}
	for (;;) {
		clock_gettime(clk, &now);
		int64_t left = gr_ts_ns(req) - gr_ts_ns(&now);
		if (left <= 0)
			break;
		if (gr_park(GR_WAIT_SLEEP, NULL, gr_deadline_in(left)) == -EINTR) {
			*left_ns = 0; /* rem is not written for absolute sleeps */
			return -EINTR;
		}
	}
	gr_maybe_yield();
	return 0;
}

/* Every sleep is a cancellation point. */
static int green_sleep(clockid_t clk, int flags, const struct timespec *req, int64_t *left_ns)
{
	int r;

	gr_cancel_begin();
	r = sleep_for(clk, flags, req, left_ns);
	gr_cancel_end(r == -EINTR);
	return r;
}

static void set_rem(struct timespec *rem, int64_t left_ns)
{
	if (rem) {
		rem->tv_sec = left_ns / GR_NSEC;
		rem->tv_nsec = left_ns % GR_NSEC;
	}
}

GR_EXPORT int nanosleep(const struct timespec *req, struct timespec *rem)
{
	int err;

	if (!gr_green())
		return GR_REAL(nanosleep)(req, rem);
	int64_t left = 0;

	err = green_sleep(CLOCK_MONOTONIC, 0, req, &left);
	if (err == -EINTR)
		set_rem(rem, left);
	return (int)gr_ret(err);
}

GR_EXPORT int clock_nanosleep(clockid_t clk, int flags, const struct timespec *req,
			      struct timespec *rem)
{
	int64_t left = 0;
	int err;

	if (!gr_green() || !(green_clock(clk) || cpu_clock(clk)))
		return GR_REAL(clock_nanosleep)(clk, flags, req, rem);
	err = green_sleep(clk, flags, req, &left);
	if (err == -EINTR && !(flags & TIMER_ABSTIME))
		set_rem(rem, left);
	return -err;
}

GR_EXPORT unsigned int sleep(unsigned int seconds)
{
	struct timespec ts = {.tv_sec = seconds};

	int64_t left = 0;

	if (!gr_green())
		return GR_REAL(sleep)(seconds);
	if (green_sleep(CLOCK_MONOTONIC, 0, &ts, &left) == -EINTR)
		return (unsigned int)((left + GR_NSEC - 1) / GR_NSEC); /* glibc rounds up */
	return 0;
}

GR_EXPORT int usleep(useconds_t usec)
{
	struct timespec ts = {.tv_sec = usec / 1000000, .tv_nsec = usec % 1000000 * 1000L};

	int64_t left = 0;
	int err;

	if (!gr_green())
		return GR_REAL(usleep)(usec);
	err = green_sleep(CLOCK_MONOTONIC, 0, &ts, &left);
	return (int)gr_ret(err);
}

GR_EXPORT int thrd_sleep(const struct timespec *req, struct timespec *rem)
{
	int err;

	if (!gr_green())
		return GR_REAL(thrd_sleep)(req, rem);
	int64_t left = 0;

	/* glibc: 0, -1 when interrupted, another negative value on error. */
	err = green_sleep(CLOCK_REALTIME, 0, req, &left);
	if (err == -EINTR)
		set_rem(rem, left);
	return err == 0 ? 0 : (err == -EINTR ? -1 : -2);
}
