/* epoll_pwait2: epoll_pwait with a timeout in nanoseconds (a timespec),
 * Linux 5.11. Green as epoll_pwait is in poll.c: asked without waiting
 * first; if nothing is ready and the caller would wait, the thread parks
 * on the epoll fd (itself pollable) until an event may be there or the
 * timeout, then asks again. The call's signal mask is the thread's for the
 * wait, atomically as natively: a signal it lets through, pending before
 * or arriving during the wait, runs its handler and the call fails with
 * EINTR (never restarted, as in the kernel). A cancellation point. A
 * timeout the kernel cannot read or that is not a valid time makes the
 * plain call, which fails at once (EFAULT, EINVAL); so do bad fds and a
 * bad maxevents, from the first try. */
#include <sys/epoll.h>

#include "../runtime/clock.h"
#include "../runtime/fdwait.h"
#include "../runtime/signal.h"
#include "../runtime/uaccess.h"
#include "work.h"

static const struct timespec zero;

static int wait2(int ep, struct epoll_event *ev, int max, const struct timespec *tmo,
		 int64_t deadline, const sigset_t *mask)
{
	for (;;) {
		int r = GR_REAL(epoll_pwait2)(ep, ev, max, &zero, NULL);
		if (r != 0)
			return r;
		if (mask && gr_signal_interrupted() > 0) {
			errno = EINTR;
			return -1;
		}
		if (tmo && gr_now() >= deadline)
			return 0;
		int w = gr_fd_wait(ep, GR_FD_READ, tmo ? deadline : 0);
		if (w == -ETIMEDOUT)
			return GR_REAL(epoll_pwait2)(ep, ev, max, &zero, NULL);
		if (w < 0) {
			errno = -w; /* EINTR after a handler, EBADF if closed */
			return -1;
		}
	}
}

GR_EXPORT int epoll_pwait2(int ep, struct epoll_event *ev, int max, const struct timespec *tmo,
			   const sigset_t *mask)
{
	struct timespec t = {0, 0};
	int64_t deadline = 0;
	uint64_t old = 0;
	int r;

	if (!gr_green())
		return GR_REAL(epoll_pwait2)(ep, ev, max, tmo, mask);
	if (tmo) {
		if (gr_copy_in(&t, tmo, sizeof(t)) < 0 || t.tv_sec < 0 || t.tv_nsec < 0 ||
		    t.tv_nsec >= GR_NSEC)
			return GR_REAL(epoll_pwait2)(ep, ev, max, tmo, mask);
		deadline = gr_now() + gr_ts_ns(&t);
	}
	gr_cancel_begin();
	if (mask)
		old = gr_sigmask_enter(gr_sigset_bits(mask));
	r = wait2(ep, ev, max, tmo, deadline, mask);
	if (mask) {
		int saved = errno;
		gr_sigmask_leave(old); /* what the mask held back runs now */
		errno = saved;
	}
	gr_cancel_end(r < 0 && errno == EINTR);
	if (r >= 0)
		gr_maybe_yield();
	return r;
}
