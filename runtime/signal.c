/* The program's signal handlers, run in green threads (signal.h). */
#include "preempt.h"
#include "signal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "fdwait.h"
#include "fork.h"
#include "log.h"
#include "ownfd.h"
#include "monitor.h"
#include "real.h"
#include "wait.h"
#include "worker.h"

/* The program's sigaction per signal, when it has a handler behind our
 * trampoline. Written by gr_sigaction, read by the trampoline. */
static struct sigaction user[GR_NSIG];
static volatile sig_atomic_t installed[GR_NSIG];
/* Signals that arrived on the runtime thread and await dispatch, and the
 * last siginfo of each (standard signals coalesce; real-time ones sent to
 * the process queue in sigqueue.c, and this is the one handed out). */
static uint64_t arrived; /* atomic bit mask */
static siginfo_t arrived_info[GR_NSIG];
/* Process-directed signals that every thread blocked when they were
 * dispatched (a mask changed after they arrived): the kernel would keep
 * them pending for the process, so do we. */
static uint64_t proc_pending;
/* Signals that may be pending on some thread that blocks them: sigaction
 * walks the threads to discard one only when its bit is here. */
static uint64_t held;
/* For a signal that arrived for one thread (a write's SIGPIPE), or that
 * the kernel offered first to the running one (cpu_time_signal), that
 * thread's handle; 0 for the process's. */
static uint64_t arrived_for[GR_NSIG];
static volatile sig_atomic_t sending; /* a kill() of our own is in flight */
static pid_t self_pid;
static int sig_fd = -1;
static uv_poll_t sig_poll;

/* The signals an instruction raises (a fault): their handler runs where it
 * happens, on the faulting stack; the kernel takes them first. */
#define FAULTS                                                                                     \
	(GR_SIGBIT(SIGSEGV) | GR_SIGBIT(SIGBUS) | GR_SIGBIT(SIGILL) | GR_SIGBIT(SIGFPE) |          \
	 GR_SIGBIT(SIGTRAP) | GR_SIGBIT(SIGSYS))

/* Every handler gets the three arguments, as the kernel passes them. Never
 * as a tail call: preemption's stack scan (preempt.c) relies on our frame
 * that calls program code staying on the stack, its return address just
 * past an indirect call. */
static void call_handler(const struct sigaction *a, int sig, siginfo_t *info, void *uc)
{
	if (a->sa_flags & SA_SIGINFO)
		a->sa_sigaction(sig, info, uc);
	else
		((void (*)(int, siginfo_t *, void *))(void (*)(void))a->sa_handler)(sig, info, uc);
	__asm__ volatile("" ::: "memory");
}

int gr_signal_is_own_kernel(const siginfo_t *info)
{
	return (GR_SIGBIT(info->si_signo) & GR_SIG_THREAD_DIRECTED) && info->si_code == SI_USER &&
	       info->si_pid == self_pid && !sending;
}

void gr_signal_sending(int on)
{
	sending = on;
}

static int run_now(int sig, siginfo_t *info, ucontext_t *uc);
static int sent_by_this_call(int sig, const siginfo_t *info, void *uc, int *own_held);

/* Raised by the thread running now, for what it does: a fault of its
 * instruction, or a tgkill of its own (abort, assert, a raw tgkill; our
 * raise does not come here), which the kernel delivers on the way out of
 * that system call, before the call returns. */
static int synchronous(int sig, const siginfo_t *info)
{
	if (info->si_code > 0)
		return (GR_SIGBIT(sig) & FAULTS) != 0;
	return info->si_code == SI_TKILL && info->si_pid == self_pid;
}

/* A signal the process's CPU time raised: ITIMER_PROF's SIGPROF,
 * ITIMER_VIRTUAL's SIGVTALRM, RLIMIT_CPU's SIGXCPU (the kernel's SI_KERNEL;
 * one sent by a program is SI_USER or SI_QUEUE). It is the process's, but
 * the kernel offers it first to the thread whose tick used up the time,
 * the one running then, unless it blocks it. */
static int cpu_time_signal(int sig, const siginfo_t *info)
{
	return info->si_code == SI_KERNEL && (sig == SIGPROF || sig == SIGVTALRM || sig == SIGXCPU);
}

/* Notes a signal that arrived on the runtime thread (or on a worker, which
 * stands in for none of the program's threads), for gr_signal_dispatch, and
 * wakes the loop. */
static void note(int sig, const siginfo_t *info)
{
	struct gr_thread *cur = gr_rt.cur;
	int running = gr_tls_runtime && cur != NULL && cur->magic == GR_MAGIC;

	/* The kernel raised it for the call the running thread made, or for
	 * the CPU time it spent. */
	arrived_for[sig] =
		running && (gr_signal_is_own_kernel(info) ||
			    (cpu_time_signal(sig, info) && gr_signal_accepts(cur, GR_SIGBIT(sig))))
			? cur->handle
			: 0;
	/* A real-time one sent to the process waits its turn (sigqueue.c). */
	if (arrived_for[sig] || gr_sigqueue_push(sig, info) == -1)
		arrived_info[sig] = *info;
	__atomic_or_fetch(&arrived, GR_SIGBIT(sig), __ATOMIC_SEQ_CST);
	gr_rt.sig_pending = 1;
	if (sig_fd >= 0) {
		uint64_t one = 1;
		int saved = errno;
		if (gr_real.write(sig_fd, &one, sizeof(one)) < 0) {
			/* full counter: the loop is awake anyway */
		}
		errno = saved;
	}
}

static int own_taken; /* gr_signal_take_own ran */
static int own_signal(const siginfo_t *info, void *uc);
static void own_unhandled(const siginfo_t *info);

