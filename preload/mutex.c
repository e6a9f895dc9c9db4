/* Mutex and spin lock hooks: lock, trylock, timedlock, clocklock, unlock,
 * consistent; spin_lock, spin_trylock. The work is in runtime/mutex.c;
 * here only libc's conventions: error numbers returned,
 * errno untouched, the clock of clocklock checked before anything else as
 * glibc does, a timeout looked at only when the caller must wait.
 *
 * Left to libc: init, destroy and attributes (plain data in glibc's layout,
 * which the green code reads), spin_unlock (a store), and every call of a
 * thread that is not green; a foreign OS thread's unlock is told to green
 * waiters (foreign.h). */
#include "hook.h"

#include "../runtime/foreign.h"
#include "../runtime/lock.h"

#define FOREIGN_CALL(call)                                                                         \
	do {                                                                                       \
		if (gr_foreign_thread())                                                           \
			gr_foreign_enter();                                                        \
		return call;                                                                       \
	} while (0)

static int lock_green(pthread_mutex_t *m, const struct gr_timeout *to)
{
	/* Before the lock, not after: a thread that gives way holding the
	 * mutex it just took makes every other locker wait for its next
	 * turn. Every call, so a trylock loop does not starve the others. */
	gr_maybe_yield();
	return -gr_mutex_lock(m, to);
}

GR_EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
	if (!gr_green())
		FOREIGN_CALL(GR_REAL(pthread_mutex_lock)(m));
	return lock_green(m, &GR_FOREVER);
}

GR_EXPORT int pthread_mutex_trylock(pthread_mutex_t *m)
{
	if (!gr_green())
		FOREIGN_CALL(GR_REAL(pthread_mutex_trylock)(m));
	return lock_green(m, &GR_TRY);
}

GR_EXPORT int pthread_mutex_timedlock(pthread_mutex_t *restrict m,
				      const struct timespec *restrict abstime)
{
	struct gr_timeout to = {abstime, CLOCK_REALTIME, 0};

	if (!gr_green())
		FOREIGN_CALL(GR_REAL(pthread_mutex_timedlock)(m, abstime));
	return lock_green(m, &to);
}

GR_EXPORT int pthread_mutex_clocklock(pthread_mutex_t *restrict m, clockid_t clk,
				      const struct timespec *restrict abstime)
{
	struct gr_timeout to = {abstime, clk, 0};

	if (!gr_green())
		FOREIGN_CALL(GR_REAL(pthread_mutex_clocklock)(m, clk, abstime));
	if (!gr_timeout_clock_ok(clk))
		return EINVAL;
	return lock_green(m, &to);
}

/* Not green: glibc's unlock, and for a foreign thread the news for green
 * waiters. Out of line, away from the green path. */
static __attribute__((noinline)) int unlock_real(pthread_mutex_t *m)
{
	if (!gr_foreign_thread())
		return GR_REAL(pthread_mutex_unlock)(m);
	gr_foreign_enter();
	int r = GR_REAL(pthread_mutex_unlock)(m);
	gr_foreign_woke(&m->__data.__lock, 1);
	return r;
}

GR_EXPORT int pthread_mutex_unlock(pthread_mutex_t *m)
{
	if (!gr_green())
		return unlock_real(m);
	return -gr_mutex_unlock(m);
}

GR_EXPORT int pthread_mutex_consistent(pthread_mutex_t *m)
{
	if (!gr_green())
		FOREIGN_CALL(GR_REAL(pthread_mutex_consistent)(m));
	return -gr_mutex_consistent(m);
}

GR_EXPORT int pthread_spin_lock(pthread_spinlock_t *l)
{
	if (!gr_green())
		return GR_REAL(pthread_spin_lock)(l);
	return -gr_spin_lock(l, 0);
}

GR_EXPORT int pthread_spin_trylock(pthread_spinlock_t *l)
{
	if (!gr_green())
		return GR_REAL(pthread_spin_trylock)(l);
	int err = -gr_spin_lock(l, 1);

	gr_maybe_yield();
	return err;
}
