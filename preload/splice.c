/* Moving data between fds in the kernel: splice, tee, vmsplice, sendfile
 * (and sendfile64), copy_file_range.
 *
 * SPLICE_F_NONBLOCK makes the pipe end of a splice, tee or vmsplice
 * non-blocking for one call, so those are green by readiness: tried with
 * it, and on EAGAIN the thread parks until the end that was not ready (the
 * input, else the output) may be, then tries again. A socket or tty input
 * does not follow that flag (TCP waits for data whatever it says), so it is
 * spliced only once readable, which then never waits. sendfile into a pipe
 * is the same as splice from the file, and is made so. What nothing can
 * make non-blocking for one call is the send side of a socket (or a tty)
 * that the program keeps blocking: splice into one, or sendfile into one,
 * waits for the output to be writable (and a pipe input to be readable),
 * then runs on a worker thread, where the kernel may block as natively
 * while the thread that drains the socket runs; a signal handler that runs
 * in the caller interrupts it there (a partial count, or EINTR; under
 * SA_RESTART a call that moved nothing runs again). A transfer between regular files
 * (copy_file_range, which takes nothing else, and sendfile into a file) is file I/O: a plain call,
 * or libuv's pool with GREENIFY_FILE_IO=pool.
 *
 * As natively: splice, tee, vmsplice and copy_file_range are cancellation
 * points, sendfile is not; O_NONBLOCK on an fd, or SPLICE_F_NONBLOCK from
 * the program, gives its EAGAIN; partial transfers are the kernel's. */
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/uio.h>

#include "../runtime/clock.h"
#include "../runtime/fdwait.h"
#include "../runtime/io.h"
#include "../runtime/ready.h"
#include "work.h"

static ssize_t ret(ssize_t r)
{
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	gr_maybe_yield();
	return r;
}

/* A transfer with its two ends (in or out is -1 for vmsplice's memory). */
struct xfer {
	int in, out;
	enum gr_file_type kin, kout;
	loff_t *off_in, *off_out;
	const struct iovec *iov;
	size_t len; /* bytes, or vmsplice's iovec count */
	unsigned flags;
	int op; /* SPLICE, TEE, VMSPLICE, SENDFILE */
};

enum { SPLICE, TEE, VMSPLICE, SENDFILE, COPY };

/* One try that cannot block: SPLICE_F_NONBLOCK for the pipe end, and an
 * input that does not follow it only once it is readable. */
static ssize_t try_once(const struct xfer *x)
{
	unsigned f = x->flags | SPLICE_F_NONBLOCK;
	ssize_t r;

	if ((x->kin == GR_KIND_SOCK || x->kin == GR_KIND_OTHER) && !gr_io_ready(x->in, GR_FD_READ))
		return -EAGAIN;
	switch (x->op) {
	case TEE: r = GR_REAL(tee)(x->in, x->out, x->len, f); break;
	case VMSPLICE: r = GR_REAL(vmsplice)(x->in >= 0 ? x->in : x->out, x->iov, x->len, f); break;
	default: r = GR_REAL(splice)(x->in, x->off_in, x->out, x->off_out, x->len, f);
	}
	return r < 0 ? -errno : r;
}

/* Tries until the transfer does not fail with EAGAIN, parking on the end
 * that is not ready. An end closed or replaced (dup2) during a wait is
 * tried on through the private dup of its file that the wait left in x
 * (ready.h), as the blocked call goes on with its file in Linux. */
static ssize_t by_readiness(struct xfer *x)
{
	for (;;) {
		ssize_t r = try_once(x);
		int *fd, what, w;
		if (r != -EAGAIN)
			return r;
		if (x->in >= 0 && x->kin != GR_KIND_FILE && !gr_io_ready(x->in, GR_FD_READ)) {
			fd = &x->in;
			what = GR_FD_READ;
		} else {
			fd = &x->out;
			what = GR_FD_WRITE;
		}
		/* Both ends looked ready and still EAGAIN: look again soon
		 * rather than spin. */
		w = gr_ready_wait(fd, what, gr_io_ready(*fd, what) ? gr_now() + 1000000 : 0, 1);
		if (w < 0 && w != -ETIMEDOUT)
			return w;
	}
}