static uint64_t deliverable(const struct gr_thread *t, uint64_t exclude);
static uint64_t sigwait_set_of(const struct gr_thread *t);

/* At a safe point of the running thread (gr_preempt_safe): its handler
 * runs on top of the kernel's frame, or, for a signal another thread takes,
 * this one yields so that the other runs its handler soon, where natively
 * it would run on another CPU at once. */
static void deliver_here(void *uc)
{
	struct gr_thread *self = gr_rt.cur;
	int saved = errno;

	gr_signal_dispatch();
	if (deliverable(self, sigwait_set_of(self))) {
		gr_signal_deliver(uc);
	} else if (gr_sched_others_runnable()) {
		gr_sched_preempted();
		gr_sigmask_to_frame(uc);
	}
	errno = saved;
}

int gr_own_held;

void gr_signal_own_release(void)
{
	uint64_t bit = GR_SIGBIT(GR_SIG_OWN);

	gr_own_held = 0;
	gr_real.syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &bit, NULL, sizeof(bit));
}

static void take(int sig, siginfo_t *info, void *uc);

static void trampoline(int sig, siginfo_t *info, void *uc)
{
	int was;

	if (sig != GR_SIG_OWN || !own_taken) {
		take(sig, info, uc);
		return;
	}
	/* The kernel blocks GR_SIG_OWN while its handler runs (no
	 * SA_NODEFER: a flood of the program's SIGURG would otherwise nest
	 * frames on one stack until it overflowed, before any instruction of
	 * the handler runs); a switch to another green thread from inside
	 * lifts it first (gr_own_held, sched.c), and the sigreturn puts the
	 * mask of before back. */
	was = gr_own_held;
	if (gr_tls_runtime)
		gr_own_held = !sigismember(&((ucontext_t *)uc)->uc_sigmask, GR_SIG_OWN);
	if (!own_signal(info, uc)) {
		/* The program's SIGURG: a call it interrupts restarts only if
		 * the program's action says so (ours always does). */
		if (installed[sig] && !(user[sig].sa_flags & SA_RESTART))
			gr_ctx_fail_syscall(uc, gr_signal_may_fail);
		take(sig, info, uc);
	}
	if (gr_tls_runtime)
		gr_own_held = was;
}

/* A signal of the program's, from the trampoline. */
static void take(int sig, siginfo_t *info, void *uc)
{
	int own_beneath;

	if (sig <= 0 || sig >= GR_NSIG || !installed[sig]) {
		if (sig == GR_SIG_OWN && own_taken)
			own_unhandled(info);
		return;
	}
	if (!gr_rt.started || !(gr_tls_runtime || gr_work_on_worker())) {
		/* Before the runtime, or on an OS thread of the program's that
		 * is not green: as is. */
		int saved = errno;
		call_handler(&user[sig], sig, info, uc);
		errno = saved;
		return;
	}
	if (gr_tls_runtime && synchronous(sig, info) && run_now(sig, info, uc))
		return;
	if (gr_tls_runtime && sent_by_this_call(sig, info, uc, &own_beneath)) {
		int was = gr_own_held, r;
		gr_own_held = was || own_beneath;
		r = run_now(sig, info, uc);
		gr_own_held = was;
		if (r)
			return;
	}
	note(sig, info);
	/* It interrupted program code of a green thread where preemption
	 * could switch (preempt.h): delivered now, as the kernel would. */
	if (gr_tls_runtime && gr_preempt_safe(uc))
		deliver_here(uc);
}

/* ownfd.h: a mover. The trampoline reads the number as it runs: the new
 * one names the same file before the old one goes. */
static void moved_sig_fd(int from, int to)
{
	(void)from;
	__atomic_store_n(&sig_fd, to, __ATOMIC_SEQ_CST);
	gr_own_fd_rewatch(sig_poll.loop, &sig_poll.io_watcher, to);
}

static void on_sig_fd(uv_poll_t *h, int status, int events)
{
	uint64_t n;

	(void)h;
	(void)status;
	(void)events;
	if (gr_real.read(sig_fd, &n, sizeof(n)) < 0) {
		/* EAGAIN: another read took it */
	}
}

