/* pthread functions about a thread's place on the CPU: scheduling policy
 * and priority, the CPU-time clock, the CPU affinity. glibc would
 * dereference a green pthread_t as its struct pthread and crash, so each
 * is hooked and checks that the thread exists (ESRCH otherwise, as glibc).
 * For a thread that has finished but is not joined, glibc's scheduling and
 * clock calls see no kernel tid (ESRCH), its affinity calls act on tid 0,
 * the caller (as here).
 *
 * Policy and priority are each green thread's own (runtime/schedattr.h),
 * with the kernel's EINVAL and EPERM, and the scheduler honours them. The
 * CPU clock is the green thread's own time (runtime/cpuclock.h). The
 * affinity is the one OS thread's, which every green thread runs on: set
 * for one, it is set for all (an attr's, at the create: thread.c). Signals
 * are signal.c's, cancellation cancel.c's. */
#include "hook.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "../runtime/cpuclock.h"
#include "../runtime/schedattr.h"
#include "../runtime/tid.h"

/* The thread th names while it has not finished (glibc reads its kernel
 * tid, which a finished thread no longer has); NULL otherwise. */
static struct gr_thread *live_thread(pthread_t th)
{
	struct gr_thread *t = gr_thread_find((uint64_t)th);

	return t && t->state != GR_DONE ? t : NULL;
}

GR_EXPORT int pthread_getschedparam(pthread_t th, int *policy, struct sched_param *param)
{
	struct gr_thread *t;
	int prio;

	if (!gr_green())
		return GR_REAL(pthread_getschedparam)(th, policy, param);
	t = live_thread(th);
	if (!t)
		return ESRCH;
	gr_schedattr_get(t, policy, &prio);
	memset(param, 0, sizeof(*param));
	param->sched_priority = prio;
	return 0;
}

GR_EXPORT int pthread_setschedparam(pthread_t th, int policy, const struct sched_param *param)
{
	struct gr_thread *t;

	if (!gr_green())
		return GR_REAL(pthread_setschedparam)(th, policy, param);
	t = live_thread(th);
	if (!t)
		return ESRCH;
	return -gr_schedattr_set(t, policy, param->sched_priority);
}

GR_EXPORT int pthread_setschedprio(pthread_t th, int prio)
{
	struct gr_thread *t;
	int policy, old;

	if (!gr_green())
		return GR_REAL(pthread_setschedprio)(th, prio);
	t = live_thread(th);
	if (!t)
		return ESRCH;
	gr_schedattr_get(t, &policy, &old);
	return -gr_schedattr_set(t, policy, prio);
}

GR_EXPORT int pthread_getcpuclockid(pthread_t th, clockid_t *clk)
{
	struct gr_thread *t;

	if (!gr_green())
		return GR_REAL(pthread_getcpuclockid)(th, clk);
	t = live_thread(th);
	if (!t)
		return ESRCH;
	gr_cpuclock_enable();
	*clk = gr_cpuclock_id(gr_tid_of(t));
	return 0;
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
