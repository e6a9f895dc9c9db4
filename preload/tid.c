/* Thread ids: gettid() and syscall(SYS_gettid) answer the green thread's
 * own id (runtime/tid.h), and the calls that take a tid accept a green
 * one and act on the right thing:
 * - tgkill, and tkill and rt_tgsigqueueinfo through syscall(): the signal
 *   goes to that green thread, as pthread_kill and pthread_sigqueue do;
 * - sched_setscheduler, sched_getscheduler, sched_setparam,
 *   sched_getparam, sched_rr_get_interval: that thread's own policy and
 *   priority (runtime/schedattr.h);
 * - sched_setaffinity, sched_getaffinity, setpriority and getpriority with
 *   PRIO_PROCESS: the OS thread's, which all green threads share; so is
 *   sched_getcpu's CPU (glibc reads it from the calling thread's rseq
 *   area, which the kernel keeps only in the OS thread's block).
 * - set_tid_address through syscall(): answers the caller's id, and
 *   leaves the OS thread's address as it is (README).
 * Ids that name no green thread (another process's, a foreign OS
 * thread's, one that has ended) go to the kernel unchanged, which answers
 * as natively (ESRCH for an ended one); kill() of a green id signals the
 * process, as the kernel's kill of a tid (signal.c). What is not mapped:
 * pidfd_open, sched_setattr/sched_getattr, ioprio_*, prlimit,
 * fcntl(F_SETOWN_EX), timer_create's SIGEV_THREAD_ID, ptrace, and
 * process_vm_*: those reach the kernel with an id it does not know
 * (README). */
#include "hook.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "../runtime/schedattr.h"
#include "../runtime/signal.h"
#include "../runtime/tid.h"
#include "tid.h"

/* The green thread a tid argument names: 0 is the caller. */
static struct gr_thread *target(pid_t tid)
{
	return tid == 0 ? gr_rt.cur : gr_tid_find(tid);
}

GR_EXPORT pid_t gettid(void)
{
	if (!gr_green())
		return GR_REAL(gettid)();
	return gr_tid_of(gr_rt.cur);
}

/* tgkill's contract for a green target t: the kernel's order of checks,
 * then what pthread_kill does. Returns 0 or -errno. */
static long send_to(pid_t tgid, struct gr_thread *t, int sig, const siginfo_t *given)
{
	siginfo_t info;

	if (tgid <= 0)
		return -EINVAL;
	if (tgid != getpid())
		return -ESRCH; /* found by its id first, then its process checked */
	if (sig < 0 || sig >= GR_NSIG)
		return -EINVAL;
	if (sig == 0)
		return 0;
	if (given) {
		info = *given;
		info.si_signo = sig;
	} else {
		memset(&info, 0, sizeof(info));
		info.si_signo = sig;
		info.si_code = SI_TKILL;
		info.si_pid = getpid();
		info.si_uid = getuid();
	}
	if (gr_signal_send(t, sig, &info))
		return 0;
	/* The kernel's own action (default, ignore) applies to the process. */
	return GR_REAL(tgkill)(getpid(), gr_rt.os_tid, sig) < 0 ? -errno : 0;
}

GR_EXPORT int tgkill(pid_t tgid, pid_t tid, int sig)
{
	struct gr_thread *t;

	if (!gr_green() || !(t = gr_tid_find(tid)))
		return GR_REAL(tgkill)(tgid, tid, sig);
	return (int)gr_ret(send_to(tgid, t, sig, NULL));
}

static long sched_set(struct gr_thread *t, int policy, const struct sched_param *p)
{
	if (!p)
		return -EINVAL;
	return gr_schedattr_set(t, policy, p->sched_priority);
}

GR_EXPORT int sched_setscheduler(pid_t pid, int policy, const struct sched_param *p)
{
	struct gr_thread *t;

	if (!gr_green() || pid < 0 || !(t = target(pid)))
		return GR_REAL(sched_setscheduler)(pid, policy, p);
	return (int)gr_ret(sched_set(t, policy, p));
}

GR_EXPORT int sched_getscheduler(pid_t pid)
{
	struct gr_thread *t;
	int policy, prio;

	if (!gr_green() || pid < 0 || !(t = target(pid)))
		return GR_REAL(sched_getscheduler)(pid);
	gr_schedattr_get(t, &policy, &prio);
	return policy;
}

GR_EXPORT int sched_setparam(pid_t pid, const struct sched_param *p)
{
	struct gr_thread *t;
	int policy, prio;

	if (!gr_green() || pid < 0 || !(t = target(pid)))
		return GR_REAL(sched_setparam)(pid, p);
	gr_schedattr_get(t, &policy, &prio);
	return (int)gr_ret(sched_set(t, policy, p));
}

GR_EXPORT int sched_getparam(pid_t pid, struct sched_param *p)
{
	struct gr_thread *t;
	int policy, prio;

	if (!gr_green() || pid < 0 || !p || !(t = target(pid)))
		return GR_REAL(sched_getparam)(pid, p);
	gr_schedattr_get(t, &policy, &prio);
	memset(p, 0, sizeof(*p));
	p->sched_priority = prio;
	return 0;
}

GR_EXPORT int sched_rr_get_interval(pid_t pid, struct timespec *ts)
{
	struct gr_thread *t;

	if (!gr_green() || pid < 0 || !(t = target(pid)))
		return GR_REAL(sched_rr_get_interval)(pid, ts);
	if (t->policy == SCHED_RR) {
		int64_t ns = gr_schedattr_rr_slice();
		ts->tv_sec = ns / 1000000000;
		ts->tv_nsec = ns % 1000000000;
		return 0;
	}
	if (t->policy == SCHED_FIFO) {
		ts->tv_sec = ts->tv_nsec = 0;
		return 0;
	}
	return GR_REAL(sched_rr_get_interval)(0, ts);
}

