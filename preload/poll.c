/* Readiness calls: poll, ppoll, select, pselect, epoll_wait, epoll_pwait.
 * Each first asks the kernel without waiting; if nothing is ready and the
 * caller would wait, the thread parks until one of the fds may be ready
 * (runtime/fdwait.c: the fd itself, or a temporary epoll set of them; an
 * epoll fd is itself pollable) or the timeout, then asks again. As natively
 * they are never restarted after a signal handler: EINTR. select writes the
 * time left into its timeout, as Linux does.
 *
 * The signal mask of ppoll, pselect and epoll_pwait becomes the green
 * thread's for the call (runtime/sigmask.c), atomically as natively: a
 * signal it lets through, already pending or arriving during the wait,
 * runs its handler in this thread and the call fails with EINTR, unless
 * an fd was ready first; then the mask the thread had is back. */
#include "hook.h"

#include <errno.h>
#include <string.h>

#include "../runtime/cancel.h"
#include "../runtime/clock.h"
#include "../runtime/fdwait.h"
#include "../runtime/signal.h"

/* A call with a signal mask (ppoll, pselect, epoll_pwait) found nothing
 * ready: whether a signal its mask lets through has run its handler, which
 * ends the call with EINTR (the kernel checks before a zero timeout too). */
static int interrupted(const sigset_t *mask)
{
	if (mask && gr_signal_interrupted() > 0) {
		errno = EINTR;
		return 1;
	}
	return 0;
}

/* Ends a call with a signal mask: the thread's own mask is back, and
 * what it lets through runs, before the call returns r (errno kept). */
static int masked_end(int r, uint64_t old)
{
	int saved = errno;

	gr_sigmask_leave(old);
	errno = saved;
	if (r >= 0)
		gr_maybe_yield();
	return r;
}

/* poll with a timeout in ns (-1: none) and the signal mask of the call
 * (NULL: the thread's), which the caller applied. */
static int poll_for(struct pollfd *fds, nfds_t n, int64_t timeout_ns, const sigset_t *mask)
{
	int64_t deadline = timeout_ns < 0 ? 0 : gr_deadline_in(timeout_ns);
	int r;

	for (;;) {
		r = GR_REAL(poll)(fds, n, 0);
		if (r != 0)
			break;
		if (interrupted(mask))
			return -1;
		if (timeout_ns == 0)
			break;
		if (deadline && gr_now() >= deadline)
			break;
		int w = gr_fd_wait_any(fds, n, deadline);
		if (w == -EINTR) {
			errno = EINTR;
			return -1;
		}
		if (w < 0 && w != -ETIMEDOUT)
			return (int)gr_ret(w);
		if (w == -ETIMEDOUT) {
			r = GR_REAL(poll)(fds, n, 0); /* clears revents, or a last-moment event */
			break;
		}
	}
	if (r >= 0 && !mask) /* a masked call yields once its mask is gone */
		gr_maybe_yield();
	return r;
}

/* The way into and out of every call here: each is a cancellation point,
 * and a call's own mask applies from after its way in (where signals that
 * came before it run their handlers under the thread's mask) to its way
 * out. call_begin returns the mask to restore. */
static uint64_t call_begin(const sigset_t *mask)
{
	gr_cancel_begin();
	return mask ? gr_sigmask_enter(gr_sigset_bits(mask)) : 0;
}

static int call_end(int r, const sigset_t *mask, uint64_t old)
{
	if (mask)
		r = masked_end(r, old);
	gr_cancel_end(r < 0 && errno == EINTR);
	return r;
}

static int green_poll(struct pollfd *fds, nfds_t n, int64_t timeout_ns, const sigset_t *mask)
{
	uint64_t old = call_begin(mask);

	return call_end(poll_for(fds, n, timeout_ns, mask), mask, old);
}

GR_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	if (!gr_green())
		return GR_REAL(poll)(fds, n, timeout);
	return green_poll(fds, n, timeout < 0 ? -1 : (int64_t)timeout * GR_MSEC, NULL);
}

GR_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *tmo, const sigset_t *mask)
{
	if (!gr_green())
		return GR_REAL(ppoll)(fds, n, tmo, mask);
	if (tmo && (tmo->tv_sec < 0 || tmo->tv_nsec < 0 || tmo->tv_nsec >= GR_NSEC)) {
		errno = EINVAL;
		return -1;
	}
	return green_poll(fds, n, tmo ? gr_ts_ns(tmo) : -1, mask);
}

