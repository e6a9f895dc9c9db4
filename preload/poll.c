/* Readiness calls: poll, ppoll, select, pselect, epoll_wait, epoll_pwait.
 * The waiting is runtime/readiness.c's (ask without waiting, park until an
 * fd may be ready or the timeout, ask again); here the arguments become
 * its: timeouts in ns, select's sets as pollfds and back. As natively they
 * are never restarted after a signal handler (EINTR), select writes the
 * time left into its timeout, as Linux does, and takes any nfds the
 * caller's sets are large enough for (above FD_SETSIZE too). Each is a
 * cancellation point. An fd closed by another thread during the wait: the
 * wait goes on with its file (fdwait.h), then poll says POLLNVAL for the
 * number and select takes it as ready (the kernel's next look at the sets
 * does so), while a bad fd at the start is select's EBADF.
 *
 * The signal mask of ppoll, pselect and epoll_pwait becomes the green
 * thread's for the call (runtime/sigmask.c), atomically as natively: a
 * signal it lets through, already pending or arriving during the wait,
 * runs its handler in this thread and the call fails with EINTR, unless
 * an fd was ready first; then the mask the thread had is back.
 *
 * Left to libc: the calls of threads that are not green. */
#include "hook.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../runtime/cancel.h"
#include "../runtime/clock.h"
#include "../runtime/readiness.h"
#include "../runtime/signal.h"

/* The way into and out of every call here: each is a cancellation point,
 * and a call's own mask applies from after its way in (where signals that
 * came before it run their handlers under the thread's mask) to its way
 * out, where what it let in runs before the call returns. r is the
 * runtime's answer; the result is libc's. */
static uint64_t call_begin(const sigset_t *mask, int *saved)
{
	*saved = errno;
	gr_cancel_begin();
	return mask ? gr_sigmask_enter(gr_sigset_bits(mask)) : 0;
}

static int call_end(int r, const sigset_t *mask, uint64_t old, int saved)
{
	if (mask)
		gr_sigmask_leave(old);
	gr_cancel_end(r == -EINTR);
	if (r >= 0) {
		errno = saved;
		gr_maybe_yield();
	}
	return (int)gr_ret(r);
}

/* A timespec timeout in ns (saturated), -1 for none; the caller checked
 * it. */
static int64_t ts_timeout(const struct timespec *ts)
{
	return ts ? gr_ts_ns(ts) : -1;
}

static int bad_ts(const struct timespec *ts)
{
	return ts && (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= GR_NSEC);
}

static int green_poll(struct pollfd *fds, nfds_t n, int64_t timeout_ns, const sigset_t *mask,
		      int *waited)
{
	int saved;
	uint64_t old = call_begin(mask, &saved);

	return call_end(gr_poll(fds, n, timeout_ns, mask != NULL, waited), mask, old, saved);
}

GR_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	if (!gr_green())
		return GR_REAL(poll)(fds, n, timeout);
	return green_poll(fds, n, timeout < 0 ? -1 : (int64_t)timeout * GR_MSEC, NULL, NULL);
}

GR_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *tmo, const sigset_t *mask)
{
	if (!gr_green())
		return GR_REAL(ppoll)(fds, n, tmo, mask);
	if (bad_ts(tmo)) {
		errno = EINVAL;
		return -1;
	}
	return green_poll(fds, n, ts_timeout(tmo), mask, NULL);
}

/* select's sets are arrays of unsigned long, as the kernel reads them
 * (the FD_* macros stop at FD_SETSIZE). */
#define LBITS (8 * sizeof(unsigned long))

static int has(const fd_set *s, int fd)
{
	return s && (((const unsigned long *)s)[fd / LBITS] >> (fd % LBITS) & 1);
}

static void put(fd_set *s, int fd)
{
	((unsigned long *)s)[fd / LBITS] |= 1UL << (fd % LBITS);
}

/* The kernel writes back the words that hold nfds bits, no more. */
static void clear(fd_set *s, int nfds)
{
	if (s)
		memset(s, 0, (nfds + LBITS - 1) / LBITS * sizeof(unsigned long));
}

/* select on top of poll: the sets become pollfds and back. */
static int green_select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, int64_t timeout_ns,
			const sigset_t *mask)
{
	struct pollfd local[64], *pf = local;
	nfds_t n = 0, cap = 0;
	int r, waited = 0;

	if (nfds < 0) {
		errno = EINVAL;
		return -1;
	}
	for (int fd = 0; fd < nfds; fd++)
		cap += has(rd, fd) || has(wr, fd) || has(ex, fd);
	if (cap > 64 && !(pf = malloc(cap * sizeof(*pf)))) {
		errno = ENOMEM;
		return -1;
	}
	for (int fd = 0; fd < nfds; fd++) {
		short ev = (short)((has(rd, fd) ? POLLIN : 0) | (has(wr, fd) ? POLLOUT : 0) |
				   (has(ex, fd) ? POLLPRI : 0));
		if (ev)
			pf[n++] = (struct pollfd){.fd = fd, .events = ev};
	}
	r = green_poll(pf, n, timeout_ns, mask, &waited);
	for (nfds_t i = 0; r >= 0 && i < n; i++) {
		if (!(pf[i].revents & POLLNVAL))
			continue;
		if (!waited) { /* a bad fd in the sets: the kernel looks first */
			errno = EBADF;
			r = -1;
		} else {
			/* Closed during the wait: the kernel's next look at the
			 * sets takes a number with no file as ready to read
			 * and to write (DEFAULT_POLLMASK), not as an
			 * exception. */
			pf[i].revents = POLLIN | POLLOUT;
		}
	}
	if (r >= 0) {
		clear(rd, nfds);
		clear(wr, nfds);
		clear(ex, nfds);
		r = 0;
		for (nfds_t i = 0; i < n; i++) {
			short re = pf[i].revents;
			if (rd && (pf[i].events & POLLIN) && (re & (POLLIN | POLLHUP | POLLERR))) {
				put(rd, pf[i].fd);
				r++;
			}
			if (wr && (pf[i].events & POLLOUT) && (re & (POLLOUT | POLLERR))) {
				put(wr, pf[i].fd);
				r++;
			}
			if (ex && (pf[i].events & POLLPRI) && (re & POLLPRI)) {
				put(ex, pf[i].fd);
				r++;
			}
		}
	}
	if (pf != local)
		free(pf);
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
	if (tv && r >= 0 && timeout_ns >= 0) { /* Linux: the time not slept */
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
	if (bad_ts(tmo)) {
		errno = EINVAL;
		return -1;
	}
	return green_select(nfds, rd, wr, ex, ts_timeout(tmo), mask);
}

static int green_epoll_wait(int ep, struct epoll_event *ev, int max, int timeout,
			    const sigset_t *mask)
{
	int saved;
	uint64_t old = call_begin(mask, &saved);
	int64_t ns = timeout < 0 ? -1 : (int64_t)timeout * GR_MSEC;

	return call_end(gr_epoll_wait(ep, ev, max, ns, mask != NULL), mask, old, saved);
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
