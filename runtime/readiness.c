#include "readiness.h"

#include <errno.h>

#include "clock.h"
#include "fdwait.h"
#include "real.h"
#include "sched.h"
#include "signal.h"

/* A deadline timeout_ns from now (0: none, also when too far to say). */
static int64_t deadline_in(int64_t timeout_ns)
{
	return timeout_ns < 0 ? 0 : gr_deadline_in(timeout_ns);
}

/* A call with a signal mask found nothing ready: whether a signal its
 * mask lets through has run its handler, which ends the call (the kernel
 * looks before a zero timeout too). */
static int interrupted(int masked)
{
	return masked && gr_signal_interrupted() > 0;
}

int gr_poll(struct pollfd *fds, nfds_t n, int64_t timeout_ns, int masked, int *waited)
{
	int64_t deadline = deadline_in(timeout_ns);
	int r, w, parked = 0;

	if (!waited)
		waited = &parked;
	*waited = 0;
	for (;;) {
		r = gr_real.poll(fds, n, 0);
		if (r != 0)
			return r < 0 ? -errno : r;
		if (interrupted(masked))
			return -EINTR;
		if (timeout_ns == 0 || (deadline && gr_now() >= deadline))
			return 0;
		w = gr_fd_wait_any(fds, n, deadline);
		*waited = 1;
		if (w == -ETIMEDOUT) {
			/* Clears revents, or sees a last-moment event. */
			r = gr_real.poll(fds, n, 0);
			return r < 0 ? -errno : r;
		}
		if (w < 0)
			return w;
	}
}

int gr_epoll_wait(int ep, struct epoll_event *ev, int max, int64_t timeout_ns, int masked)
{
	int64_t deadline = deadline_in(timeout_ns);
	int fd = ep, r, w;

	/* A set closed or replaced (dup2) by another thread during the wait:
	 * the call goes on with it, as a blocked epoll_wait does in Linux,
	 * through the private dup of it that the wait leaves in fd. */
	for (;;) {
		r = gr_real.epoll_wait(fd, ev, max, 0);
		if (r != 0) {
			r = r < 0 ? -errno : r;
			break;
		}
		if (interrupted(masked)) {
			r = -EINTR;
			break;
		}
		if (timeout_ns == 0 || (deadline && gr_now() >= deadline))
			break;
		/* An epoll set is itself readable when one of its fds is. */
		w = gr_fd_wait_hold(&fd, GR_FD_READ, deadline);
		if (w == -ETIMEDOUT) {
			r = gr_real.epoll_wait(fd, ev, max, 0);
			r = r < 0 ? -errno : r;
			break;
		}
		if (w < 0) {
			r = w;
			break;
		}
	}
	if (fd != ep)
		gr_fd_release(fd);
	return r;
}