int gr_signal_init(uv_loop_t *loop)
{
	int err;

	self_pid = getpid();
	err = gr_sigmask_init();
	if (err < 0)
		return err;
	sig_fd = gr_own_fd_high(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
	if (sig_fd < 0)
		return -errno;
	gr_own_fd_add(sig_fd);
	gr_own_fd_mover(sig_fd, moved_sig_fd);
	err = uv_poll_init(loop, &sig_poll, sig_fd);
	if (err == 0)
		err = uv_poll_start(&sig_poll, UV_READABLE, on_sig_fd);
	/* A loop with only this handle must not keep uv_run from returning. */
	if (err == 0)
		uv_unref((uv_handle_t *)&sig_poll);
	return err;
}

/* In a fork child: the eventfd is the parent's too (the trampoline of one
 * process would wake the other's loop, and either could read away the
 * other's wake-up); a new one takes its number, which sig_poll watches.
 * Signals that reached the parent are not the child's. */
static int make_sig_fd(void)
{
	return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

int gr_signal_after_fork(void)
{

	__atomic_store_n(&arrived, 0, __ATOMIC_SEQ_CST);
	gr_sigqueue_reset();
	self_pid = getpid();
	if (sig_fd < 0)
		return 0;
	return gr_own_fd_renew(sig_fd, make_sig_fd);
}

int gr_signal_can_wake(void)
{
	/* A fault's handler runs only in a thread that runs: it wakes none. */
	for (int sig = 1; sig < GR_NSIG; sig++)
		if (installed[sig] && !(GR_SIGBIT(sig) & FAULTS))
			return 1;
	return gr_sigwait_parked();
}

int gr_signal_has_handler(int sig)
{
	return sig > 0 && sig < GR_NSIG && installed[sig];
}

/* Whether the disposition act gives sig makes the kernel discard it. */
static int ignores(int sig, const struct sigaction *act)
{
	if (act->sa_handler == SIG_IGN)
		return 1;
	return act->sa_handler == SIG_DFL &&
	       (sig == SIGCHLD || sig == SIGCONT || sig == SIGURG || sig == SIGWINCH);
}

/* POSIX: setting a pending signal to be ignored discards it, whether or
 * not it is blocked. */
static void discard(int sig)
{
	uint64_t bit = GR_SIGBIT(sig);

	__atomic_and_fetch(&arrived, ~bit, __ATOMIC_SEQ_CST);
	gr_sigqueue_flush(sig);
	proc_pending &= ~bit;
	if (held & bit) {
		for (struct gr_thread *t = gr_rt.all; t; t = t->all_next)
			t->sig_pending &= ~bit;
		held &= ~bit;
	}
}

/* ---- The runtime's own signal (signal.h) ----
 * Once taken, the kernel's action for GR_SIG_OWN stays the trampoline,
 * blocking GR_SIG_OWN itself while it runs (lifted when it switches to
 * another green thread: gr_own_held), and restarting the call it interrupted (SA_RESTART) where the
 * handler can undo that (gr_ctx_fail_syscall): a system call the program
 * makes where no hook sees it must not end with EINTR because preemption's
 * or the monitor's signal landed, as no signal the program asked for did;
 * a worker's call that a kick interrupts, and one a SIGURG of the program
 * interrupts whose handler has no SA_RESTART, still end with EINTR (the
 * kernel itself does not restart sleeps and waits with a timeout, which
 * end with EINTR either way). What the program set is kept here, a handler
 * in user[] as for any signal, else own_disp, and is what sigaction
 * reports. */
static struct sigaction own_disp; /* SIG_DFL or SIG_IGN, without a handler */

static int own_install(void)
{
	struct sigaction k;

	memset(&k, 0, sizeof(k));
	k.sa_sigaction = trampoline;
	k.sa_flags = SA_SIGINFO | (gr_ctx_can_fail_syscall ? SA_RESTART : 0);
	sigemptyset(&k.sa_mask);
	return gr_real.sigaction(GR_SIG_OWN, &k, NULL) < 0 ? -errno : 0;
}

/* For a signal whose kernel action becomes ours for good (GR_SIG_OWN,
 * and SIGSYS while sud.c dispatches): the action the kernel had is the
 * program's, a handler in user[], else *disp (SIG_DFL or SIG_IGN). */
static void adopt(int sig, const struct sigaction *cur, struct sigaction *disp)
{
	if (installed[sig])
		return;
	if (cur->sa_handler == SIG_DFL || cur->sa_handler == SIG_IGN) {
		*disp = *cur;
	} else {
		user[sig] = *cur; /* set behind our back (the real sigaction) */
		installed[sig] = 1;
	}
}

/* Linux's SA_RESTORER (asm/signal.h, which clashes with signal.h): the
 * same bit on x86_64 and aarch64, set only where glibc gives the kernel a
 * restorer (x86_64). */
#define GR_SA_RESTORER 0x04000000

/* The program's act as the kernel holds it once glibc's sigaction has
 * installed it, which is what a later sigaction reports as the old action
 * natively: glibc's restorer (x86_64: SA_RESTORER and __restore_rt; a
 * program may take it from there for its own rt_sigaction calls, as LTP's
 * do), and a mask without SIGKILL and SIGSTOP, which the kernel drops.
 * glibc's restorer is learnt from sig's kernel action, one of ours that
 * glibc installed. */
static void as_installed(int sig, const struct sigaction *act, struct sigaction *k)
{
	static struct sigaction glibc;
	static int known;

	if (!known && gr_real.sigaction(sig, NULL, &glibc) == 0)
		known = 1;
	*k = *act;
	k->sa_flags = (act->sa_flags & ~GR_SA_RESTORER) | (glibc.sa_flags & GR_SA_RESTORER);
	k->sa_restorer = glibc.sa_restorer;
	sigdelset(&k->sa_mask, SIGKILL);
	sigdelset(&k->sa_mask, SIGSTOP);
}

/* The program's sigaction for such a signal: kept, a handler in user[],
 * else in *disp, and the kernel's action left alone; *prev is what it
 * replaces. Whether it is a handler. */
static int keep(int sig, const struct sigaction *act, struct sigaction *disp,
		struct sigaction *prev)
{
	*prev = installed[sig] ? user[sig] : *disp;
	if (!act)
		return 0;
	installed[sig] = 0; /* noted first: the trampoline may read it */
	if (act->sa_handler == SIG_DFL || act->sa_handler == SIG_IGN) {
		as_installed(sig, act, disp);
		return 0;
	}
	as_installed(sig, act, &user[sig]);
	installed[sig] = 1;
	return 1;
}

int gr_signal_take_own(void)
{
	const int sig = GR_SIG_OWN;
	struct sigaction cur;
	int err;

	if (own_taken)
		return 0;
	if (gr_real.sigaction(sig, NULL, &cur) < 0)
		return -errno;
	adopt(sig, &cur, &own_disp);
	err = own_install();
	if (err == 0)
		own_taken = 1;
	return err;
}

int gr_signal_send_own(pid_t tid, const void *mark)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	si.si_signo = GR_SIG_OWN;
	si.si_code = SI_QUEUE;
	si.si_pid = self_pid;
	si.si_uid = getuid();
	si.si_value.sival_ptr = (void *)mark;
	if (gr_real.syscall(SYS_rt_tgsigqueueinfo, self_pid, tid, GR_SIG_OWN, &si) < 0)
		return -errno;
	return 0;
}

/* Whether the system call numbered nr can end with EINTR natively (a call
 * that blocks: reads and writes, waits, locks, sleeps), for
 * gr_ctx_fail_syscall: one that cannot (getpid, close, clone, mmap) must
 * never be made to. */
int gr_signal_may_fail(long nr)
{
	switch (nr) {
#ifdef SYS_read
	case SYS_read:
#endif
#ifdef SYS_write
	case SYS_write:
#endif
#ifdef SYS_readv
	case SYS_readv:
#endif
#ifdef SYS_writev
	case SYS_writev:
#endif
#ifdef SYS_pread64
	case SYS_pread64:
#endif
#ifdef SYS_pwrite64
	case SYS_pwrite64:
#endif
#ifdef SYS_preadv
	case SYS_preadv:
#endif
#ifdef SYS_pwritev
	case SYS_pwritev:
#endif
#ifdef SYS_preadv2
	case SYS_preadv2:
#endif
#ifdef SYS_pwritev2
	case SYS_pwritev2:
#endif
#ifdef SYS_recvfrom
	case SYS_recvfrom:
#endif
#ifdef SYS_sendto
	case SYS_sendto:
#endif
#ifdef SYS_recvmsg
	case SYS_recvmsg:
#endif
#ifdef SYS_sendmsg
	case SYS_sendmsg:
#endif
#ifdef SYS_recvmmsg
	case SYS_recvmmsg:
#endif
#ifdef SYS_sendmmsg
	case SYS_sendmmsg:
#endif
#ifdef SYS_accept
	case SYS_accept:
#endif
#ifdef SYS_accept4
	case SYS_accept4:
#endif
#ifdef SYS_connect
	case SYS_connect:
#endif
#ifdef SYS_wait4
	case SYS_wait4:
#endif
#ifdef SYS_waitid
	case SYS_waitid:
#endif
#ifdef SYS_futex
	case SYS_futex:
#endif
#ifdef SYS_futex_waitv
	case SYS_futex_waitv:
#endif
#ifdef SYS_flock
	case SYS_flock:
#endif
#ifdef SYS_fcntl
	case SYS_fcntl:
#endif
#ifdef SYS_open
	case SYS_open:
#endif
#ifdef SYS_openat
	case SYS_openat:
#endif
#ifdef SYS_openat2
	case SYS_openat2:
#endif
#ifdef SYS_creat
	case SYS_creat:
#endif
#ifdef SYS_msgrcv
	case SYS_msgrcv:
#endif
#ifdef SYS_msgsnd
	case SYS_msgsnd:
#endif
#ifdef SYS_semop
	case SYS_semop:
#endif
#ifdef SYS_semtimedop
	case SYS_semtimedop:
#endif
#ifdef SYS_ioctl
	case SYS_ioctl:
#endif
#ifdef SYS_mq_timedsend
	case SYS_mq_timedsend:
#endif
#ifdef SYS_mq_timedreceive
	case SYS_mq_timedreceive:
#endif
#ifdef SYS_splice
	case SYS_splice:
#endif
#ifdef SYS_tee
	case SYS_tee:
#endif
#ifdef SYS_vmsplice
	case SYS_vmsplice:
#endif
#ifdef SYS_sendfile
	case SYS_sendfile:
#endif
#ifdef SYS_copy_file_range
	case SYS_copy_file_range:
#endif
#ifdef SYS_rt_sigtimedwait
	case SYS_rt_sigtimedwait:
#endif
#ifdef SYS_io_getevents
	case SYS_io_getevents:
#endif
#ifdef SYS_io_pgetevents
	case SYS_io_pgetevents:
#endif
#ifdef SYS_epoll_wait
	case SYS_epoll_wait:
#endif
#ifdef SYS_epoll_pwait
	case SYS_epoll_pwait:
#endif
#ifdef SYS_epoll_pwait2
	case SYS_epoll_pwait2:
#endif
#ifdef SYS_poll
	case SYS_poll:
#endif
#ifdef SYS_ppoll
	case SYS_ppoll:
#endif
#ifdef SYS_select
	case SYS_select:
#endif
#ifdef SYS_pselect6
	case SYS_pselect6:
#endif
#ifdef SYS_nanosleep
	case SYS_nanosleep:
#endif
#ifdef SYS_clock_nanosleep
	case SYS_clock_nanosleep:
#endif
#ifdef SYS_pause
	case SYS_pause:
#endif
#ifdef SYS_rt_sigsuspend
	case SYS_rt_sigsuspend:
#endif
		return 1;
	default: return 0;
	}
}

/* One of ours (signal.h): the module whose mark it carries consumes it.
 * With more senders of GR_SIG_OWN, each is asked in turn. */
static int own_signal(const siginfo_t *info, void *uc)
{
	if (info->si_code == SI_TIMER) /* the preemption's timer (preempt.h) */
		return gr_preempt_landed(info->si_value.sival_ptr, uc);
	if (info->si_code != SI_QUEUE || info->si_pid != self_pid)
		return 0;
	return gr_work_kick_landed(info->si_value.sival_ptr, uc) ||
	       gr_monitor_landed(info->si_value.sival_ptr, uc);
}

/* A GR_SIG_OWN of the program's without a handler of its own (SIG_DFL or
 * SIG_IGN): the kernel would ignore it, but keep it pending while every
 * thread blocks it (a blocked signal is never ignored), for sigwait or
 * until SIG_IGN is set. Noted, dispatch decides (own_ignored). On an OS
 * thread of the program's that is not green it is ignored there. */
static void own_unhandled(const siginfo_t *info)
{
	if (gr_rt.started && (gr_tls_runtime || gr_work_on_worker()))
		note(GR_SIG_OWN, info);
}

/* Whether dispatching bit to t (which takes it) drops it, as the kernel's
 * action for GR_SIG_OWN without a handler would: t does not block it (a
 * thread in sigwait for it does, and gets it). */
static int own_ignored(const struct gr_thread *t, uint64_t bit)
{
	return own_taken && bit == GR_SIGBIT(GR_SIG_OWN) && !installed[GR_SIG_OWN] &&
	       !(t->sig_mask & bit);
}

static int own_sigaction(const struct sigaction *act, struct sigaction *old)
{
	const int sig = GR_SIG_OWN;
	struct sigaction prev;
	int err = 0;

	if (!keep(sig, act, &own_disp, &prev) && act) {
		/* Either ignores it: what is pending goes, in the kernel too
		 * (for a moment the kernel's action is SIG_IGN; one of ours
		 * lost then is sent again by its sender). */
		struct sigaction ign = {.sa_handler = SIG_IGN};
		if (gr_real.sigaction(sig, &ign, NULL) < 0)
			err = -errno;
		if (err == 0)
			err = own_install();
		if (gr_rt.started)
			discard(sig);
	}
	if (err == 0 && old)
		*old = prev;
	return err;
}

/* SIGSYS while system calls outside libc are dispatched (sud.h): the
 * kernel's action stays sud.c's handler, which hands every SIGSYS that is
 * not a dispatched call (seccomp's, a kill) to gr_signal_sys_other; what
 * the program set is kept as for GR_SIG_OWN, in user[] or sys_disp. */
static struct sigaction sys_disp; /* SIG_DFL or SIG_IGN, without a handler */
static int sys_taken;

/* The kernel's action for the program's handler act of sig: the
 * trampoline, with act's flags and mask. While sud.c dispatches, without
 * SIGSYS in the mask: the kernel kills a task whose dispatched call traps
 * while it blocks SIGSYS, and the green thread's mask blocks it instead
 * (run_one). Before, the mask is the program's own, so a handler that
 * blocks SIGSYS before the first thread keeps a raised one pending until
 * it returns, as natively. */
static void tramp_action(const struct sigaction *act, struct sigaction *k)
{
	*k = *act;
	k->sa_flags |= SA_SIGINFO;
	k->sa_sigaction = trampoline;
	if (sys_taken)
		sigdelset(&k->sa_mask, SIGSYS);
}

void gr_signal_take_sys(const struct sigaction *cur)
{
	struct sigaction k;

	adopt(SIGSYS, cur, &sys_disp);
	sys_taken = 1;
	/* The handlers installed before lose SIGSYS from the kernel's mask. */
	for (int sig = 1; sig < GR_NSIG; sig++)
		if (installed[sig] && sig != SIGSYS && (sig != GR_SIG_OWN || !own_taken) &&
		    sigismember(&user[sig].sa_mask, SIGSYS)) {
			tramp_action(&user[sig], &k);
			gr_real.sigaction(sig, &k, NULL);
		}
}

void gr_signal_sys_other(siginfo_t *info, void *uc)
{
	if (installed[SIGSYS]) {
		trampoline(SIGSYS, info, uc);
		__asm__ volatile("" ::: "memory"); /* no tail call: the frame is the handler's */
		return;
	}
	/* Ignored when sent; one the kernel forces (seccomp's trap) kills
	 * the process all the same, as the kernel does. */
	if (sys_disp.sa_handler == SIG_IGN && info->si_code <= 0)
		return;
	/* The default action: the process dies of it, as it would have (a
	 * sent one too while every thread blocks it, where the kernel would
	 * keep it pending: the OS thread cannot block it, sigmask.c). */
	gr_real.signal(SIGSYS, SIG_DFL);
	gr_real.raise(SIGSYS);
}

static int sys_sigaction(const struct sigaction *act, struct sigaction *old)
{
	struct sigaction prev;

	if (!keep(SIGSYS, act, &sys_disp, &prev) && act && gr_rt.started &&
	    act->sa_handler == SIG_IGN)
		discard(SIGSYS);
	if (old)
		*old = prev;
	return 0;
}

int gr_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	struct sigaction kernel_old, tramp;
	struct sigaction prev;
	int was, r;

	if (sig <= 0 || sig >= GR_NSIG)
		return gr_real.sigaction(sig, act, old) < 0 ? -errno : 0;
	if (sig == GR_SIG_OWN && own_taken)
		return own_sigaction(act, old);
	if (sig == SIGSYS && sys_taken)
		return sys_sigaction(act, old);
	was = installed[sig];
	prev = user[sig];
	if (act && act->sa_handler != SIG_DFL && act->sa_handler != SIG_IGN) {
		tramp_action(act, &tramp);
		/* Noted first: a signal may arrive as soon as it is installed. */
		installed[sig] = 0;
		user[sig] = *act;
		r = gr_real.sigaction(sig, &tramp, &kernel_old);
		if (r == 0) {
			as_installed(sig, act, &user[sig]);
			installed[sig] = 1;
		} else {
			user[sig] = prev;
			installed[sig] = was;
		}
	} else {
		r = gr_real.sigaction(sig, act, &kernel_old);
		if (r == 0 && act)
			installed[sig] = 0;
	}
	if (r < 0)
		return -errno;
	if (act && gr_rt.started && ignores(sig, act))
		discard(sig);
	if (old)
		*old = was ? prev : kernel_old;
	return 0;
}