static long run_blocking(void *p)
{
	const struct xfer *x = p;

	if (x->op == SENDFILE)
		return gr_neg_errno(GR_REAL(sendfile)(x->out, x->in, x->off_in, x->len));
	return gr_neg_errno(
		GR_REAL(splice)(x->in, x->off_in, x->out, x->off_out, x->len, x->flags));
}

/* Into a blocking socket or tty: wait until the input (a pipe) has data
 * and the output room, then let a worker make the call as made (on the
 * files the waits kept, as by_readiness). */
static ssize_t on_worker(struct xfer *x, int how)
{
	long r;
	int w = 0;

	/* The write end of a pipe as input is EBADF at once, not a wait. */
	if (x->kin == GR_KIND_PIPE && (GR_REAL(fcntl)(x->in, F_GETFL) & O_ACCMODE) == O_WRONLY)
		return run_blocking(x);
	/* An output the kernel refuses (no splice into it: an epoll fd, an
	 * eventfd...) fails at once natively, before the empty pipe is waited
	 * for: a try that cannot wait on the pipe tells (with the pipe empty
	 * it moves nothing, so it cannot wait on the output either). */
	if (x->op == SPLICE && x->kin == GR_KIND_PIPE && !gr_io_ready(x->in, GR_FD_READ)) {
		r = GR_REAL(splice)(x->in, x->off_in, x->out, x->off_out, x->len,
				    x->flags | SPLICE_F_NONBLOCK);
		if (r >= 0 || errno != EAGAIN)
			return r < 0 ? -errno : r;
	}
	if (x->kin == GR_KIND_PIPE)
		while (w == 0 && !gr_io_ready(x->in, GR_FD_READ))
			w = gr_ready_wait(&x->in, GR_FD_READ, 0, 1);
	while (w == 0 && !gr_io_ready(x->out, GR_FD_WRITE))
		w = gr_ready_wait(&x->out, GR_FD_WRITE, 0, 1);
	if (w < 0)
		return w;
	if (gr_work(run_blocking, x, how, &r) < 0)
		return run_blocking(x); /* no worker: block rather than fail */
	return r;
}

/* The call is done: gives back the private dups its waits held in place
 * of the program's fds in and out (ready.h). */
static ssize_t let_go(const struct xfer *x, int in, int out, ssize_t r)
{
	if (x->in != in)
		gr_fd_release(x->in);
	if (x->out != out)
		gr_fd_release(x->out);
	return r;
}

/* Whether the program made either end non-blocking itself, or one is not
 * an fd (the plain call then answers as natively, without waiting). */
static int plain_ends(const struct xfer *x)
{
	return x->kin == GR_KIND_BAD || x->kout == GR_KIND_BAD ||
	       (x->in >= 0 && gr_fd_nonblocking(x->in) != 0) ||
	       (x->out >= 0 && gr_fd_nonblocking(x->out) != 0);
}

GR_EXPORT ssize_t splice(int in, loff_t *off_in, int out, loff_t *off_out, size_t len,
			 unsigned flags)
{
	struct xfer x = {.in = in,
			 .out = out,
			 .off_in = off_in,
			 .off_out = off_out,
			 .len = len,
			 .flags = flags,
			 .op = SPLICE};
	ssize_t r;

	if (!gr_green() || (flags & SPLICE_F_NONBLOCK) || len == 0)
		return GR_REAL(splice)(in, off_in, out, off_out, len, flags);
	x.kin = gr_file_type(in);
	x.kout = gr_file_type(out);
	/* No pipe end, or an offset for a pipe end: EINVAL or ESPIPE at once. */
	if (plain_ends(&x) || (x.kin != GR_KIND_PIPE && x.kout != GR_KIND_PIPE) ||
	    (off_in && x.kin == GR_KIND_PIPE) || (off_out && x.kout == GR_KIND_PIPE))
		return GR_REAL(splice)(in, off_in, out, off_out, len, flags);
	gr_cancel_begin();
	if (x.kout == GR_KIND_PIPE || x.kout == GR_KIND_FILE)
		r = by_readiness(&x);
	else
		r = on_worker(&x, GR_WORK_KICK | GR_WORK_RESTART);
	let_go(&x, in, out, r);
	gr_cancel_end(r == -EINTR);
	return ret(r);
}

