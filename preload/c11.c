/* C11 <threads.h>: threads (thrd_*), mutexes (mtx_*), conditions (cnd_*),
 * call_once and thread-specific storage (tss_*); thrd_sleep is sleep.c's.
 *
 * glibc implements each by calling its own pthread functions inside libc,
 * where our pthread_* hooks never see the call: a green thread in glibc's
 * mtx_lock or cnd_wait would block the OS thread. So each is hooked and
 * calls the exported pthread function it stands for, on the object that is
 * underneath (mtx_t is a pthread_mutex_t, cnd_t a pthread_cond_t, once_flag
 * a pthread_once_t, tss_t a pthread_key_t: glibc's own casts). That hook is
 * the green path; for a caller that is not green it is glibc's function,
 * the one glibc's C11 function calls, and for a foreign OS thread also the
 * news for green waiters (foreign.h). Its result becomes C11's as glibc
 * maps it. init and destroy go the same way (to glibc's today: plain data),
 * so that each C11 call follows its pthread equivalent wherever that goes.
 *
 * The thrd_* hooks are shaped as the pthread lifecycle ones: a thread that
 * is not green gets glibc's thrd_*, which differ from the pthread functions
 * only in the start function's type and the result codes. */
#include "hook.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

/* glibc's mapping of a pthread error number to a C11 result (thrd_priv.h):
 * an error C11 has no name for is thrd_error (EAGAIN too). */
static int thrd_result(int err)
{
	switch (err) {
	case 0: return thrd_success;
	case ENOMEM: return thrd_nomem;
	case ETIMEDOUT: return thrd_timedout;
	case EBUSY: return thrd_busy;
	default: return thrd_error;
	}
}

/* The casts below stand on these, as glibc's own do. */
_Static_assert(sizeof(thrd_t) == sizeof(pthread_t), "thrd_t is a pthread_t");
_Static_assert(sizeof(mtx_t) == sizeof(pthread_mutex_t), "mtx_t is a pthread_mutex_t");
_Static_assert(sizeof(cnd_t) == sizeof(pthread_cond_t), "cnd_t is a pthread_cond_t");
_Static_assert(sizeof(once_flag) == sizeof(pthread_once_t), "once_flag is a pthread_once_t");
_Static_assert(sizeof(tss_t) == sizeof(pthread_key_t), "tss_t is a pthread_key_t");

/* A C11 thread's function and argument, until it starts. */
struct c11_start {
	thrd_start_t func; /* returns int, not void * */
	void *arg;
};

/* As glibc's start of a C11 thread: the function is called with its own
 * type and its int becomes the thread's value as (void *)(uintptr_t), which
 * thrd_join truncates back (pthread_join of a C11 thread sees it so). */
static void *c11_run(void *p)
{
	struct c11_start s = *(struct c11_start *)p;

	free(p);
	return (void *)(uintptr_t)s.func(s.arg);
}

GR_EXPORT int thrd_create(thrd_t *thr, thrd_start_t func, void *arg)
{
	struct c11_start *s;
	int err;

	if (!gr_green_or_start())
		return GR_REAL(thrd_create)(thr, func, arg);
	int saved = errno; /* thrd_* leave errno alone */
	s = malloc(sizeof(*s));
	errno = saved;
	if (!s) /* no memory for a thread: glibc says EAGAIN, thrd_error */
		return thrd_error;
	s->func = func;
	s->arg = arg;
	err = pthread_create((pthread_t *)thr, NULL, c11_run, s);
	if (err)
		free(s);
	return thrd_result(err);
}

GR_EXPORT int thrd_join(thrd_t thr, int *res)
{
	void *ret;
	int err;

	if (!gr_green())
		return GR_REAL(thrd_join)(thr, res);
	err = pthread_join((pthread_t)thr, &ret);
	if (err == 0 && res)
		*res = (int)(uintptr_t)ret;
	return thrd_result(err);
}

GR_EXPORT int thrd_detach(thrd_t thr)
{
	if (!gr_green())
		return GR_REAL(thrd_detach)(thr);
	return thrd_result(pthread_detach((pthread_t)thr));
}