/* Leaves sig pending on t; wakes t if it takes it now. */
static void post(struct gr_thread *t, uint64_t bit)
{
	t->sig_pending |= bit;
	if (t->sig_mask & bit)
		held |= bit;
	/* A no-op unless parked: a running or runnable thread runs it at its
	 * next safe point; a parked one runs its handlers (or its sigwait
	 * sees the signal) and its wait loses its place to nobody if it
	 * restarts. A pool job is not interrupted: it works on the thread's
	 * stack (a handler that left by longjmp would leave it a dead frame),
	 * and the handler runs once it is done, as a disk read that the
	 * kernel does not interrupt. A call on a worker (GR_WAIT_WORK) is
	 * woken, to have the worker's call interrupted; its handlers too run
	 * only once the call is back (gr_signal_deliver holds them). */
	if (gr_signal_accepts(t, bit) && t->wait != GR_WAIT_POOL)
		gr_interrupt(t);
}

void gr_signal_requeue(struct gr_thread *t, const siginfo_t *info, int thread_directed)
{
	int sig = info->si_signo;

	if (sig <= 0 || sig >= GR_NSIG)
		return;
	if (thread_directed) {
		arrived_info[sig] = *info;
		if (t)
			post(t, GR_SIGBIT(sig));
		return;
	}
	if (gr_sigqueue_push(sig, info) == -1)
		arrived_info[sig] = *info;
	arrived_for[sig] = 0;
	__atomic_or_fetch(&arrived, GR_SIGBIT(sig), __ATOMIC_SEQ_CST);
	gr_rt.sig_pending = 1;
}

