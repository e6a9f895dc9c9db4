/* Read-write lock hooks: rdlock, wrlock and their try, timed and clock
 * variants, unlock. The work is in runtime/rwlock.c. Left to libc: init,
 * destroy, rwlockattr_* (glibc's init records the kind and pshared in the
 * object), and a foreign OS thread's calls, once the process has switched
 * to the atomic way (foreign.h): green waiters of such a lock wait in the
 * kernel too, where glibc's wake-ups reach them. */
#include "hook.h"

#include "../runtime/foreign.h"
#include "../runtime/lock.h"

static inline void foreign(void)
{
	if (gr_foreign_thread())
		gr_foreign_enter();
}

/* glibc's rwlocks, unlike its mutexes, reject a bad absolute time before
 * anything else, even when the lock is free. */
static int valid_abstime(const struct timespec *abstime)
{
	return abstime->tv_nsec >= 0 && abstime->tv_nsec < GR_NSEC;
}

#define RW_HOOKS(kind)                                                                             \
	GR_EXPORT int pthread_rwlock_##kind##lock(pthread_rwlock_t *rw)                            \
	{                                                                                          \
		if (!gr_green()) {                                                                 \
			foreign();                                                                 \
			return GR_REAL(pthread_rwlock_##kind##lock)(rw);                           \
		}                                                                                  \
		return -gr_rwlock_##kind##lock(rw, &GR_FOREVER);                                   \
	}                                                                                          \
	GR_EXPORT int pthread_rwlock_try##kind##lock(pthread_rwlock_t *rw)                         \
	{                                                                                          \
		int err;                                                                           \
		if (!gr_green()) {                                                                 \
			foreign();                                                                 \
			return GR_REAL(pthread_rwlock_try##kind##lock)(rw);                        \
		}                                                                                  \
		err = -gr_rwlock_##kind##lock(rw, &GR_TRY);                                        \
		gr_maybe_yield();                                                                  \
		return err == EDEADLK ? EBUSY : err;                                               \
	}                                                                                          \
	GR_EXPORT int pthread_rwlock_timed##kind##lock(pthread_rwlock_t *restrict rw,              \
						       const struct timespec *restrict abstime)    \
	{                                                                                          \
		struct gr_timeout to = {abstime, CLOCK_REALTIME, 0};                               \
		if (!gr_green()) {                                                                 \
			foreign();                                                                 \
			return GR_REAL(pthread_rwlock_timed##kind##lock)(rw, abstime);             \
		}                                                                                  \
		if (!valid_abstime(abstime))                                                       \
			return EINVAL;                                                             \
		return -gr_rwlock_##kind##lock(rw, &to);                                           \
	}                                                                                          \
	GR_EXPORT int pthread_rwlock_clock##kind##lock(pthread_rwlock_t *restrict rw,              \
						       clockid_t clk,                              \
						       const struct timespec *restrict abstime)    \
	{                                                                                          \
		struct gr_timeout to = {abstime, clk, 0};                                          \
		if (!gr_green()) {                                                                 \
			foreign();                                                                 \
			return GR_REAL(pthread_rwlock_clock##kind##lock)(rw, clk, abstime);        \
		}                                                                                  \
		if (!gr_timeout_clock_ok(clk) || !valid_abstime(abstime))                          \
			return EINVAL;                                                             \
		return -gr_rwlock_##kind##lock(rw, &to);                                           \
	}

RW_HOOKS(rd)
RW_HOOKS(wr)

GR_EXPORT int pthread_rwlock_unlock(pthread_rwlock_t *rw)
{
	if (!gr_green()) {
		foreign();
		return GR_REAL(pthread_rwlock_unlock)(rw);
	}
	return -gr_rwlock_unlock(rw);
}
