/* pthread functions that take a pthread_t but act on the OS thread:
 * scheduling, affinity, the CPU-time clock (signals are in signal.c). glibc would dereference a
 * green pthread_t as its struct pthread and crash, so each is hooked, checks that the thread exists
 * (ESRCH otherwise, as glibc), and passes the real handle of the runtime thread, the OS thread
 * every green thread runs on.
 *
 * pthread_cancel of a green thread is not implemented yet and answers
 * ENOTSUP. */
#include "hook.h"

#include <errno.h>
#include <stdint.h>

GR_EXPORT int pthread_getschedparam(pthread_t th, int *policy, struct sched_param *param)
{
	pthread_t os;

	if (!gr_green())
		return GR_REAL(pthread_getschedparam)(th, policy, param);
	os = gr_os_thread(th);
	return os ? GR_REAL(pthread_getschedparam)(os, policy, param) : ESRCH;
}

GR_EXPORT int pthread_setschedparam(pthread_t th, int policy, const struct sched_param *param)
{
	pthread_t os;

	if (!gr_green())
		return GR_REAL(pthread_setschedparam)(th, policy, param);
	os = gr_os_thread(th);
	return os ? GR_REAL(pthread_setschedparam)(os, policy, param) : ESRCH;
}

GR_EXPORT int pthread_setschedprio(pthread_t th, int prio)
{
	pthread_t os;

	if (!gr_green())
		return GR_REAL(pthread_setschedprio)(th, prio);
	os = gr_os_thread(th);
	return os ? GR_REAL(pthread_setschedprio)(os, prio) : ESRCH;
}

GR_EXPORT int pthread_getcpuclockid(pthread_t th, clockid_t *clk)
{
	pthread_t os;

	if (!gr_green())
		return GR_REAL(pthread_getcpuclockid)(th, clk);
	os = gr_os_thread(th);
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
	if (gr_thread_done((uint64_t)th) < 0)
		return ESRCH;
	gr_log(GR_LOG_WARN, "pthread_cancel of a green thread is not supported yet");
	return ENOTSUP;
}