int gr_signal_send(struct gr_thread *t, int sig, const siginfo_t *info)
{
	uint64_t bit = GR_SIGBIT(sig);

	if (!installed[sig] && !(t->sig_mask & bit))
		return 0;
	arrived_info[sig] = *info;
	post(t, bit);
	if (t == gr_rt.cur)
		gr_signal_run();
	return 1;
}

/* Whether an instance of the signal is pending already, on a thread or
 * for the process: a queued real-time one waits until it is taken. */
static int pending_anywhere(uint64_t bit)
{
	if ((proc_pending | gr_main_thread.sig_pending) & bit)
		return 1;
	for (const struct gr_thread *t = gr_rt.all; t; t = t->all_next)
		if (t->sig_pending & bit)
			return 1;
	return 0;
}

void gr_signal_consumed(int sig)
{
	if (gr_sigqueue_has(sig)) {
		__atomic_or_fetch(&arrived, GR_SIGBIT(sig), __ATOMIC_SEQ_CST);
		gr_rt.sig_pending = 1;
	}
}

/* The thread a process-directed signal goes to: main if it takes it (the
 * kernel's first choice), else the oldest thread that does, else none
 * (every thread blocks it). */
static struct gr_thread *process_target(uint64_t bit)
{
	struct gr_thread *t, *oldest = NULL;

