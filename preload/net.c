/* Connection calls: accept, accept4, connect; and the fd bookkeeping that
 * waiting needs: close, dup2, dup3 wake every green thread waiting on the
 * fd being replaced with EBADF, and stop polling it, before the kernel fd
 * goes (so a number reused at once is safe).
 *
 * accept waits for the listening socket to be readable, then accepts (one
 * OS thread: no other green thread can take the connection in between).
 * connect on a blocking socket is started non-blocking for the moment of
 * the call, then waits for writability and answers SO_ERROR's verdict
 * (ECONNREFUSED...), or EINPROGRESS when SO_SNDTIMEO expires (socket(7)).
 *
 * Left to libc: closes glibc makes internally (fclose): those fds are not
 * polled by us unless a green thread waited on them, and waiting threads
 * hold no FILE. */
#include "hook.h"

#include <errno.h>
#include <fcntl.h>

#include "../runtime/clock.h"
#include "../runtime/fdwait.h"
#include "../runtime/io.h"

struct acc {
	int fd;
	struct sockaddr *addr;
	socklen_t *len;
	int flags;
};

static ssize_t op_accept(void *ctx, enum gr_io_mode mode)
{
	struct acc *a = ctx;
	int r;

	/* accept has no MSG_DONTWAIT: try only when a connection waits. */
	if (mode == GR_IO_DONTWAIT && !gr_io_ready(a->fd, GR_FD_READ))
		return -EAGAIN;
	r = GR_REAL(accept4)(a->fd, a->addr, a->len, a->flags);
	if (r >= 0)
		gr_fd_forget(r); /* a new socket under a number maybe used before */
	return r < 0 ? -errno : r;
}

static int do_accept(struct acc *a)
{
	ssize_t r = gr_io(a->fd, GR_FD_READ, op_accept, a);

	if (r >= 0)
		gr_maybe_yield();
	return (int)gr_ret(r);
}

GR_EXPORT int accept(int fd, struct sockaddr *restrict addr, socklen_t *restrict len)
{
	struct acc a = {fd, addr, len, 0};

	if (!gr_green())
		return GR_REAL(accept)(fd, addr, len);
	return do_accept(&a);
}

GR_EXPORT int accept4(int fd, struct sockaddr *restrict addr, socklen_t *restrict len, int flags)
{
	struct acc a = {fd, addr, len, flags};

	if (!gr_green())
		return GR_REAL(accept4)(fd, addr, len, flags);
	return do_accept(&a);
}

GR_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	socklen_t elen = sizeof(int);
	int64_t deadline = 0, timeo[2];
	int fl, r, e, w, nb;

	if (!gr_green())
		return GR_REAL(connect)(fd, addr, len);
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || (fl & O_NONBLOCK))
		return GR_REAL(connect)(fd, addr, len);
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	r = GR_REAL(connect)(fd, addr, len);
	e = errno;
	fcntl(fd, F_SETFL, fl);
	if (r == 0 || e != EINPROGRESS) {
		errno = r == 0 ? errno : e;
		return r;
	}
	if (gr_fd_socket_facts(fd, &nb, &timeo[0], &timeo[1]) == 0 && timeo[1])
		deadline = gr_deadline_in(timeo[1]);
	do
		w = gr_fd_wait(fd, GR_FD_WRITE, deadline);
	while (w == -EINTR && !deadline && gr_rt.cur->sig_restart);
	if (w == -ETIMEDOUT) {
		errno = EINPROGRESS;
		return -1;
	}
	if (w < 0)
		return (int)gr_ret(w);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0)
		return -1;
	if (e) {
		errno = e;
		return -1;
	}
	return 0;
}

GR_EXPORT int close(int fd)
{
	if (gr_green())
		gr_fd_closing(fd);
	return GR_REAL(close)(fd);
}

GR_EXPORT int dup2(int old, int new)
{
	if (gr_green() && old != new)
		gr_fd_closing(new);
	return GR_REAL(dup2)(old, new);
}

GR_EXPORT int dup3(int old, int new, int flags)
{
	if (gr_green() && old != new)
		gr_fd_closing(new);
	return GR_REAL(dup3)(old, new, flags);
}
