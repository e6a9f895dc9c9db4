/* clock_gettime and clock_getres of thread CPU clocks: a green thread's
 * CLOCK_THREAD_CPUTIME_ID, and a clock id pthread_getcpuclockid gave for
 * a green thread, read that thread's own CPU time (runtime/cpuclock.h).
 * Every other clock, and every call of a thread that is not green, is
 * libc's (the vDSO's); a clock id of a thread that has ended reaches the
 * kernel, which refuses it with EINVAL, as natively. While system calls
 * outside libc are dispatched (runtime/sud.h), a clock the vDSO does not
 * serve (CPU-time clocks: it falls back to a system call of its own, which
 * would take the SIGSYS round trip) is read with libc's syscall(). */
#include "hook.h"

#include <errno.h>
#include <sys/syscall.h>

#include "../runtime/clock.h"
#include "../runtime/cpuclock.h"
#include "../runtime/sud.h"
#include "../runtime/tid.h"

/* The green thread whose CPU clock clk is, or NULL. Starts accounting. */
static struct gr_thread *clock_thread(clockid_t clk)
{
	struct gr_thread *t;

	if (clk == CLOCK_THREAD_CPUTIME_ID)
		t = gr_rt.cur;
	else if (gr_cpuclock_is_thread(clk))
		t = gr_tid_find(gr_cpuclock_tid(clk));
	else
		return NULL;
	if (t)
		gr_cpuclock_enable();
	return t;
}

/* The clocks the vDSO reads without a system call (on a clocksource it can
 * read): realtime, monotonic, their raw and coarse kinds, boottime, TAI. */
static int vdso_clock(clockid_t clk)
{
	const unsigned served = 1u << CLOCK_REALTIME | 1u << CLOCK_MONOTONIC |
				1u << CLOCK_MONOTONIC_RAW | 1u << CLOCK_REALTIME_COARSE |
				1u << CLOCK_MONOTONIC_COARSE | 1u << CLOCK_BOOTTIME |
				1u << CLOCK_TAI;

	return clk >= 0 && clk < 32 && (served >> clk & 1);
}

GR_EXPORT int clock_gettime(clockid_t clk, struct timespec *ts)
{
	struct gr_thread *t;

	if (__builtin_expect(clk == CLOCK_THREAD_CPUTIME_ID || clk < 0, 0) && gr_green() &&
	    (t = clock_thread(clk)) != NULL) {
		int64_t ns = gr_cpuclock_ns(t);
		ts->tv_sec = ns / GR_NSEC;
		ts->tv_nsec = ns % GR_NSEC;
		return 0;
	}
	if (__builtin_expect(gr_sud_on, 0) && !vdso_clock(clk))
		return (int)GR_REAL(syscall)(SYS_clock_gettime, clk, ts);
	return GR_REAL(clock_gettime)(clk, ts);
}

GR_EXPORT int clock_getres(clockid_t clk, struct timespec *res)
{
	/* The resolution is the kernel's for the OS thread's clock of the
	 * same kind: ask it about that one. */
	if (clk < 0 && gr_green() && clock_thread(clk))
		clk = (clockid_t)(((unsigned)~gr_rt.os_tid << 3) | (clk & 7));
	if (__builtin_expect(gr_sud_on, 0) && !vdso_clock(clk))
		return (int)GR_REAL(syscall)(SYS_clock_getres, clk, res);
	return GR_REAL(clock_getres)(clk, res);
}