	if (gr_main_thread.state != GR_DONE && gr_main_thread.magic == GR_MAGIC &&
	    gr_signal_accepts(&gr_main_thread, bit))
		return &gr_main_thread;
	for (t = gr_rt.all; t; t = t->all_next) /* the list is newest first */
		if (gr_signal_accepts(t, bit))
			oldest = t;
	return oldest;
}

void gr_signal_dispatch(void)
{
	uint64_t bits;

	gr_rt.sig_pending = 0;
	bits = __atomic_exchange_n(&arrived, 0, __ATOMIC_SEQ_CST);
	while (bits) {
		uint64_t bit = bits & -bits;
		int sig = __builtin_ctzll(bit) + 1;
		struct gr_thread *t;
		bits &= ~bit;
		if (arrived_for[sig]) {
			/* The thread whose call raised it, if still there;
			 * a CPU-time one goes to the process if that thread
			 * has blocked it since. */
			t = gr_thread_find(arrived_for[sig]);
			arrived_for[sig] = 0;
			if (t && t->state != GR_DONE &&
			    ((bit & GR_SIG_THREAD_DIRECTED) || gr_signal_accepts(t, bit))) {
				post(t, bit);
				continue;
			}
			if (bit & GR_SIG_THREAD_DIRECTED)
				continue;
		}
		/* The next queued instance of a real-time signal, once the
		 * one before is taken (its taker notes it again); one whose
		 * push is not written yet is noted again by its producer. */
		if (gr_sigqueue_has(sig) &&
		    (pending_anywhere(bit) || !gr_sigqueue_pop(sig, &arrived_info[sig])))
			continue;
		t = process_target(bit);
		if (t && own_ignored(t, bit))
			continue;
		if (t)
			post(t, bit);
		else
			proc_pending |= bit;
	}
}

uint64_t gr_signal_process_pending(void)
{
	return proc_pending;
}

void gr_signal_take_process(uint64_t bits)
{
	proc_pending &= ~bits;
}

void gr_signal_info(int sig, siginfo_t *info)
{
	*info = arrived_info[sig];
}

/* Signals t owes a handler (or the kernel's action) now; exclude: those
 * its interrupted sigwait takes instead. */
static uint64_t deliverable(const struct gr_thread *t, uint64_t exclude)
{
	return t->sig_pending & ~t->sig_mask & ~exclude;
}

/* The signal the kernel takes first of bits: a fault, else the lowest. */
static int next_signal(uint64_t bits)
{
	if (bits & FAULTS)
		bits &= FAULTS;
	return __builtin_ctzll(bits) + 1;
}

static uint64_t sigwait_set_of(const struct gr_thread *t)
{
	return t->wait == GR_WAIT_SIGNAL && t->wait_obj ? *(const uint64_t *)t->wait_obj : 0;
}

