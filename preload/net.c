/* Connection calls: accept, accept4, connect. The waiting is
 * runtime/io.c's: accept is tried once poll says a connection waits (one
 * OS thread: no other green thread can take it in between), and fails at
 * once, as natively, on what is not a listening socket; connect waits for
 * the connection, or for room in a unix listener's backlog, as a blocking
 * connect does, and answers SO_ERROR's verdict (ECONNREFUSED...), or
 * EINPROGRESS (TCP) / EAGAIN (unix) when SO_SNDTIMEO expires (socket(7)).
 * Each is a cancellation point; errno is left alone by a call that
 * succeeds.
 *
 * Left to libc: the calls of threads that are not green. */
#include "hook.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>

#include "../runtime/cancel.h"
#include "../runtime/fdwait.h"
#include "../runtime/io.h"

struct acc {
	struct gr_io io;
	struct sockaddr *addr; /* accept's arguments */
	socklen_t *len;
	int flags;
};

static ssize_t call_accept(struct gr_io *io, int fd, enum gr_io_mode mode)
{
	struct acc *a = (struct acc *)((char *)io - offsetof(struct acc, io));
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int r;

	/* accept has no MSG_DONTWAIT: try only when a connection waits (or
	 * poll says the fd is in error, which accept then reports). */
	if (mode == GR_IO_TRY && GR_REAL(poll)(&p, 1, 0) == 0)
		return -EAGAIN;
	r = GR_REAL(accept4)(fd, a->addr, a->len, a->flags);
	if (r < 0)
		return -errno;
	gr_fd_forget(r); /* a new socket under a number maybe used before */
	gr_fd_set_kind(r, GR_FD_KIND_SOCKET);
	return r;
}

static int green_accept(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	struct acc a = {.addr = addr, .len = len, .flags = flags};
	int saved = errno;
	ssize_t r;

	a.io.fd = fd;
	a.io.what = GR_FD_READ;
	a.io.kind = GR_IO_ACCEPT;
	a.io.call = call_accept;
	gr_cancel_begin();
	r = gr_io_run(&a.io);
	gr_cancel_end(r == -EINTR);
	if (r >= 0) {
		errno = saved;
		gr_maybe_yield();
	}
	return (int)gr_ret(r);
}

GR_EXPORT int accept(int fd, struct sockaddr *restrict addr, socklen_t *restrict len)
{
	if (!gr_green())
		return GR_REAL(accept)(fd, addr, len);
	return green_accept(fd, addr, len, 0);
}

GR_EXPORT int accept4(int fd, struct sockaddr *restrict addr, socklen_t *restrict len, int flags)
{
	/* Unknown flags: the kernel's EINVAL, before it would wait. */
	if (!gr_green() || (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK)))
		return GR_REAL(accept4)(fd, addr, len, flags);
	return green_accept(fd, addr, len, flags);
}

GR_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	int saved = errno, r;

	if (!gr_green())
		return GR_REAL(connect)(fd, addr, len);
	gr_cancel_begin();
	r = gr_io_connect(fd, addr, len);
	gr_cancel_end(r == -EINTR);
	if (r == 0) {
		errno = saved;
		gr_maybe_yield();
	}
	return (int)gr_ret(r);
}
