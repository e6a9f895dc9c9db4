/* Condition variable hooks: wait, timedwait, clockwait, signal, broadcast,
 * destroy. The work is in runtime/cond.c. glibc checks a clockwait's clock
 * first and an absolute time's nanoseconds before it unlocks the mutex; so
 * do we. The mutex is re-acquired before return, timeout or not. A
 * foreign OS thread calls glibc; its signals, and the unlock of the mutex
 * inside its waits, are told to green waiters (foreign.h).
 *
 * Left to libc: init (glibc's init records the attr's clock and pshared in
 * the object, where the green code reads them), condattr_*, and destroy
 * but for the wait a process-shared condition's destroy may need. */
#include "hook.h"

#include "../runtime/cancel.h"
#include "../runtime/foreign.h"
#include "../runtime/lock.h"

/* A foreign thread's wait unlocks the mutex inside glibc: its green
 * waiters look again (those of a mutex held by a foreign thread wait in
 * the kernel too, and glibc's unlock wakes them). */
static __attribute__((noinline)) void foreign_wait(pthread_mutex_t *m)
{
	if (gr_foreign_thread()) {
		gr_foreign_enter();
		gr_foreign_woke(&m->__data.__lock, 1);
	}
}

#define FOREIGN_WAIT(call)                                                                         \
	do {                                                                                       \
		foreign_wait(m);                                                                   \
		return call;                                                                       \
	} while (0)

/* Not green: glibc's signal, and for a foreign thread the news for green
 * waiters. Out of line, away from the green path. */
static __attribute__((noinline)) int signal_real(pthread_cond_t *c, int all)
{
	int foreign = gr_foreign_thread(), r;

	if (foreign)
		gr_foreign_enter();
	r = all ? GR_REAL(pthread_cond_broadcast)(c) : GR_REAL(pthread_cond_signal)(c);
	if (foreign)
		gr_foreign_woke(c, all ? INT_MAX : 1);
	return r;
}

static int wait_green(pthread_cond_t *c, pthread_mutex_t *m, const struct gr_timeout *to)
{
	if (to->abs && (to->abs->tv_nsec < 0 || to->abs->tv_nsec >= GR_NSEC))
		return EINVAL;
	int r;

	gr_cancel_begin();
	r = gr_cond_wait(c, m, to);
	gr_cancel_end(1); /* a cancel ends the wait early, mutex held */
	return -r;
}

GR_EXPORT int pthread_cond_wait(pthread_cond_t *restrict c, pthread_mutex_t *restrict m)
{
	if (!gr_green())
		FOREIGN_WAIT(GR_REAL(pthread_cond_wait)(c, m));
	return wait_green(c, m, &GR_FOREVER);
}

GR_EXPORT int pthread_cond_timedwait(pthread_cond_t *restrict c, pthread_mutex_t *restrict m,
				     const struct timespec *restrict abstime)
{
	struct gr_timeout to = {abstime, CLOCK_REALTIME, 0};

	if (!gr_green())
		FOREIGN_WAIT(GR_REAL(pthread_cond_timedwait)(c, m, abstime));
	to.clk = gr_cond_clock(c);
	return wait_green(c, m, &to);
}

GR_EXPORT int pthread_cond_clockwait(pthread_cond_t *restrict c, pthread_mutex_t *restrict m,
				     clockid_t clk, const struct timespec *restrict abstime)
{
	struct gr_timeout to = {abstime, clk, 0};

	if (!gr_green())
		FOREIGN_WAIT(GR_REAL(pthread_cond_clockwait)(c, m, clk, abstime));
	if (!gr_timeout_clock_ok(clk))
		return EINVAL;
	return wait_green(c, m, &to);
}

GR_EXPORT int pthread_cond_signal(pthread_cond_t *c)
{
	if (!gr_green())
		return signal_real(c, 0);
	return -gr_cond_signal(c, 0);
}

GR_EXPORT int pthread_cond_broadcast(pthread_cond_t *c)
{
	if (!gr_green())
		return signal_real(c, 1);
	return -gr_cond_signal(c, 1);
}

GR_EXPORT int pthread_cond_destroy(pthread_cond_t *c)
{
	if (!gr_green())
		return GR_REAL(pthread_cond_destroy)(c);
	return -gr_cond_destroy(c);
}