/* Puts the interrupted wait aside: the handlers run as program code, and
 * may wait themselves. The thread leaves the wait's queue, which it joins
 * again if the wait restarts. */
static void enter(struct gr_thread *self, struct gr_sig_level *lv)
{
	lv->prev = self->sig_level;
	lv->wait = self->wait;
	lv->wait_obj = self->wait_obj;
	lv->sigwait_set = sigwait_set_of(self);
	lv->interrupted = self->interrupted;
	lv->cancel_point = self->cancel_point;
	lv->wake_result = self->wake_result;
	lv->ran = 0;
	lv->restart = 1;
	gr_wait_cancel(self); /* an fd wait leaves its fds' lists too */
	self->wait = GR_WAIT_NONE;
	self->wait_obj = NULL;
	self->interrupted = 0;
	self->cancel_point = 0;
	self->sig_level = lv;
	self->in_handler = 1;
}

/* Gives the wait back, with a real wake-up that came first or -EINTR. */
static void leave(struct gr_thread *self, const struct gr_sig_level *lv)
{
	int result = lv->wake_result;

	/* sigsuspend ends only when a handler ran. */
	if (!lv->ran && lv->wait == GR_WAIT_SIGNAL && result == -EINTR)
		result = 0;
	self->sig_level = lv->prev;
	self->in_handler = lv->prev != NULL;
	self->wait = lv->wait;
	self->wait_obj = lv->wait_obj;
	self->interrupted = lv->interrupted;
	self->cancel_point = lv->cancel_point;
	self->wake_result = result;
	self->sig_restart = lv->restart;
}

static void run_all(struct gr_thread *self, struct gr_sig_level *lv, void *kuc);

static void put_mask(ucontext_t *uc, uint64_t mask)
{
	memset(&uc->uc_sigmask, 0, sizeof(uc->uc_sigmask));
	gr_sigset_put(&uc->uc_sigmask, mask);
}

/* Runs sig's handler as the kernel does: with the handler's sa_mask and
 * sig itself (unless SA_NODEFER) added to the thread's mask, the signals
 * that mask still lets through first (their frames go on top), then the
 * handler, then the mask the context holds (sigreturn: what it was, unless
 * the handler changed uc_sigmask). kuc: the kernel's frame, or NULL for a
 * context of this point's. */
static void run_one(struct gr_thread *self, struct gr_sig_level *lv, int sig, const siginfo_t *from,
		    void *kuc)
{
	struct sigaction a = user[sig];
	siginfo_t info = *from;
	uint64_t before = self->sig_mask;
	ucontext_t own, *uc = kuc;
	volatile int called = 0;

	if (a.sa_flags & SA_RESETHAND) {
		/* The kernel resets the handler only: flags and mask stay. */
		struct sigaction dfl = a;
		dfl.sa_handler = SIG_DFL;
		gr_sigaction(sig, &dfl, NULL);
	}
	if (!(a.sa_flags & SA_RESTART))
		lv->restart = 0;
	lv->ran++;
	self->handled++;
	uint64_t during = before | gr_sigset_bits(&a.sa_mask);
	if (!(a.sa_flags & SA_NODEFER))
		during |= GR_SIGBIT(sig);
	gr_sigmask_set(self, during & ~GR_SIG_UNBLOCKABLE);
	run_all(self, lv, NULL);
	if (!uc) {
		memset(&own, 0, sizeof(own));
		getcontext(&own);
		uc = &own;
	}
	if (!called) {
		called = 1;
		put_mask(uc, before);
		int saved = errno;
		call_handler(&a, sig, &info, uc);
		errno = saved;
	} else {
		/* The handler resumed the context with setcontext, which
		 * loaded its mask into the OS thread. */
		gr_sigmask_resync();
	}
	gr_sigmask_set(self, gr_sigset_bits(&uc->uc_sigmask) & ~GR_SIG_UNBLOCKABLE);
	if (kuc)
		gr_sigmask_to_frame(kuc);
}

static void run_all(struct gr_thread *self, struct gr_sig_level *lv, void *kuc)
{
	uint64_t bits;

	while ((bits = deliverable(self, lv->sigwait_set)) != 0) {
		int sig = next_signal(bits);
		self->sig_pending &= ~GR_SIGBIT(sig);
		gr_signal_consumed(sig);
		if (installed[sig]) {
			siginfo_t info = arrived_info[sig];
			run_one(self, lv, sig, &info, kuc);
		} else {
			/* Reset to SIG_DFL or SIG_IGN since it was sent, or
			 * never had a handler and was blocked: the kernel's
			 * action, now that this thread takes it (for our own
			 * signal, whose kernel action is the trampoline:
			 * ignore). */
			int saved = errno;
			if (sig != GR_SIG_OWN || !own_taken)
				gr_real.raise(sig);
			errno = saved;
		}
		if (gr_rt.sig_pending) /* the handler's mask changes let some in */
			gr_signal_dispatch();
	}
}

int gr_signal_deliver(void *uc)
{
	struct gr_thread *self = gr_rt.cur;
	struct gr_sig_level lv;

	/* A call on a worker works on this thread's stack: a handler that
	 * left by longjmp would leave the worker writing into a dead frame. */
	if (self->wait == GR_WAIT_WORK || !deliverable(self, sigwait_set_of(self)))
		return 0;
	enter(self, &lv);
	run_all(self, &lv, uc);
	leave(self, &lv);
	return lv.ran;
}

int gr_signal_run(void)
{
	return gr_signal_deliver(NULL);
}

int gr_signal_interrupted(void)
{
	if (gr_rt.sig_pending)
		gr_signal_dispatch();
	return gr_signal_run();
}

