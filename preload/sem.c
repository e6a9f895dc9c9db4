/* Semaphore hooks (unnamed and named): wait, trywait, timedwait,
 * clockwait, post. The work is in runtime/sem.c; here libc's convention (-1
 * and errno) and its order of checks: sem_timedwait rejects bad nanoseconds
 * before it looks at the value, sem_clockwait the clock first. A foreign
 * OS thread calls glibc, around which foreign.h's two calls keep green
 * waiters in the know.
 *
 * Left to libc: sem_init, sem_destroy, sem_getvalue (glibc's layout is
 * ours), named semaphores' open/close/unlink (sem_open maps the file
 * shared; the waits and posts on it are the process-shared ones). */
#include "hook.h"

#include "../runtime/cancel.h"
#include "../runtime/foreign.h"
#include "../runtime/lock.h"

/* Foreign threads: the switch to atomic semaphores first (foreign.h). */
#define FOREIGN_CALL(call)                                                                         \
	do {                                                                                       \
		if (gr_foreign_thread())                                                           \
			gr_foreign_enter();                                                        \
		return call;                                                                       \
	} while (0)

static int result(int r)
{
	gr_maybe_yield(); /* also after EAGAIN: trywait loops must not starve */
	return (int)gr_ret(r);
}

static int valid_abstime(const struct timespec *abstime)
{
	return abstime->tv_nsec >= 0 && abstime->tv_nsec < GR_NSEC;
}

/* sem_wait and the timed waits are cancellation points (trywait is not). */
static int cancellable_wait(sem_t *s, const struct gr_timeout *to)
{
	int r;

	gr_cancel_begin();
	r = gr_sem_wait(s, to);
	gr_cancel_end(r == -EINTR);
	return r;
}

GR_EXPORT int sem_wait(sem_t *s)
{
	if (!gr_green())
		FOREIGN_CALL(GR_REAL(sem_wait)(s));
	return result(cancellable_wait(s, &GR_FOREVER));
}

GR_EXPORT int sem_trywait(sem_t *s)
{
	if (!gr_green())
		FOREIGN_CALL(GR_REAL(sem_trywait)(s));
	return result(gr_sem_wait(s, &GR_TRY));
}

GR_EXPORT int sem_timedwait(sem_t *restrict s, const struct timespec *restrict abstime)
{
	struct gr_timeout to = {abstime, CLOCK_REALTIME, 0};

	if (!gr_green())
		FOREIGN_CALL(GR_REAL(sem_timedwait)(s, abstime));
	if (!valid_abstime(abstime))
		return result(-EINVAL);
	return result(cancellable_wait(s, &to));
}

GR_EXPORT int sem_clockwait(sem_t *restrict s, clockid_t clk,
			    const struct timespec *restrict abstime)
{
	struct gr_timeout to = {abstime, clk, 0};

	if (!gr_green())
		FOREIGN_CALL(GR_REAL(sem_clockwait)(s, clk, abstime));
	if (!gr_timeout_clock_ok(clk) || !valid_abstime(abstime))
		return result(-EINVAL);
	return result(cancellable_wait(s, &to));
}

/* Not green: glibc's post, and for a foreign thread the news for green
 * waiters. Out of line, away from the green path. */
static __attribute__((noinline)) int post_real(sem_t *s)
{
	if (!gr_foreign_thread())
		return GR_REAL(sem_post)(s);
	gr_foreign_enter();
	int r = GR_REAL(sem_post)(s);
	gr_foreign_woke(s, 1);
	return r;
}

GR_EXPORT int sem_post(sem_t *s)
{
	if (!gr_green())
		return post_real(s);
	return result(gr_sem_post(s));
}