GR_EXPORT ssize_t tee(int in, int out, size_t len, unsigned flags)
{
	struct xfer x = {.in = in, .out = out, .len = len, .flags = flags, .op = TEE};
	ssize_t r;

	if (!gr_green() || (flags & SPLICE_F_NONBLOCK) || len == 0)
		return GR_REAL(tee)(in, out, len, flags);
	x.kin = gr_file_type(in);
	x.kout = gr_file_type(out);
	if (plain_ends(&x) || x.kin != GR_KIND_PIPE || x.kout != GR_KIND_PIPE)
		return GR_REAL(tee)(in, out, len, flags);
	gr_cancel_begin();
	r = let_go(&x, in, out, by_readiness(&x));
	gr_cancel_end(r == -EINTR);
	return ret(r);
}

GR_EXPORT ssize_t vmsplice(int fd, const struct iovec *iov, size_t n, unsigned flags)
{
	struct xfer x = {.iov = iov, .len = n, .flags = flags, .op = VMSPLICE};
	int fl;
	ssize_t r;

	if (!gr_green() || (flags & SPLICE_F_NONBLOCK) || n == 0)
		return GR_REAL(vmsplice)(fd, iov, n, flags);
	fl = GR_REAL(fcntl)(fd, F_GETFL);
	if (fl < 0 || (fl & O_NONBLOCK) || gr_file_type(fd) != GR_KIND_PIPE)
		return GR_REAL(vmsplice)(fd, iov, n, flags);
	/* The kernel's direction: into the pipe if it is open for writing. */
	if ((fl & O_ACCMODE) == O_RDONLY) {
		x.in = fd;
		x.kin = GR_KIND_PIPE;
		x.out = -1;
	} else {
		x.in = -1;
		x.out = fd;
		x.kout = GR_KIND_PIPE;
	}
	gr_cancel_begin();
	r = let_go(&x, x.kin == GR_KIND_PIPE ? fd : -1, x.kin == GR_KIND_PIPE ? -1 : fd,
		   by_readiness(&x));
	gr_cancel_end(r == -EINTR);
	return ret(r);
}

/* Between regular files: file I/O. */
static ssize_t op_file(void *ctx, enum gr_io_mode mode)
{
	const struct xfer *x = ctx;
	ssize_t r;

	(void)mode;
	if (x->op == SENDFILE)
		r = GR_REAL(sendfile)(x->out, x->in, x->off_in, x->len);
	else
		r = GR_REAL(copy_file_range)(x->in, x->off_in, x->out, x->off_out, x->len,
					     x->flags);
	return r < 0 ? -errno : r;
}

GR_EXPORT ssize_t sendfile(int out, int in, off_t *offset, size_t count)
{
	struct xfer x = {
		.in = in, .out = out, .off_in = (loff_t *)offset, .len = count, .op = SENDFILE};

	if (!gr_green() || count == 0)
		return GR_REAL(sendfile)(out, in, offset, count);
	x.kin = gr_file_type(in);
	x.kout = gr_file_type(out);
	/* The input must be a file (EINVAL at once otherwise). */
	if (x.kin != GR_KIND_FILE || plain_ends(&x))
		return GR_REAL(sendfile)(out, in, offset, count);
	switch (x.kout) {
	case GR_KIND_FILE: return ret(gr_io_file(op_file, &x));
	case GR_KIND_PIPE: x.op = SPLICE; return ret(let_go(&x, in, out, by_readiness(&x)));
	default: return ret(let_go(&x, in, out, on_worker(&x, GR_WORK_KICK | GR_WORK_RESTART)));
	}
}

GR_EXPORT ssize_t gr_sendfile64(int out, int in, off_t *offset, size_t count) __asm__("sendfile64");
GR_EXPORT ssize_t gr_sendfile64(int out, int in, off_t *offset, size_t count)
{
	return sendfile(out, in, offset, count); /* off_t is 64 bits here */
}

GR_EXPORT ssize_t copy_file_range(int in, off_t *off_in, int out, off_t *off_out, size_t len,
				  unsigned flags)
{
	struct xfer x = {.in = in,
			 .out = out,
			 .off_in = (loff_t *)off_in,
			 .off_out = (loff_t *)off_out,
			 .len = len,
			 .flags = flags,
			 .op = COPY};
	ssize_t r;

	if (!gr_green())
		return GR_REAL(copy_file_range)(in, off_in, out, off_out, len, flags);
	/* Regular files only: a pipe or socket end is EINVAL at once. */
	gr_cancel_begin();
	r = gr_io_file(op_file, &x);
	gr_cancel_end(r == -EINTR);
	return ret(r);
}
