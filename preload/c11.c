/* C11 <threads.h> thread functions. glibc implements them by calling its
 * pthread functions internally, which bypasses our exported pthread_*, so
 * each is hooked and mapped onto the green equivalents, with C11's result
 * codes. (thrd_sleep lives with the other sleeps in sleep.c.) */
#include "hook.h"

#include <errno.h>
#include <stdint.h>

GR_EXPORT int thrd_create(thrd_t *thr, thrd_start_t func, void *arg)
{
	int err;

	if (!gr_green_or_start())
		return GR_REAL(thrd_create)(thr, func, arg);
	/* As glibc: the int-returning function runs as a void*-returning
	 * one; thrd_join keeps the low 32 bits of what it returned. */
	err = pthread_create((pthread_t *)thr, NULL, (void *(*)(void *))(void (*)(void))func, arg);
	return err == 0 ? thrd_success : err == ENOMEM || err == EAGAIN ? thrd_nomem : thrd_error;
}

GR_EXPORT int thrd_join(thrd_t thr, int *res)
{
	void *ret;

	if (!gr_green())
		return GR_REAL(thrd_join)(thr, res);
	if (pthread_join((pthread_t)thr, &ret) != 0)
		return thrd_error;
	if (res)
		*res = (int)(intptr_t)ret;
	return thrd_success;
}

GR_EXPORT int thrd_detach(thrd_t thr)
{
	if (!gr_green())
		return GR_REAL(thrd_detach)(thr);
	return pthread_detach((pthread_t)thr) == 0 ? thrd_success : thrd_error;
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

GR_EXPORT void thrd_exit(int res)
{
	if (!gr_green())
		GR_REAL(thrd_exit)(res);
	gr_thread_exit((void *)(intptr_t)res);
}
