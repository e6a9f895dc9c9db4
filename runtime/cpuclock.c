/* CPU time per green thread (cpuclock.h). */
#include "cpuclock.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "../arch/ctx.h"
#include "clock.h"
#include "real.h"
#include "sched.h"

static int use_ticks;	    /* units are counter ticks, else ns */
static uint64_t stamp;	    /* units when the running thread was switched to */
static uint64_t tick0;	    /* the counter and the raw clock when */
static int64_t raw0;	    /* accounting began, for the counter's rate */
static int64_t main_before; /* the OS thread's CPU time until then */

static int64_t raw_ns(void)
{
	struct timespec ts;

	gr_real.clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return gr_ts_ns(&ts);
}

/* Whether the counter ticks at one rate on every CPU, through sleep
 * states: the TSC only when the CPU says it is invariant. */
static int counter_usable(void)
{
#if defined(__x86_64__)
	unsigned a, b, c, d;

	return __get_cpuid(0x80000007, &a, &b, &c, &d) && (d & (1u << 8));
#elif defined(__aarch64__)
	return 1;
#else
	return 0;
#endif
}

static uint64_t units(void)
{
	return use_ticks ? gr_ctx_ticks() : (uint64_t)raw_ns();
}

void gr_cpuclock_enable(void)
{
	struct timespec ts;

	if (gr_rt.cpu_on)
		return;
	use_ticks = counter_usable();
	if (gr_real.clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
		main_before = gr_ts_ns(&ts);
	raw0 = raw_ns();
	tick0 = gr_ctx_ticks();
	stamp = units();
	gr_rt.cpu_on = 1;
}

void gr_cpuclock_switch(struct gr_thread *self)
{
	uint64_t now = units();

	if (self != &gr_hub)
		self->cpu_units += now - stamp;
	stamp = now;
}

int64_t gr_cpuclock_ns(const struct gr_thread *t)
{
	uint64_t u = t->cpu_units;
	int64_t ns;

	if (t == gr_rt.cur)
		u += units() - stamp;
	if (use_ticks) {
		/* The counter's rate over the whole time since accounting
		 * began; the error this leaves is about one reading of each
		 * clock, whatever the time. */
		uint64_t dt = gr_ctx_ticks() - tick0;
		int64_t dns = raw_ns() - raw0;
		ns = dt ? (int64_t)((unsigned __int128)u * (uint64_t)dns / dt) : 0;
	} else {
		ns = (int64_t)u;
	}
	return ns + (t == &gr_main_thread ? main_before : 0);
}
