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

#define GR_NSIG 65

/* The program's sigaction per signal, when it has a handler behind our
 * trampoline. Written by gr_sigaction, read by the trampoline. */
static struct sigaction user[GR_NSIG];
static volatile sig_atomic_t installed[GR_NSIG];
/* Signals that arrived on the runtime thread and await dispatch, and the
 * last siginfo of each (standard signals coalesce; queued real-time signals
 * of one number coalesce here too). */
static uint64_t arrived; /* atomic bit mask */
static siginfo_t arrived_info[GR_NSIG];
static int sig_fd = -1;
static uv_poll_t sig_poll;

static int synchronous(int sig)
{
	/* Faults must be handled where they happen, on the faulting stack. */
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE ||
	       sig == SIGTRAP || sig == SIGSYS;
}

static void call_handler(int sig, siginfo_t *info, void *uc)
{
	const struct sigaction *a = &user[sig];

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
		call_handler(sig, info, uc);
		errno = saved;
		return;
	}
	arrived_info[sig] = *info;
	__atomic_or_fetch(&arrived, (uint64_t)1 << sig, __ATOMIC_SEQ_CST);
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

int gr_signal_any_handler(void)
{
	for (int sig = 1; sig < GR_NSIG; sig++)
		if (installed[sig])
			return 1;
	return 0;
}

int gr_signal_has_handler(int sig)
{
	return sig > 0 && sig < GR_NSIG && installed[sig];
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
	if (old)
		*old = was ? prev : kernel_old;
	return 0;
}

/* Makes t runnable if it is parked, so that it runs its handlers. It stays
 * on its wait queue: a wake-up that comes before it runs still counts, and
 * a wait that restarts after the handler loses its place to nobody. */
static void kick(struct gr_thread *t)
{
	if (t->state != GR_PARKED)
		return;
	if (t->in_heap) {
		t->in_heap = 0;
		gr_rt.live_timers--;
	}
	t->wake_result = -EINTR;
	t->interrupted = 1;
	gr_runq_push(t);
}

void gr_signal_thread(struct gr_thread *t, int sig)
{
	memset(&arrived_info[sig], 0, sizeof(arrived_info[sig]));
	arrived_info[sig].si_signo = sig;
	arrived_info[sig].si_code = SI_TKILL;
	arrived_info[sig].si_pid = getpid();
	t->sig_pending |= (uint64_t)1 << sig;
	if (t == gr_rt.cur)
		gr_signal_run();
	else
		kick(t);
}

/* The thread a process-directed signal interrupts. */
static struct gr_thread *process_target(void)
{
	struct gr_thread *t, *oldest = NULL;

	if (gr_main_thread.state != GR_DONE && gr_main_thread.magic == GR_MAGIC)
		return &gr_main_thread;
	for (t = gr_rt.all; t; t = t->all_next)
		oldest = t; /* the list is newest first */
	return oldest;
}

void gr_signal_dispatch(void)
{
	uint64_t bits;
	struct gr_thread *t;

	gr_rt.sig_pending = 0;
	bits = __atomic_exchange_n(&arrived, 0, __ATOMIC_SEQ_CST);
	if (!bits)
		return;
	t = process_target();
	if (!t)
		return;
	t->sig_pending |= bits;
	if (t != gr_rt.cur)
		kick(t);
}

void gr_signal_run(void)
{
	struct gr_thread *self = gr_rt.cur;
	uint64_t bits;
	int restart = 1;

	if (self->in_handler)
		return; /* a handler's own hooks do not nest handlers */
	self->in_handler = 1;
	/* A handler may wait itself (sleep is async-signal-safe): take this
	 * thread off the queue of the wait the signal interrupted, which
	 * queues it again if it restarts, and give that wait its result back
	 * afterwards (a real wake-up that came first, or -EINTR). */
	int saved_result = self->wake_result;
	if (self->q_addr)
		gr_wait_cancel(self);
	while ((bits = self->sig_pending) != 0) {
		int sig = __builtin_ctzll(bits);
		int saved = errno;
		self->sig_pending &= ~((uint64_t)1 << sig);
		if (!installed[sig])
			continue; /* reset to SIG_DFL or SIG_IGN meanwhile */
		if (!(user[sig].sa_flags & SA_RESTART))
			restart = 0;
		siginfo_t info = arrived_info[sig];
		call_handler(sig, &info, NULL);
		if (user[sig].sa_flags & SA_RESETHAND) {
			struct sigaction dfl = {.sa_handler = SIG_DFL};
			gr_sigaction(sig, &dfl, NULL);
		}
		errno = saved;
	}
	self->sig_restart = restart;
	self->wake_result = saved_result;
	self->in_handler = 0;
}