/* A synchronous signal of the running thread: its handler runs now, on
 * the stack (or alternate stack) the kernel chose, in the kernel's frame.
 * Returns 0 when no green thread runs program code (the hub, a switch):
 * a fault's handler then runs as is, another signal is noted as any. */
static int run_now(int sig, siginfo_t *info, ucontext_t *uc)
{
	struct gr_thread *self = gr_rt.cur;
	struct gr_sig_level lv;
	int saved = errno;

	if (!gr_green() || self->magic != GR_MAGIC) {
		if (info->si_code <= 0)
			return 0;
		call_handler(&user[sig], sig, info, uc);
		errno = saved;
		return 1;
	}
	if (self->sig_mask & GR_SIGBIT(sig)) {
		if (info->si_code > 0) {
			/* The kernel forces a fault that the thread blocks: the
			 * default action, which ends the process. */
			struct sigaction dfl = {.sa_handler = SIG_DFL};
			gr_sigaction(sig, &dfl, NULL);
			gr_real.raise(sig);
		} else {
			arrived_info[sig] = *info;
			post(self, GR_SIGBIT(sig)); /* pending on the thread */
		}
		errno = saved;
		return 1;
	}
	enter(self, &lv);
	run_one(self, &lv, sig, info, uc);
	leave(self, &lv);
	errno = saved;
	return 1;
}

/* A process-directed signal (kill, pidfd_send_signal, sigqueue: SI_USER or
 * SI_QUEUE from our pid) that the running green thread sent with the
 * system call it is returning from, when that thread is the one the kernel
 * gives it to (process_target: main unless it blocks it). Natively its
 * handler runs on that call's way out, before the call returns; noted
 * instead, it would wait for the thread's next hooked call. run_now runs
 * it then. Why that is safe:
 * - gr_green() (run_now checks it too): a green thread runs, not the hub
 *   or libuv, which are "inside" (a switch makes no sending call: the
 *   ucontext one's rt_sigprocmask has a pointer for its second argument);
 * - the frame is the return of a successful sending call with this signal
 *   (sigcall.c), a point where the kernel itself runs handlers. The
 *   runtime makes no such call in the middle of its own updates: it sends
 *   with tgkill (SI_TKILL, synchronous above) and sigqueues GR_SIG_OWN to
 *   workers (taken before); the kill hooks call libc's kill and hold
 *   nothing across it. A kill from another OS thread of ours that lands
 *   at such a return by chance also finds the thread at a system call's
 *   return, which a handler may interrupt natively as well;
 * - a SIGPIPE or SIGXFSZ that the kernel raises for a write
 *   (gr_signal_is_own_kernel: SI_USER from our pid too) comes with the
 *   call failing (EPIPE, EFBIG) or with a partial count, never 0: it stays
 *   the caller's through note();
 * - the kill is over: `sending` is cleared before the handler runs, lest a
 *   write of the handler's that raises SIGPIPE be taken for the process's
 *   (the hook clearing it again after libc's kill returns is harmless);
 * - where the frame landed on another that the kernel set up at the same
 *   return (a preemption tick's, pending on the OS thread: the kernel
 *   delivers those first), the call's return is beneath both
 *   (gr_sigcall_below) and nothing of the lower handler has run yet. The
 *   tick's delivery blocked GR_SIG_OWN: *own_held says so, for a switch
 *   from the handler to lift it (gr_own_held). */
static int sent_by_this_call(int sig, const siginfo_t *info, void *uc, int *own_held)
{
	const ucontext_t *at;

	if (info->si_pid != self_pid || (info->si_code != SI_USER && info->si_code != SI_QUEUE))
		return 0;
	if (!gr_green() || gr_rt.cur == NULL || gr_rt.cur->magic != GR_MAGIC || !uc)
		return 0;
	at = gr_sigcall_below(uc, (const void *)trampoline);
	if (!gr_sigcall_sent(at, sig) || process_target(GR_SIGBIT(sig)) != gr_rt.cur)
		return 0;
	*own_held = own_taken && sigismember(&((ucontext_t *)uc)->uc_sigmask, GR_SIG_OWN) &&
		    !sigismember(&at->uc_sigmask, GR_SIG_OWN);
	sending = 0;
	return 1;
}

/* The wait lv had put aside will never be returned to. */
static void abandon(struct gr_thread *self, const struct gr_sig_level *lv)
{
	switch (lv->wait) {
	case GR_WAIT_JOIN: {
		struct gr_thread *t = lv->wait_obj;
		if (t && t->joiner == self)
			t->joiner = NULL;
		break;
	}
	case GR_WAIT_FD: gr_fd_wait_abandoned(lv->wait_obj); break;
	case GR_WAIT_SIGNAL:
		if (lv->wait_obj)
			gr_sigwait_abandoned(lv->sigwait_set);
		break;
	default: break; /* nothing but the queue, which it left already */
	}
}

/* Whether level lv, in a frame of the current thread's, survives a jump to
 * the frame whose stack pointer is sp: it is above sp, on the same stack
 * (a handler on an alternate stack is left by a jump to the thread's). */
static int survives(const struct gr_sig_level *lv, uintptr_t sp)
{
	const uintptr_t span = (uintptr_t)1 << 30;

	return (uintptr_t)lv > sp && (uintptr_t)lv - sp < span;
}

void gr_signal_escape(uintptr_t sp)
{
	struct gr_thread *self = gr_rt.cur;
	struct gr_sig_level *lv = self->sig_level;

	while (lv && !survives(lv, sp)) {
		abandon(self, lv);
		lv = lv->prev;
	}
	self->sig_level = lv;
	self->in_handler = lv != NULL;
}
