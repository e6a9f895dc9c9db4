/* pthread functions that take a pthread_t but act on the OS thread:
 * scheduling, affinity, the CPU-time clock (signals are in signal.c). glibc would dereference a
 * green pthread_t as its struct pthread and crash, so each is hooked, checks that the thread exists
 * (ESRCH otherwise, as glibc), and passes the real handle of the runtime thread, the OS thread
 * every green thread runs on. For a thread that has finished but is not joined, glibc's
 * scheduling and clock calls see no kernel tid (ESRCH), its affinity calls act on tid 0, the
 * caller (as here).
 *
 * Cancellation is the green thread's own: pthread_cancel, the cancel state
 * and type, and pthread_testcancel (runtime/cancel.c). */
#include "hook.h"

#include <errno.h>
#include <stdint.h>

#include "../runtime/cancel.h"
/* gr_os_thread for a thread that has not finished (glibc reads its kernel
 * tid, which a finished thread no longer has); 0 otherwise. */
static pthread_t live_os_thread(pthread_t th)
{
	return gr_thread_done((uint64_t)th) == 0 ? gr_os_thread(th) : 0;
}

GR_EXPORT int pthread_getschedparam(pthread_t th, int *policy, struct sched_param *param)
{
	pthread_t os;

	if (!gr_green())
		return GR_REAL(pthread_getschedparam)(th, policy, param);
	os = live_os_thread(th);
	return os ? GR_REAL(pthread_getschedparam)(os, policy, param) : ESRCH;
}

GR_EXPORT int pthread_setschedparam(pthread_t th, int policy, const struct sched_param *param)
{
	pthread_t os;

	if (!gr_green())
		return GR_REAL(pthread_setschedparam)(th, policy, param);
	os = live_os_thread(th);
	return os ? GR_REAL(pthread_setschedparam)(os, policy, param) : ESRCH;
}

GR_EXPORT int pthread_setschedprio(pthread_t th, int prio)
{
	pthread_t os;

	if (!gr_green())
		return GR_REAL(pthread_setschedprio)(th, prio);
	os = live_os_thread(th);
	return os ? GR_REAL(pthread_setschedprio)(os, prio) : ESRCH;
}

GR_EXPORT int pthread_getcpuclockid(pthread_t th, clockid_t *clk)
{
	pthread_t os;

	if (!gr_green())
		return GR_REAL(pthread_getcpuclockid)(th, clk);
	os = live_os_thread(th);
	return os ? GR_REAL(pthread_getcpuclockid)(os, clk) : ESRCH;
}

GR_EXPORT int pthread_setaffinity_np(pthread_t th, size_t size, const cpu_set_t *set)
{
	pthread_t os;

	if (!gr_green())
		return GR_REAL(pthread_setaffinity_np)(th, size, set);
	os = gr_os_thread(th);
	return os ? GR_REAL(pthread_setaffinity_np)(os, size, set) : ESRCH;
}

GR_EXPORT int pthread_getaffinity_np(pthread_t th, size_t size, cpu_set_t *set)
{
	pthread_t os;

	if (!gr_green())
		return GR_REAL(pthread_getaffinity_np)(th, size, set);
	os = gr_os_thread(th);
	return os ? GR_REAL(pthread_getaffinity_np)(os, size, set) : ESRCH;
}

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
