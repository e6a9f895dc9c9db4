/* epoll_pwait2: epoll_pwait with a timeout in nanoseconds (a timespec),
 * Linux 5.11. Green as epoll_pwait is in poll.c, through the same wait
 * (runtime/readiness.c's gr_epoll_wait): asked without waiting first; if
 * nothing is ready and the caller would wait, the thread parks on the
 * epoll fd (itself pollable) until an event may be there or the timeout,
 * then asks again. The call's signal mask is the thread's for the wait,
 * atomically as natively: a signal it lets through, pending before or
 * arriving during the wait, runs its handler and the call fails with EINTR
 * (never restarted, as in the kernel). A cancellation point; errno is left
 * alone by a call that succeeds. A timeout the kernel cannot read or that
 * is not a valid time makes the plain call, which fails at once (EFAULT,
 * EINVAL); so do bad fds and a bad maxevents, from the first try. */
#include <sys/epoll.h>

#include "../runtime/clock.h"
#include "../runtime/readiness.h"
#include "../runtime/signal.h"
#include "../runtime/uaccess.h"
#include "work.h"

GR_EXPORT int epoll_pwait2(int ep, struct epoll_event *ev, int max, const struct timespec *tmo,
			   const sigset_t *mask)
{
	struct timespec t = {0, 0};
	int saved = errno;
	uint64_t old = 0;
	int r;

	if (!gr_green())
		return GR_REAL(epoll_pwait2)(ep, ev, max, tmo, mask);
	if (tmo && (gr_copy_in(&t, tmo, sizeof(t)) < 0 || t.tv_sec < 0 || t.tv_nsec < 0 ||
		    t.tv_nsec >= GR_NSEC))
		return GR_REAL(epoll_pwait2)(ep, ev, max, tmo, mask);
	gr_cancel_begin();
	if (mask)
		old = gr_sigmask_enter(gr_sigset_bits(mask));
	r = gr_epoll_wait(ep, ev, max, tmo ? gr_ts_ns(&t) : -1, mask != NULL);
	if (mask)
		gr_sigmask_leave(old); /* what the mask held back runs now */
	gr_cancel_end(r == -EINTR);
	if (r >= 0) {
		errno = saved;
		gr_maybe_yield();
	}
	return (int)gr_ret(r);
}
