/* Policy and priority per green thread (schedattr.h). */
#include "schedattr.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "clock.h"
#include "real.h"
#include "sched.h"

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif

static int64_t rr_slice_ns;

static int is_rt(int policy)
{
	return policy == SCHED_FIFO || policy == SCHED_RR;
}

/* CAP_SYS_NICE in the effective set: the kernel's capable(CAP_SYS_NICE).
 * Asked each time, so that a program that drops it is answered as then. */
static int can_sys_nice(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2] = {{0}};

	if (gr_real.syscall(SYS_capget, &h, d) != 0)
		return 0;
	return (d[CAP_SYS_NICE / 32].effective >> (CAP_SYS_NICE % 32)) & 1;
}

static unsigned long rlimit_cur(int which)
{
	struct rlimit rl;

	return getrlimit(which, &rl) == 0 ? rl.rlim_cur : 0;
}

int gr_schedattr_check(int cur_policy, int cur_prio, int policy, int prio)
{
	policy &= ~SCHED_RESET_ON_FORK;
	if (policy != SCHED_OTHER && policy != SCHED_FIFO && policy != SCHED_RR &&
	    policy != SCHED_BATCH && policy != SCHED_IDLE)
		return -EINVAL; /* SCHED_DEADLINE needs sched_setattr's parameters */
	if (prio < 0 || prio > GR_RT_PRIOS - 1 || is_rt(policy) != (prio != 0))
		return -EINVAL;
	if (can_sys_nice())
		return 0;
	/* The kernel's rules for an unprivileged caller (__sched_setscheduler):
	 * a real-time policy only within RLIMIT_RTPRIO; out of SCHED_IDLE
	 * only if RLIMIT_NICE allows nice 0. */
	if (is_rt(policy)) {
		unsigned long rlim = rlimit_cur(RLIMIT_RTPRIO);
		if (policy != cur_policy && !rlim)
			return -EPERM;
		if (prio > cur_prio && (unsigned long)prio > rlim)
			return -EPERM;
	}
	if (cur_policy == SCHED_IDLE && policy != SCHED_IDLE && rlimit_cur(RLIMIT_NICE) < 20)
		return -EPERM;
	return 0;
}

void gr_schedattr_init(struct gr_thread *m)
{
	struct sched_param sp = {0};
	int policy = gr_real.sched_getscheduler(0);

	if (policy < 0 || gr_real.sched_getparam(0, &sp) < 0)
		policy = SCHED_OTHER;
	m->reset_on_fork = (policy & SCHED_RESET_ON_FORK) != 0;
	m->policy = (unsigned char)(policy & ~SCHED_RESET_ON_FORK);
	m->rt_prio = is_rt(m->policy) ? (unsigned char)sp.sched_priority : 0;
	m->realtime = is_rt(m->policy);
}

int gr_schedattr_set(struct gr_thread *t, int policy, int prio)
{
	int err = gr_schedattr_check(t->policy, t->rt_prio, policy, prio);

	if (err < 0)
		return err;
	gr_runq_requeue(t, policy & ~SCHED_RESET_ON_FORK, prio);
	t->reset_on_fork = (policy & SCHED_RESET_ON_FORK) != 0;
	return 0;
}

void gr_schedattr_get(const struct gr_thread *t, int *policy, int *prio)
{
	*policy = t->policy | (t->reset_on_fork ? SCHED_RESET_ON_FORK : 0);
	*prio = t->rt_prio;
}

int64_t gr_schedattr_rr_slice(void)
{
	if (!rr_slice_ns) {
		/* What sched_rr_get_interval answers for a SCHED_RR thread. */
		char buf[32] = {0};
		int fd = gr_real.open("/proc/sys/kernel/sched_rr_timeslice_ms",
				      O_RDONLY | O_CLOEXEC);
		long ms = 0;
		if (fd >= 0) {
			if (gr_real.read(fd, buf, sizeof(buf) - 1) > 0)
				ms = strtol(buf, NULL, 10);
			gr_real.close(fd);
		}
		rr_slice_ns = (ms > 0 ? ms : 100) * GR_MSEC;
	}
	return rr_slice_ns;
}
