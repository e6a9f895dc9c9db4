/* Cancellation hooks: pthread_cancel, pthread_setcancelstate,
 * pthread_setcanceltype, pthread_testcancel. Cancellation is the green
 * thread's own (runtime/cancel.c): a request is noted in the target and
 * acted on at its cancellation points, or at once where an asynchronously
 * cancellable target waits. A foreign OS thread's calls are glibc's. */
#include "hook.h"

#include <errno.h>
#include <stdint.h>

#include "../runtime/cancel.h"

GR_EXPORT int pthread_cancel(pthread_t th)
{
	if (!gr_green())
		return GR_REAL(pthread_cancel)(th);
	struct gr_thread *t = gr_thread_find((uint64_t)th);

	if (!t)
		return gr_thread_done((uint64_t)th) < 0 ? ESRCH : 0;
	return -gr_cancel(t);
}

GR_EXPORT int pthread_setcancelstate(int state, int *old)
{
	if (!gr_green())
		return GR_REAL(pthread_setcancelstate)(state, old);
	return -gr_cancel_setstate(state, old);
}

GR_EXPORT int pthread_setcanceltype(int type, int *old)
{
	if (!gr_green())
		return GR_REAL(pthread_setcanceltype)(type, old);
	return -gr_cancel_settype(type, old);
}

GR_EXPORT void pthread_testcancel(void)
{
	if (!gr_green())
		GR_REAL(pthread_testcancel)();
	else
		gr_cancel_test();
}
