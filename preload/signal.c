/* Signal hooks: sigaction, signal, raise, kill, killpg, pthread_kill,
 * pthread_sigqueue; the masks: pthread_sigmask, sigprocmask, sigpending,
 * sighold, sigrelse, sigblock, sigsetmask, siggetmask; the waits:
 * sigsuspend, pause, sigwait, sigwaitinfo, sigtimedwait.
 *
 * The program's handlers go behind runtime/signal.c's trampoline, so that
 * once threads are green each handler runs at a safe point in the green
 * thread the signal is for, nested and in the order the kernel would run
 * them, with a ucontext, and interrupts that thread's wait as natively
 * (EINTR from sem_wait, sleeps, futex and child waits without SA_RESTART).
 * A fault's handler runs at once, on the faulting stack. sigaction still
 * reports the program's own handler, flags and mask.
 *
 * Every green thread has its own signal mask (runtime/sigmask.c), inherited
 * by the threads it creates. The OS thread blocks a signal only while every
 * green thread does; one that arrives goes to a thread that does not block
 * it (main first, as the kernel chooses), or to the thread whose call
 * raised it (SIGPIPE, SIGXFSZ), and one that every thread blocks stays
 * pending until a thread unblocks it, which then runs its handler before
 * pthread_sigmask returns.
 *
 * pthread_kill, raise and pthread_sigqueue go straight to the green target
 * when it blocks the signal (it stays pending on that thread) or when the
 * signal has a handler (the handler runs in the target, before raise
 * returns when the target is the caller). Other signals (default action,
 * ignored, sig 0) go to the OS thread, since their effect is the process's.
 * kill and killpg are libc's, marked so that a SIGPIPE they send to our own
 * process counts as the process's, not as one the kernel raised for a
 * write of the caller's.
 *
 * sigsuspend and pause park the thread until a handler has run; sigwait and
 * its variants park it until a signal of their set is pending and take it.
 *
 * The old BSD and System V mask calls (sighold, sigrelse, sigblock,
 * sigsetmask, siggetmask), which glibc builds on its internal
 * sigprocmask, out of our reach, are made here on the hooked one; sigpause
 * is alias.c's.
 *
 * Left to libc: signalfd (read on it is green, and it reports what the OS
 * thread has pending, which is every signal all threads block); sigset's
 * SIG_HOLD, which changes the OS thread's mask (README). sigsetjmp and
 * siglongjmp are in jmp.c. */
#include "hook.h"

#include <errno.h>
#include <stdint.h>

#include "../runtime/cancel.h"
#include "../runtime/clock.h"
#include "../runtime/fork.h"
#include "../runtime/signal.h"
#include "../runtime/tid.h"
#include "../runtime/uaccess.h"

GR_EXPORT int sigaction(int sig, const struct sigaction *restrict act,
			struct sigaction *restrict old)
{
	/* While the runtime is inside on its own thread (a _Fork child; the
	 * exit path), or in any vfork child, which shares our memory with its
	 * parent whether or not the runtime runs, the program's handlers are
	 * its own business: our table is the parent's, or nobody's any more. */
	if (gr_config.disable || gr_vfork_child() || (gr_rt.inside && gr_tls_runtime))
		return GR_REAL(sigaction)(sig, act, old);
	gr_real_init();
	return (int)gr_ret(gr_sigaction(sig, act, old));
}

/* glibc's signal() has BSD semantics: the handler stays installed, the
 * signal is blocked while it runs, and interrupted calls restart. */
GR_EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
	struct sigaction act = {0}, old;

	if (gr_config.disable)
		return GR_REAL(signal)(sig, handler);
	act.sa_handler = handler;
	sigemptyset(&act.sa_mask);
	if (sig > 0 && sig < NSIG)
		sigaddset(&act.sa_mask, sig);
	act.sa_flags = SA_RESTART;
	if (sigaction(sig, &act, &old) < 0)
		return SIG_ERR;
	return old.sa_handler;
}

/* What the target's handler or sigwait sees for a signal sent to one
 * thread: glibc sends pthread_kill and raise with tgkill (SI_TKILL),
 * pthread_sigqueue with rt_tgsigqueueinfo (SI_QUEUE). */
static siginfo_t thread_info(int sig, int code)
{
	siginfo_t info;

	memset(&info, 0, sizeof(info));
	info.si_signo = sig;
	info.si_code = code;
	info.si_pid = getpid();
	info.si_uid = getuid();
	return info;
}

/* A SIGPIPE or SIGXFSZ that a kill of our own makes the kernel deliver on
 * the way out is the process's, not one the kernel raised for the caller
 * (runtime/signal.c tells the two apart). */