GR_EXPORT int sched_setaffinity(pid_t pid, size_t size, const cpu_set_t *set)
{
	if (gr_green() && pid > 0 && gr_tid_find(pid))
		pid = 0; /* the OS thread every green thread runs on */
	return GR_REAL(sched_setaffinity)(pid, size, set);
}

GR_EXPORT int sched_getaffinity(pid_t pid, size_t size, cpu_set_t *set)
{
	if (gr_green() && pid > 0 && gr_tid_find(pid))
		pid = 0;
	return GR_REAL(sched_getaffinity)(pid, size, set);
}

GR_EXPORT int sched_getcpu(void)
{
	unsigned cpu;
	int r;

	if (!gr_green() || !gr_tls_private)
		return GR_REAL(sched_getcpu)();
	r = gr_tls_cpu();
	if (r >= 0)
		return r;
	/* As glibc without rseq: the kernel's answer, errno on failure. */
	if (GR_REAL(syscall)(SYS_getcpu, &cpu, NULL, NULL) < 0)
		return -1;
	return (int)cpu;
}

GR_EXPORT int setpriority(__priority_which_t which, id_t who, int prio)
{
	if (which == PRIO_PROCESS && who > 0 && gr_green() && gr_tid_find((pid_t)who))
		who = 0; /* nice is the OS thread's */
	return GR_REAL(setpriority)(which, who, prio);
}

GR_EXPORT int getpriority(__priority_which_t which, id_t who)
{
	if (which == PRIO_PROCESS && who > 0 && gr_green() && gr_tid_find((pid_t)who))
		who = 0;
	return GR_REAL(getpriority)(which, who);
}

int gr_tid_syscall(long nr, const long *a, long *ret)
{
	struct gr_thread *t;

	switch (nr) {
	case SYS_gettid: *ret = gr_tid_of(gr_rt.cur); return 1;
	case SYS_tgkill:
		if (!(t = gr_tid_find((pid_t)a[1])))
			return 0;
		*ret = gr_ret(send_to((pid_t)a[0], t, (int)a[2], NULL));
		return 1;
	case SYS_tkill:
		if (!(t = gr_tid_find((pid_t)a[0])))
			return 0;
		*ret = gr_ret(send_to(getpid(), t, (int)a[1], NULL));
		return 1;
	case SYS_rt_tgsigqueueinfo: {
		const siginfo_t *info = (const siginfo_t *)a[3];
		if (!(t = gr_tid_find((pid_t)a[1])))
			return 0;
		/* The kernel: only a thread sending to its own process's main
		 * id may pose as the kernel or as tgkill. */
		if (info && (info->si_code >= 0 || info->si_code == SI_TKILL) &&
		    gr_tid_of(gr_rt.cur) != (pid_t)a[0]) {
			*ret = gr_ret(-EPERM);
			return 1;
		}
		*ret = gr_ret(info ? send_to((pid_t)a[0], t, (int)a[2], info) : -EFAULT);
		return 1;
	}
	case SYS_rt_sigqueueinfo: {
		const siginfo_t *info = (const siginfo_t *)a[2];
		/* Given a thread's id, the kernel signals that thread's process
		 * (found by the id, as kill's); the id may pose as the kernel
		 * or as kill only when it is the caller's own. */
		if (a[0] <= 0 || a[0] == getpid() || !gr_tid_find((pid_t)a[0]))
			return 0;
		if (info && (info->si_code >= 0 || info->si_code == SI_TKILL) &&
		    gr_tid_of(gr_rt.cur) != (pid_t)a[0]) {
			*ret = gr_ret(-EPERM);
			return 1;
		}
		*ret = GR_REAL(syscall)(nr, (long)getpid(), a[1], a[2]);
		return 1;
	}
	case SYS_sched_setscheduler:
		if (a[0] < 0 || !(t = target((pid_t)a[0])))
			return 0;
		*ret = gr_ret(sched_set(t, (int)a[1], (const struct sched_param *)a[2]));
		return 1;
	case SYS_sched_getscheduler:
		if (a[0] < 0 || !(t = target((pid_t)a[0])))
			return 0;
		*ret = sched_getscheduler((pid_t)a[0]);
		return 1;
	case SYS_sched_setparam:
		if (a[0] < 0 || !target((pid_t)a[0]))
			return 0;
		*ret = sched_setparam((pid_t)a[0], (const struct sched_param *)a[1]);
		return 1;
	case SYS_sched_getparam:
		if (a[0] < 0 || !target((pid_t)a[0]))
			return 0;
		*ret = sched_getparam((pid_t)a[0], (struct sched_param *)a[1]);
		return 1;
	case SYS_sched_setaffinity:
	case SYS_sched_getaffinity:
	case SYS_getpriority:
	case SYS_setpriority: {
		int who = nr == SYS_getpriority || nr == SYS_setpriority ? 1 : 0;
		if (who && a[0] != PRIO_PROCESS)
			return 0;
		if (a[who] <= 0 || !gr_tid_find((pid_t)a[who]))
			return 0;
		if (who)
			*ret = GR_REAL(syscall)(nr, a[0], 0L, a[2]);
		else
			*ret = GR_REAL(syscall)(nr, 0L, a[1], a[2]);
		return 1;
	}
	case SYS_set_tid_address:
		/* The answer is the caller's id. The address stays the OS
		 * thread's, glibc's word for its exit: a green thread ends
		 * without the kernel, which would clear the word it gives. */
		*ret = gr_tid_of(gr_rt.cur);
		return 1;
	default: return 0;
	}
}
