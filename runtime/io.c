#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "cancel.h"
#include "clock.h"
#include "config.h"
#include "fdwait.h"
#include "pool.h"
#include "real.h"
#include "sched.h"

/* Whether the program set O_NONBLOCK (or fd is bad: the plain call then
 * gives libc's answer). */
static int nonblocking(int fd)
{
	int fl = gr_real.fcntl(fd, F_GETFL);

	return fl < 0 || (fl & O_NONBLOCK);
}

/* A regular file or block device: never waits for readiness. */
static int plain_file(int fd)
{
	struct stat st;

	return fstat(fd, &st) < 0 || S_ISREG(st.st_mode) || S_ISBLK(st.st_mode) ||
	       S_ISDIR(st.st_mode);
}

int gr_io_ready(int fd, int what)
{
	struct pollfd p = {.fd = fd, .events = what == GR_FD_READ ? POLLIN : POLLOUT};

	return gr_real.poll(&p, 1, 0) != 0;
}

struct pooled {
	gr_io_op op;
	void *ctx;
	ssize_t r;
};

static void run_pooled(void *arg)
{
	struct pooled *p = arg;

	p->r = p->op(p->ctx, GR_IO_PLAIN);
}

ssize_t gr_io_file(gr_io_op op, void *ctx)
{
	struct pooled p = {op, ctx, 0};

	if (!gr_config.file_io_pool || gr_pool_run(run_pooled, &p) < 0)
		return op(ctx, GR_IO_PLAIN);
	return p.r;
}

static ssize_t io(int fd, int what, gr_io_op op, void *ctx)
{
	ssize_t r = op(ctx, GR_IO_DONTWAIT);
	int sock = r != -ENOTSOCK;
	int64_t deadline = 0;

	if (sock) {
		int nb;
		int64_t timeo[2];
		if (r != -EAGAIN || gr_fd_socket_facts(fd, &nb, &timeo[0], &timeo[1]) < 0 || nb)
			return r;
		if (timeo[what == GR_FD_WRITE])
			deadline = gr_deadline_in(timeo[what == GR_FD_WRITE]);
	} else {
		if (nonblocking(fd))
			return op(ctx, GR_IO_PLAIN);
		if (plain_file(fd))
			return gr_io_file(op, ctx);
		if (gr_io_ready(fd, what))
			return op(ctx, GR_IO_READY);
	}
	for (;;) {
		int w = gr_fd_wait(fd, what, deadline);
		switch (w) {
		case 0: break;
		case -EPERM: /* epoll refuses it (/dev/null...): it never blocks */
			return op(ctx, GR_IO_PLAIN);
		case -ETIMEDOUT: return -EAGAIN; /* socket(7): the timeout expired */
		case -EINTR:
			/* signal(7): restarted under SA_RESTART, unless the
			 * socket has a timeout. */
			if (deadline || !gr_rt.cur->sig_restart)
				return -EINTR;
			break;
		default: return w; /* -EBADF: closed while we waited */
		}
		if (sock) {
			r = op(ctx, GR_IO_DONTWAIT);
			if (r != -EAGAIN)
				return r;
		} else if (gr_io_ready(fd, what)) {
			return op(ctx, GR_IO_READY);
		}
	}
}

/* Every call that comes here (reads, writes, sends, receives, accept) is a
 * cancellation point. */
ssize_t gr_io(int fd, int what, gr_io_op op, void *ctx)
{
	ssize_t r;

	gr_cancel_begin();
	r = io(fd, what, op, ctx);
	gr_cancel_end(r == -EINTR);
	return r;
}