GR_EXPORT int kill(pid_t pid, int sig)
{
	int r;

	if (!gr_green())
		return GR_REAL(kill)(pid, sig);
	/* Given a thread's id, the kernel signals that thread's process, as
	 * if sent to it (a green id is one it does not know). */
	if (gr_tid_is_green_range(pid) && gr_tid_find(pid))
		pid = getpid();
	gr_signal_sending(1);
	r = GR_REAL(kill)(pid, sig);
	gr_signal_sending(0);
	return r;
}

GR_EXPORT int killpg(pid_t pgrp, int sig)
{
	int r;

	if (!gr_green())
		return GR_REAL(killpg)(pgrp, sig);
	gr_signal_sending(1);
	r = GR_REAL(killpg)(pgrp, sig);
	gr_signal_sending(0);
	return r;
}

GR_EXPORT int raise(int sig)
{
	if (!gr_green() || sig <= 0 || sig >= GR_NSIG)
		return GR_REAL(raise)(sig);
	siginfo_t info = thread_info(sig, SI_TKILL);
	if (gr_signal_send(gr_rt.cur, sig, &info))
		return 0;
	return GR_REAL(raise)(sig);
}

/* glibc's own signals (SIGCANCEL, SIGSETXID), which pthread_kill and
 * pthread_sigqueue refuse to send. */
static int internal_signal(int sig)
{
	return sig == 32 || sig == 33;
}

/* glibc's order: its own signals are refused; a thread that has finished
 * but is not joined is sent nothing, whatever the number (0); then the
 * kernel's checks (EINVAL for a number it does not know). */
GR_EXPORT int pthread_kill(pthread_t th, int sig)
{
	struct gr_thread *t;
	int done;

	if (!gr_green())
		return GR_REAL(pthread_kill)(th, sig);
	if (internal_signal(sig))
		return EINVAL;
	done = gr_thread_done((uint64_t)th);
	if (done != 0)
		return done < 0 ? ESRCH : 0;
	if (sig < 0 || sig >= NSIG)
		return EINVAL;
	t = gr_thread_find((uint64_t)th);
	if (sig != 0 && t) {
		siginfo_t info = thread_info(sig, SI_TKILL);
		if (gr_signal_send(t, sig, &info))
			return 0;
	}
	return GR_REAL(pthread_kill)(gr_os_thread(th), sig);
}

/* glibc looks at the thread's kernel tid first, which the kernel clears
 * when the thread ends: ESRCH for a finished thread, joined or not. */
GR_EXPORT int pthread_sigqueue(pthread_t th, int sig, const union sigval value)
{
	struct gr_thread *t;

	if (!gr_green())
		return GR_REAL(pthread_sigqueue)(th, sig, value);
	if (gr_thread_done((uint64_t)th) != 0)
		return ESRCH;
	t = gr_thread_find((uint64_t)th);
	if (sig > 0 && sig < GR_NSIG && !internal_signal(sig) && t) {
		siginfo_t info = thread_info(sig, SI_QUEUE);
		info.si_value = value;
		if (gr_signal_send(t, sig, &info))
			return 0;
	}
	return GR_REAL(pthread_sigqueue)(gr_os_thread(th), sig, value);
}

/* Returns the error number, as pthread_sigmask does; *old is written as
 * the kernel writes it (its first word), set is read before, so the two
 * may be one object. */
static int green_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	uint64_t want = 0, was;
	int err;

	if (set)
		want = gr_sigset_bits(set);
	err = gr_sigmask(how, set ? &want : NULL, &was);
	if (err < 0)
		return -err;
	if (old)
		gr_sigset_put(old, was);
	return 0;
}

GR_EXPORT int pthread_sigmask(int how, const sigset_t *restrict set, sigset_t *restrict old)
{
	if (!gr_green())
		return GR_REAL(pthread_sigmask)(how, set, old);
	return green_sigmask(how, set, old);
}