/* select on top of poll: the sets become pollfds and back. */
static int green_select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, int64_t timeout_ns,
			const sigset_t *mask)
{
	struct pollfd pf[FD_SETSIZE];
	nfds_t n = 0;
	int r;

	if (nfds < 0 || nfds > FD_SETSIZE) {
		errno = EINVAL;
		return -1;
	}
	for (int fd = 0; fd < nfds; fd++) {
		short ev = (short)((rd && FD_ISSET(fd, rd) ? POLLIN : 0) |
				   (wr && FD_ISSET(fd, wr) ? POLLOUT : 0) |
				   (ex && FD_ISSET(fd, ex) ? POLLPRI : 0));
		if (ev) {
			pf[n].fd = fd;
			pf[n].events = ev;
			pf[n].revents = 0;
			n++;
		}
	}
	r = green_poll(pf, n, timeout_ns, mask);
	if (r < 0)
		return r;
	for (nfds_t i = 0; i < n; i++)
		if (pf[i].revents & POLLNVAL) {
			errno = EBADF;
			return -1;
		}
	if (rd)
		FD_ZERO(rd);
	if (wr)
		FD_ZERO(wr);
	if (ex)
		FD_ZERO(ex);
	r = 0;
	for (nfds_t i = 0; i < n; i++) {
		short re = pf[i].revents;
		if (rd && (pf[i].events & POLLIN) && (re & (POLLIN | POLLHUP | POLLERR))) {
			FD_SET(pf[i].fd, rd);
			r++;
		}
		if (wr && (pf[i].events & POLLOUT) && (re & (POLLOUT | POLLERR))) {
			FD_SET(pf[i].fd, wr);
			r++;
		}
		if (ex && (pf[i].events & POLLPRI) && (re & POLLPRI)) {
			FD_SET(pf[i].fd, ex);
			r++;
		}
	}
	return r;
}

GR_EXPORT int select(int nfds, fd_set *restrict rd, fd_set *restrict wr, fd_set *restrict ex,
		     struct timeval *restrict tv)
{
	int64_t t0, timeout_ns = -1;
	int r;

	if (!gr_green())
		return GR_REAL(select)(nfds, rd, wr, ex, tv);
	if (tv) {
		/* glibc's reading: tv_usec as 32 bits, whole seconds of it
		 * carried into tv_sec, a sum past INT64_MAX saturating. */
		int32_t us = (int32_t)tv->tv_usec;
		if (tv->tv_sec < 0 || us < 0) {
			errno = EINVAL;
			return -1;
		}
		timeout_ns = gr_ns_of(gr_ns_add(tv->tv_sec, us / 1000000), us % 1000000, GR_USEC);
	}
	t0 = gr_now();
	r = green_select(nfds, rd, wr, ex, timeout_ns, NULL);
	if (tv && r >= 0) { /* Linux: the time not slept */
		int64_t left = timeout_ns - (gr_now() - t0);
		if (left < 0 || r == 0)
			left = 0;
		tv->tv_sec = left / GR_NSEC;
		tv->tv_usec = (left % GR_NSEC) / 1000;
	}
	return r;
}

GR_EXPORT int pselect(int nfds, fd_set *restrict rd, fd_set *restrict wr, fd_set *restrict ex,
		      const struct timespec *restrict tmo, const sigset_t *restrict mask)
{
	if (!gr_green())
		return GR_REAL(pselect)(nfds, rd, wr, ex, tmo, mask);
	if (tmo && (tmo->tv_sec < 0 || tmo->tv_nsec < 0 || tmo->tv_nsec >= GR_NSEC)) {
		errno = EINVAL;
		return -1;
	}
	return green_select(nfds, rd, wr, ex, tmo ? gr_ts_ns(tmo) : -1, mask);
}

static int epoll_for(int ep, struct epoll_event *ev, int max, int timeout, const sigset_t *mask)
{
	int64_t deadline = timeout < 0 ? 0 : gr_deadline_in((int64_t)timeout * GR_MSEC);
	int r;

	for (;;) {
		r = GR_REAL(epoll_wait)(ep, ev, max, 0);
		if (r != 0)
			break;
		if (interrupted(mask))
			return -1;
		if (timeout == 0 || (deadline && gr_now() >= deadline))
			break;
		int w = gr_fd_wait(ep, GR_FD_READ, deadline);
		if (w == -EINTR) {
			errno = EINTR;
			return -1;
		}
		if (w == -ETIMEDOUT)
			return GR_REAL(epoll_wait)(ep, ev, max, 0);
		if (w < 0)
			return (int)gr_ret(w);
	}
	if (r >= 0 && !mask) /* a masked call yields once its mask is gone */
		gr_maybe_yield();
	return r;
}

static int green_epoll_wait(int ep, struct epoll_event *ev, int max, int timeout,
			    const sigset_t *mask)
{
	uint64_t old = call_begin(mask);

	return call_end(epoll_for(ep, ev, max, timeout, mask), mask, old);
}

GR_EXPORT int epoll_wait(int ep, struct epoll_event *ev, int max, int timeout)
{
	if (!gr_green())
		return GR_REAL(epoll_wait)(ep, ev, max, timeout);
	return green_epoll_wait(ep, ev, max, timeout, NULL);
}

GR_EXPORT int epoll_pwait(int ep, struct epoll_event *ev, int max, int timeout,
			  const sigset_t *mask)
{
	if (!gr_green())
		return GR_REAL(epoll_pwait)(ep, ev, max, timeout, mask);
	return green_epoll_wait(ep, ev, max, timeout, mask);
}
