/* Signal hooks: sigaction, signal, raise, pthread_kill, pthread_sigqueue.
 *
 * The program's handlers go behind runtime/signal.c's trampoline, so that
 * once threads are green each handler runs at a safe point in the green
 * thread the signal is for, and interrupts that thread's wait as natively
 * (EINTR from sem_wait, sleeps, futex waits without SA_RESTART). sigaction
 * still reports the program's own handler, flags and mask.
 *
 * pthread_kill and raise of a signal with a handler go straight to the
 * green target: the handler runs in it (before raise returns, when it is
 * the caller). Other signals (default action, ignored, sig 0) go to the
 * OS thread, since their effect is the process's.
 *
 * Left to libc: synchronous fault signals (SIGSEGV, SIGBUS, SIGILL, SIGFPE,
 * SIGTRAP, SIGSYS), whose handlers must run on the faulting stack at once;
 * sigprocmask and pthread_sigmask (the mask is still the OS thread's, shared
 * by all green threads: README); signalfd, sigwait and sigsuspend. */
#include "hook.h"

#include <errno.h>
#include <stdint.h>

#include "../runtime/signal.h"

GR_EXPORT int sigaction(int sig, const struct sigaction *restrict act,
			struct sigaction *restrict old)
{
	int err;

	/* While the runtime is inside on its own thread (a vfork child, which
	 * shares our memory with its parent; a _Fork child; the exit path),
	 * the program's handlers are its own business: our table is the
	 * parent's, or nobody's any more. */
	if (gr_config.disable || (gr_rt.inside && gr_tls_runtime))
		return GR_REAL(sigaction)(sig, act, old);
	gr_real_init();
	err = gr_sigaction(sig, act, old);
	if (err < 0) {
		errno = -err;
		return -1;
	}
	return 0;
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

GR_EXPORT int raise(int sig)
{
	if (!gr_green() || !gr_signal_has_handler(sig))
		return GR_REAL(raise)(sig);
	gr_signal_thread(gr_rt.cur, sig);
	return 0;
}

GR_EXPORT int pthread_kill(pthread_t th, int sig)
{
	struct gr_thread *t;
	pthread_t os;

	if (!gr_green())
		return GR_REAL(pthread_kill)(th, sig);
	os = gr_os_thread(th);
	if (!os)
		return ESRCH;
	if (sig < 0 || sig >= NSIG)
		return EINVAL;
	t = gr_thread_find((uint64_t)th);
	if (sig != 0 && t && t->state != GR_DONE && gr_signal_has_handler(sig)) {
		gr_signal_thread(t, sig);
		return 0;
	}
	return GR_REAL(pthread_kill)(os, sig);
}

GR_EXPORT int pthread_sigqueue(pthread_t th, int sig, const union sigval value)
{
	pthread_t os;

	if (!gr_green())
		return GR_REAL(pthread_sigqueue)(th, sig, value);
	os = gr_os_thread(th);
	return os ? GR_REAL(pthread_sigqueue)(os, sig, value) : ESRCH;
}