GR_EXPORT int sigprocmask(int how, const sigset_t *restrict set, sigset_t *restrict old)
{
	int err;

	if (!gr_green())
		return GR_REAL(sigprocmask)(how, set, old);
	err = green_sigmask(how, set, old);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

/* The System V and BSD mask calls, made as glibc makes them but through
 * the sigprocmask above: glibc's own reach its internal sigprocmask, the
 * OS thread's mask, where a green thread's is its own. */
static int one_signal(int how, int sig)
{
	sigset_t set;

	sigemptyset(&set);
	if (sigaddset(&set, sig) < 0)
		return -1; /* EINVAL */
	return sigprocmask(how, &set, NULL);
}

GR_EXPORT int sighold(int sig)
{
	return one_signal(SIG_BLOCK, sig);
}

GR_EXPORT int sigrelse(int sig)
{
	return one_signal(SIG_UNBLOCK, sig);
}

/* BSD masks: an int of signals 1 to 32, bit sig - 1 (sigmask(sig)). */
static int bsd_mask(int how, int mask)
{
	sigset_t set, old;
	unsigned int was = 0;

	sigemptyset(&set);
	for (int sig = 1; sig <= 32; sig++)
		if ((unsigned int)mask & (1u << (sig - 1)))
			sigaddset(&set, sig);
	if (sigprocmask(how, &set, &old) < 0)
		return -1;
	for (int sig = 1; sig <= 32; sig++)
		if (sigismember(&old, sig) == 1)
			was |= 1u << (sig - 1);
	return (int)was;
}

GR_EXPORT int sigblock(int mask)
{
	return bsd_mask(SIG_BLOCK, mask);
}

GR_EXPORT int sigsetmask(int mask)
{
	return bsd_mask(SIG_SETMASK, mask);
}

GR_EXPORT int siggetmask(void)
{
	return bsd_mask(SIG_BLOCK, 0);
}

GR_EXPORT int sigpending(sigset_t *set)
{
	uint64_t bits;
	int e;

	if (!gr_green())
		return GR_REAL(sigpending)(set);
	bits = gr_sigpending();
	/* The kernel's first word only, and EFAULT where it cannot write. */
	e = gr_copy_out(set, &bits, sizeof(bits));
	if (e < 0) {
		errno = -e;
		return -1;
	}
	return 0;
}

/* The kernel's answer to a NULL set, which glibc's prototypes rule out. */
static int efault(const void *p)
{
	if (p)
		return 0;
	errno = EFAULT;
	return 1;
}

GR_EXPORT int sigsuspend(const sigset_t *mask)
{
	uint64_t bits;
	int e;

	if (!gr_green())
		return GR_REAL(sigsuspend)(mask);
	/* The kernel reads the first word, EFAULT where it cannot. */
	e = gr_copy_in(&bits, mask, sizeof(bits));
	if (e < 0) {
		errno = -e;
		return -1;
	}
	gr_cancel_begin(); /* a cancellation point, as pause and sigwait */
	errno = -gr_sigsuspend(bits);
	gr_cancel_end(errno == EINTR);
	return -1;
}

GR_EXPORT int pause(void)
{
	if (!gr_green())
		return GR_REAL(pause)();
	gr_cancel_begin();
	errno = -gr_sigsuspend(gr_rt.cur->sig_mask);
	gr_cancel_end(errno == EINTR);
	return -1;
}

/* sigtimedwait with a relative timeout in ns (-1: none). */
static int green_sigtimedwait(const sigset_t *set, siginfo_t *info, int64_t timeout_ns)
{
	int64_t deadline = timeout_ns < 0 ? 0 : timeout_ns == 0 ? -1 : gr_deadline_in(timeout_ns);
	siginfo_t got;
	uint64_t bits;
	int r;

	/* The kernel's EFAULT for a set it cannot read, and for an info it
	 * cannot write (the signal taken all the same). */
	r = gr_copy_in(&bits, set, sizeof(bits));
	if (r < 0)
		return (int)gr_ret(r);
	gr_cancel_begin();
	r = gr_sigwait(bits, deadline, info ? &got : NULL);
	gr_cancel_end(r == -EINTR);
	if (r > 0 && info && gr_copy_out(info, &got, sizeof(got)) < 0)
		r = -EFAULT;
	return (int)gr_ret(r);
}

GR_EXPORT int sigtimedwait(const sigset_t *restrict set, siginfo_t *restrict info,
			   const struct timespec *restrict tmo)
{
	struct timespec t = {0, 0};
	int e;

	if (!gr_green())
		return GR_REAL(sigtimedwait)(set, info, tmo);
	if (tmo && (e = gr_copy_in(&t, tmo, sizeof(t))) < 0) {
		errno = -e;
		return -1;
	}
	if (tmo && (t.tv_sec < 0 || t.tv_nsec < 0 || t.tv_nsec >= GR_NSEC)) {
		errno = EINVAL;
		return -1;
	}
	return green_sigtimedwait(set, info, tmo ? gr_ts_ns(&t) : -1);
}

GR_EXPORT int sigwaitinfo(const sigset_t *restrict set, siginfo_t *restrict info)
{
	if (!gr_green())
		return GR_REAL(sigwaitinfo)(set, info);
	return green_sigtimedwait(set, info, -1);
}

/* glibc's sigwait retries after EINTR and returns the error number. */
GR_EXPORT int sigwait(const sigset_t *restrict set, int *restrict sig)
{
	int r;

	if (!gr_green())
		return GR_REAL(sigwait)(set, sig);
	if (efault(set))
		return EFAULT;
	do {
		gr_cancel_begin();
		r = gr_sigwait(gr_sigset_bits(set), 0, NULL);
		gr_cancel_end(r == -EINTR);
	} while (r == -EINTR);
	if (r < 0)
		return -r;
	*sig = r;
	return 0;
}
