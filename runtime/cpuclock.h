/* CPU-time clocks of green threads (cpuclock.c).
 *
 * Each green thread's CPU time is the time it ran between switches,
 * counted with a cheap counter (the TSC where it is invariant, aarch64's
 * virtual counter; else the monotonic clock), converted to ns against
 * CLOCK_MONOTONIC_RAW when read. Accounting starts the first time the
 * program asks for a thread CPU clock (pthread_getcpuclockid, a
 * clock_gettime or clock_getres of CLOCK_THREAD_CPUTIME_ID or of a thread's
 * clock id), so a program that never does pays one predicted branch per
 * switch. Time before that is not split among threads: it all counts for
 * green thread 1, which gets the OS thread's CPU time until then (exact
 * for a program that asks before it starts threads); the others count
 * from then on. The hub's time (waiting in the event loop) is nobody's.
 * It is time on the CPU as the OS thread saw it running that green thread:
 * time the kernel gave another process meanwhile counts too. */
#ifndef GR_CPUCLOCK_H
#define GR_CPUCLOCK_H

#include <stdint.h>
#include <time.h>

#include "thread.h"

/* glibc's and the kernel's encoding of a thread's CPU clock id. */
#define GR_CPUCLOCK_PERTHREAD 4
#define GR_CPUCLOCK_SCHED     2
static inline clockid_t gr_cpuclock_id(int tid)
{
	return (clockid_t)(((unsigned)~tid << 3) | GR_CPUCLOCK_PERTHREAD | GR_CPUCLOCK_SCHED);
}
static inline int gr_cpuclock_is_thread(clockid_t clk)
{
	return clk < 0 && (clk & GR_CPUCLOCK_PERTHREAD);
}
static inline int gr_cpuclock_tid(clockid_t clk)
{
	return ~(clk >> 3);
}

/* Starts accounting (once). */
void gr_cpuclock_enable(void);
/* t's CPU time so far, in ns (accounting on). */
int64_t gr_cpuclock_ns(const struct gr_thread *t);
/* At a switch from self, while accounting is on (sched.c). */
void gr_cpuclock_switch(struct gr_thread *self);

#endif
