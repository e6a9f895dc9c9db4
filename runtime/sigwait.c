/* Waiting for signals: sigsuspend, and sigwait and its variants (signal.h).
 *
 * sigsuspend parks with its mask until a handler has run: a signal that
 * mask lets through reaches the thread as any other (signal.c kicks it).
 *
 * sigwait takes a signal instead of running its handler. The signals it
 * waits for are blocked, usually by every thread, so they wait pending in
 * the kernel, and nothing reaches the trampoline: a signalfd watching the
 * signals some sigwait is parked for wakes the waiters, which take the
 * signal with a non-blocking sigtimedwait. Signals pending in the runtime
 * (sent to the thread with pthread_kill while it blocks them, or held for
 * the process) are taken first. The sigwait's own set is not unblocked in
 * the OS thread's mask as the kernel unblocks it for a native sigwait: a
 * signal left to its default action would then kill the process. Instead
 * signal.c counts a thread parked in sigwait as taking the signals it waits
 * for, should one come through the trampoline. */
#include "ownfd.h"
#include "signal.h"

#include <errno.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "real.h"
#include "wait.h"

/* Without a signalfd (out of fds), parked waiters look again this often. */
#define POLL_NS (5 * GR_MSEC)

static uint32_t waiters[GR_NSIG - 1]; /* parked sigwaits per signal */
static uint64_t waited;		      /* signals with waiters[i] > 0 */
static int sfd = -1;		      /* signalfd for the signals in waited */
static uint64_t sfd_mask;	      /* what sfd watches */
static uv_poll_t sfd_poll;
static const char queue; /* parked sigwaits wait on this address's queue */

int gr_sigsuspend(uint64_t mask)
{
	uint64_t old = gr_sigmask_enter(mask);

	/* gr_signal_run wakes the park with -EINTR only when a handler ran
	 * (an ignored signal does not end a sigsuspend). */
	while (gr_signal_run() == 0)
		if (gr_park(GR_WAIT_SIGNAL, NULL, 0) == -EINTR)
			break;
	gr_sigmask_leave(old);
	return -EINTR;
}

int gr_sigwait_parked(void)
{
	return waited != 0;
}

static void add_waiter(uint64_t set, int delta);
static int watch(void);

void gr_sigwait_abandoned(uint64_t set)
{
	add_waiter(set, -1);
	(void)watch();
}

static void moved_sfd(int from, int to)
{
	(void)from;
	sfd = to;
	gr_own_fd_rewatch(sfd_poll.loop, &sfd_poll.io_watcher, to);
}

static void on_sfd(uv_poll_t *h, int status, int events)
{
	(void)h;
	(void)status;
	(void)events;
	/* Level-triggered: it stays readable until a waiter takes the signal. */
	gr_wake_addr(&queue, GR_WAKE_ALL, GR_BITSET_ANY);
}

/* Points the signalfd at the signals waited for now; 0, or -errno when
 * there is none (the waiters then poll). */
static int watch(void)
{
	sigset_t s;
	int err = 0;

	if (waited == sfd_mask)
		return sfd >= 0 ? 0 : -EBADF;
	sigemptyset(&s);
	gr_sigset_put(&s, waited);
	gr_rt.inside = 1;
	if (sfd >= 0) {
		if (signalfd(sfd, &s, 0) < 0)
			err = -errno;
	} else {
		sfd = gr_own_fd_high(signalfd(-1, &s, SFD_NONBLOCK | SFD_CLOEXEC));
		if (sfd < 0)
			err = -errno;
		else if ((err = uv_poll_init(&gr_rt.loop, &sfd_poll, sfd)) == 0 &&
			 (err = uv_poll_start(&sfd_poll, UV_READABLE, on_sfd)) == 0) {
			uv_unref((uv_handle_t *)&sfd_poll);
			gr_own_fd_add(sfd);
			gr_own_fd_mover(sfd, moved_sfd);
		} else {
			gr_real.close(sfd);
			sfd = -1;
		}
	}
	gr_rt.inside = 0;
	if (err == 0)
		sfd_mask = waited;
	return err;
}

static void add_waiter(uint64_t set, int delta)
{
	while (set) {
		int i = __builtin_ctzll(set);
		set &= set - 1;
		waiters[i] += (uint32_t)delta;
		if (waiters[i])
			waited |= (uint64_t)1 << i;
		else
			waited &= ~((uint64_t)1 << i);
	}
}

/* Takes the lowest pending signal of set: the thread's own first, then the
 * process's, as the kernel dequeues. 0 when none is pending. */
static int take(struct gr_thread *self, uint64_t set, siginfo_t *info)
{
	uint64_t b = self->sig_pending & set;
	struct timespec zero = {0, 0};
	sigset_t k;
	int sig;

	if (!b)
		b = gr_signal_process_pending() & set;
	if (b) {
		sig = __builtin_ctzll(b) + 1;
		if (self->sig_pending & GR_SIGBIT(sig))
			self->sig_pending &= ~GR_SIGBIT(sig);
		else
			gr_signal_take_process(GR_SIGBIT(sig));
		gr_signal_info(sig, info);
		gr_signal_consumed(sig);
		/* glibc folds the tkill code into SI_USER for sigtimedwait. */
		if (info->si_code == SI_TKILL)
			info->si_code = SI_USER;
		return sig;
	}
	sigemptyset(&k);
	gr_sigset_put(&k, set);
	int saved = errno;
	sig = gr_real.sigtimedwait(&k, info, &zero);
	errno = saved;
	return sig > 0 ? sig : 0;
}

int gr_sigwait(uint64_t set, int64_t deadline, siginfo_t *info)
{
	struct gr_thread *self = gr_rt.cur;
	siginfo_t local;
	int r = 0;

	if (!info)
		info = &local;
	set &= ~(GR_SIGBIT(SIGKILL) | GR_SIGBIT(SIGSTOP));
	for (;;) {
		if (gr_rt.sig_pending)
			gr_signal_dispatch();
		int sig = take(self, set, info);
		if (sig > 0)
			return sig;
		if (r == -EINTR)
			return -EINTR; /* a handler of another signal ran */
		if (deadline < 0 || r == -ETIMEDOUT || (deadline > 0 && gr_now() >= deadline))
			return -EAGAIN;
		add_waiter(set, 1);
		int64_t until = deadline;
		if (watch() < 0 && (!until || until > gr_now() + POLL_NS))
			until = gr_now() + POLL_NS;
		r = gr_wait_addr(&queue, ~0u, GR_WAIT_SIGNAL, &set, until);
		add_waiter(set, -1);
		/* A signal no one waits for must not keep the fd readable. */
		(void)watch();
		if (r == -ETIMEDOUT && until != deadline)
			r = 0; /* only the poll's turn */
	}
}
