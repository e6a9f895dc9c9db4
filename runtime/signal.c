/* The program's signal handlers, run in green threads (signal.h). */
#include "signal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "fork.h"
#include "log.h"
#include "real.h"

/* The program's sigaction per signal, when it has a handler behind our
 * trampoline. Written by gr_sigaction, read by the trampoline. */
static struct sigaction user[GR_NSIG];
static volatile sig_atomic_t installed[GR_NSIG];
/* Signals that arrived on the runtime thread and await dispatch, and the
 * last siginfo of each (standard signals coalesce; queued real-time signals
 * of one number coalesce here too). */
static uint64_t arrived; /* atomic bit mask */
static siginfo_t arrived_info[GR_NSIG];
/* Process-directed signals that every thread blocked when they were
 * dispatched (a mask changed after they arrived): the kernel would keep
 * them pending for the process, so do we. */
static uint64_t proc_pending;
/* Signals that may be pending on some thread that blocks them: sigaction
 * walks the threads to discard one only when its bit is here. */
static uint64_t held;
static int sig_fd = -1;
static uv_poll_t sig_poll;

static int synchronous(int sig)
{
	/* Faults must be handled where they happen, on the faulting stack. */
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE ||
	       sig == SIGTRAP || sig == SIGSYS;
}

static void call_handler(const struct sigaction *a, int sig, siginfo_t *info, void *uc)
{
	if (a->sa_flags & SA_SIGINFO)
		a->sa_sigaction(sig, info, uc);
	else
		a->sa_handler(sig);
}

static void trampoline(int sig, siginfo_t *info, void *uc)
{
	if (sig <= 0 || sig >= GR_NSIG || !installed[sig])
		return;
	if (!gr_tls_runtime || !gr_rt.started) {
		/* Before the runtime, or on an OS thread of its own: as is. */
		int saved = errno;
		call_handler(&user[sig], sig, info, uc);
		errno = saved;
		return;
	}
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

	err = gr_sigmask_init();
	if (err < 0)
		return err;
	sig_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (sig_fd < 0)
		return -errno;
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
int gr_signal_after_fork(void)
{
	int fd, err = 0;

	__atomic_store_n(&arrived, 0, __ATOMIC_SEQ_CST);
	if (sig_fd < 0)
		return 0;
	fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (gr_real.dup3(fd, sig_fd, O_CLOEXEC) < 0)
		err = -errno;
	gr_real.close(fd);
	return err;
}

int gr_signal_can_wake(void)
{
	for (int sig = 1; sig < GR_NSIG; sig++)
		if (installed[sig])
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
	proc_pending &= ~bit;
	if (held & bit) {
		for (struct gr_thread *t = gr_rt.all; t; t = t->all_next)
			t->sig_pending &= ~bit;
		held &= ~bit;
	}
}

int gr_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	struct sigaction kernel_old, tramp;
	struct sigaction prev;
	int was, r;

	if (sig <= 0 || sig >= GR_NSIG || synchronous(sig))
		return gr_real.sigaction(sig, act, old) < 0 ? -errno : 0;
	was = installed[sig];
	prev = user[sig];
	if (act && act->sa_handler != SIG_DFL && act->sa_handler != SIG_IGN) {
		tramp = *act;
		tramp.sa_flags |= SA_SIGINFO;
		tramp.sa_sigaction = trampoline;
		/* Noted first: a signal may arrive as soon as it is installed. */
		installed[sig] = 0;
		user[sig] = *act;
		r = gr_real.sigaction(sig, &tramp, &kernel_old);
		if (r == 0)
			installed[sig] = 1;
		else {
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
	if (gr_signal_accepts(t, bit))
		gr_interrupt(t); /* a no-op unless parked: a running or
				    runnable thread runs it at its next safe
				    point; a parked one runs its handlers (or
				    its sigwait sees the signal) and its wait
				    loses its place to nobody if it restarts */
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
		struct gr_thread *t = process_target(bit);
		bits &= ~bit;
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

/* Signals t owes a handler (or the kernel's action) now. */
static uint64_t deliverable(const struct gr_thread *t)
{
	uint64_t d = t->sig_pending & ~t->sig_mask;

	if (t->wait == GR_WAIT_SIGNAL && t->wait_obj)
		d &= ~*(const uint64_t *)t->wait_obj; /* its sigwait takes those */
	return d;
}

/* Runs sig's handler as the kernel would: with the handler's sa_mask and
 * sig itself (unless SA_NODEFER) added to the thread's mask, and the mask
 * as it was afterwards, whatever the handler did to it (sigreturn). */
static void run_one(struct gr_thread *self, int sig)
{
	struct sigaction a = user[sig];
	uint64_t mask = self->sig_mask;
	siginfo_t info = arrived_info[sig];

	if (a.sa_flags & SA_RESETHAND) {
		struct sigaction dfl = {.sa_handler = SIG_DFL};
		gr_sigaction(sig, &dfl, NULL);
	}
	uint64_t during = mask | gr_sigset_bits(&a.sa_mask);
	if (!(a.sa_flags & SA_NODEFER))
		during |= GR_SIGBIT(sig);
	gr_sigmask_set(self, during & ~GR_SIG_UNBLOCKABLE);
	call_handler(&a, sig, &info, NULL);
	gr_sigmask_set(self, mask);
}

int gr_signal_run(void)
{
	struct gr_thread *self = gr_rt.cur;
	uint64_t bits;
	int restart = 1, ran = 0;

	if (self->in_handler || !deliverable(self))
		return 0; /* a handler's own hooks do not nest handlers */
	self->in_handler = 1;
	/* A handler may wait itself (sleep is async-signal-safe): take this
	 * thread off the queue of the wait the signal interrupted, which
	 * queues it again if it restarts, and give that wait its result back
	 * afterwards (a real wake-up that came first, or -EINTR). */
	int saved_result = self->wake_result;
	gr_wait_cancel(self);
	while ((bits = deliverable(self)) != 0) {
		int sig = __builtin_ctzll(bits) + 1;
		int saved = errno;
		self->sig_pending &= ~GR_SIGBIT(sig);
		if (installed[sig]) {
			if (!(user[sig].sa_flags & SA_RESTART))
				restart = 0;
			run_one(self, sig);
			ran++;
			self->handled++;
		} else {
			/* Reset to SIG_DFL or SIG_IGN since it was sent, or
			 * never had a handler and was blocked: the kernel's
			 * action, now that this thread takes it. */
			gr_real.raise(sig);
		}
		errno = saved;
		if (gr_rt.sig_pending) /* the handler's mask changes let some in */
			gr_signal_dispatch();
	}
	self->sig_restart = restart;
	/* sigsuspend ends only when a handler ran. */
	if (!ran && self->wait == GR_WAIT_SIGNAL && saved_result == -EINTR)
		saved_result = 0;
	self->wake_result = saved_result;
	self->in_handler = 0;
	return ran;
}

int gr_signal_interrupted(void)
{
	if (gr_rt.sig_pending)
		gr_signal_dispatch();
	return gr_signal_run();
}