GR_EXPORT thrd_t thrd_current(void)
{
	if (!gr_green())
		return GR_REAL(thrd_current)();
	return (thrd_t)gr_rt.cur->handle;
}

GR_EXPORT int thrd_equal(thrd_t a, thrd_t b)
{
	return a == b;
}

GR_EXPORT void thrd_yield(void)
{
	if (!gr_green()) {
		GR_REAL(thrd_yield)();
		return;
	}
	gr_yield();
}

/* As glibc's (its __pthread_exit): the thread unwinds, running cleanup
 * handlers and C++ destructors, as pthread_exit's hook does. */
GR_EXPORT void thrd_exit(int res)
{
	if (!gr_green())
		GR_REAL(thrd_exit)(res);
	gr_thread_unwind((void *)(uintptr_t)res);
}

GR_EXPORT int mtx_init(mtx_t *m, int type)
{
	pthread_mutexattr_t attr;
	int kind = PTHREAD_MUTEX_NORMAL;

	/* As glibc: recursive only with plain or timed beside it; any other
	 * type, valid or not, is a normal mutex (mtx_timed makes no
	 * difference: every pthread mutex has a timedlock). */
	if (type == (mtx_plain | mtx_recursive) || type == (mtx_timed | mtx_recursive))
		kind = PTHREAD_MUTEX_RECURSIVE;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, kind);
	return thrd_result(pthread_mutex_init((pthread_mutex_t *)m, &attr));
}

GR_EXPORT void mtx_destroy(mtx_t *m)
{
	pthread_mutex_destroy((pthread_mutex_t *)m);
}

GR_EXPORT int mtx_lock(mtx_t *m)
{
	return thrd_result(pthread_mutex_lock((pthread_mutex_t *)m));
}

GR_EXPORT int mtx_trylock(mtx_t *m)
{
	return thrd_result(pthread_mutex_trylock((pthread_mutex_t *)m));
}

GR_EXPORT int mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict abstime)
{
	return thrd_result(pthread_mutex_timedlock((pthread_mutex_t *)m, abstime));
}

GR_EXPORT int mtx_unlock(mtx_t *m)
{
	return thrd_result(pthread_mutex_unlock((pthread_mutex_t *)m));
}

GR_EXPORT int cnd_init(cnd_t *c)
{
	return thrd_result(pthread_cond_init((pthread_cond_t *)c, NULL));
}

GR_EXPORT void cnd_destroy(cnd_t *c)
{
	pthread_cond_destroy((pthread_cond_t *)c);
}

GR_EXPORT int cnd_wait(cnd_t *c, mtx_t *m)
{
	return thrd_result(pthread_cond_wait((pthread_cond_t *)c, (pthread_mutex_t *)m));
}

/* TIME_UTC is CLOCK_REALTIME, the clock of a condition cnd_init made. */
GR_EXPORT int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m,
			    const struct timespec *restrict abstime)
{
	return thrd_result(
		pthread_cond_timedwait((pthread_cond_t *)c, (pthread_mutex_t *)m, abstime));
}

GR_EXPORT int cnd_signal(cnd_t *c)
{
	return thrd_result(pthread_cond_signal((pthread_cond_t *)c));
}

GR_EXPORT int cnd_broadcast(cnd_t *c)
{
	return thrd_result(pthread_cond_broadcast((pthread_cond_t *)c));
}

GR_EXPORT void call_once(once_flag *flag, void (*func)(void))
{
	pthread_once((pthread_once_t *)(void *)flag, func);
}

GR_EXPORT int tss_create(tss_t *key, tss_dtor_t dtor)
{
	return thrd_result(pthread_key_create((pthread_key_t *)key, dtor));
}

GR_EXPORT void tss_delete(tss_t key)
{
	pthread_key_delete((pthread_key_t)key);
}

GR_EXPORT void *tss_get(tss_t key)
{
	return pthread_getspecific((pthread_key_t)key);
}

GR_EXPORT int tss_set(tss_t key, void *value)
{
	return thrd_result(pthread_setspecific((pthread_key_t)key, value));
}
