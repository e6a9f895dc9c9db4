/* Data calls: read, write, readv, writev, recv, recvfrom, recvmsg, send,
 * sendto, sendmsg, recvmmsg, sendmmsg, and glibc's eventfd_read and
 * eventfd_write (which call its internal read and write, out of our
 * sight). Each becomes a struct gr_io, whose attempts runtime/io.c makes
 * and waits between: read and write are tried with
 * preadv2/pwritev2(RWF_NOWAIT) on a pipe, a tty, an eventfd..., with
 * recvfrom/sendto (recvmsg/sendmsg) and MSG_DONTWAIT on a socket, made as
 * they are on a regular file (the kind of file is kept per number,
 * runtime/fdwait.h), the socket calls with MSG_DONTWAIT; fds received with
 * SCM_RIGHTS are new numbers. What the kernel does with a blocking call,
 * it does here: a write writes everything, in as many parts as it takes
 * (a sendmsg's control data and address go with the first part only), a
 * MSG_WAITALL receive on a stream fills the buffer, a recvmmsg waits for
 * all its messages; more iovecs than IOV_MAX are the kernel's EINVAL (EMSGSIZE
 * for the msg calls); errno is left alone by a call that succeeds. Every
 * one is a cancellation point (pthreads(7)).
 *
 * Left to libc: every call of a thread that is not green, the calls a
 * program makes non-blocking itself with MSG_DONTWAIT, zero-length reads
 * and writes, and lengths above SSIZE_MAX (the kernel refuses those at
 * once). pread, pwrite and the syncs are file.c's, the readiness calls
 * poll.c's, fd bookkeeping (close, dup2, dup3 too) fd.c's, stdio's reads
 * and writes stdio_file.c's; the _chk variants of _FORTIFY_SOURCE are not
 * hooked here. */
#include "hook.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>
#include <sys/uio.h>

#include "../runtime/cancel.h"
#include "../runtime/clock.h"
#include "../runtime/fdwait.h"
#include "../runtime/io.h"
#include "../runtime/uaccess.h"
#include "fd.h"

#define IO_OF(p, type) ((type *)((char *)(p)-offsetof(type, io)))

/* A green call: a cancellation point, errno untouched on success. */
static ssize_t run(struct gr_io *io)
{
	int saved = errno;
	ssize_t r;

	gr_cancel_begin();
	r = gr_io_run(io);
	gr_cancel_end(r == -EINTR);
	if (r >= 0) {
		errno = saved;
		gr_maybe_yield();
	}
	return gr_ret(r);
}

/* -errno of a real call; what RWF_NOWAIT is not there for, GR_IO_NOTRY. */
static ssize_t neg(ssize_t r)
{
	return r < 0 ? -errno : r;
}

static ssize_t nowait(ssize_t r)
{
	if (r < 0 && (errno == EOPNOTSUPP || errno == ENOSYS))
		return GR_IO_NOTRY;
	return neg(r);
}

/* Calls on one buffer: read, write, recv, send, recvfrom, sendto. */
struct xfer {
	struct gr_io io;
	char *buf;
	int flags;		   /* recv/send flags */
	struct sockaddr *addr;	   /* recvfrom */
	socklen_t *addrlen;	   /* recvfrom */
	const struct sockaddr *to; /* sendto */
	socklen_t tolen;	   /* sendto */
};

static ssize_t call_read(struct gr_io *io, int fd, enum gr_io_mode mode)
{
	struct xfer *a = IO_OF(io, struct xfer);
	struct iovec v = {a->buf, io->left};

	if (mode == GR_IO_TRY)
		return nowait(GR_REAL(preadv2)(fd, &v, 1, -1, RWF_NOWAIT));
	if (mode == GR_IO_TRY_SOCKET)
		return neg(GR_REAL(recvfrom)(fd, a->buf, io->left, MSG_DONTWAIT, NULL, NULL));
	return neg(GR_REAL(read)(fd, a->buf, io->left));
}

static ssize_t call_write(struct gr_io *io, int fd, enum gr_io_mode mode)
{
	struct xfer *a = IO_OF(io, struct xfer);
	struct iovec v = {a->buf, io->left};

	if (mode == GR_IO_TRY)
		return nowait(GR_REAL(pwritev2)(fd, &v, 1, -1, RWF_NOWAIT));
	if (mode == GR_IO_TRY_SOCKET)
		return neg(GR_REAL(sendto)(fd, a->buf, io->left, MSG_DONTWAIT, NULL, 0));
	if (mode == GR_IO_READY && v.iov_len > io->ready_max)
		v.iov_len = io->ready_max;
	return neg(GR_REAL(write)(fd, a->buf, v.iov_len));
}

static ssize_t call_recv(struct gr_io *io, int fd, enum gr_io_mode mode)
{
	struct xfer *a = IO_OF(io, struct xfer);
	int flags = a->flags | (mode == GR_IO_TRY ? MSG_DONTWAIT : 0);

	return neg(GR_REAL(recvfrom)(fd, a->buf, io->left, flags, a->addr, a->addrlen));
}

static ssize_t call_send(struct gr_io *io, int fd, enum gr_io_mode mode)
{
	struct xfer *a = IO_OF(io, struct xfer);
	int flags = a->flags | (mode == GR_IO_TRY ? MSG_DONTWAIT : 0);

	return neg(GR_REAL(sendto)(fd, a->buf, io->left, flags, a->to, a->tolen));
}

static void advance_xfer(struct gr_io *io, size_t n)
{
	struct xfer *a = IO_OF(io, struct xfer);

	a->buf += n;
	io->left -= n;
	io->ask = io->left;
	a->addr = NULL; /* a stream's peer address comes with the first part */
	a->addrlen = NULL;
}

static ssize_t xfer(struct xfer *a, int fd, int what, int kind, size_t n,
		    ssize_t (*call)(struct gr_io *, int, enum gr_io_mode))
{
	a->io.fd = fd;
	a->io.what = (unsigned char)what;
	a->io.kind = (unsigned char)kind;
	a->io.left = a->io.ask = n;
	a->io.call = call;
	a->io.advance = advance_xfer;
	if (what == GR_FD_WRITE)
		a->io.all = GR_IO_WRITE;
	else if (a->flags & MSG_WAITALL)
		a->io.all = (a->flags & MSG_PEEK) ? GR_IO_PEEKALL : GR_IO_WAITALL;
	else
		a->io.all = GR_IO_PART;
	return run(&a->io);
}

GR_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	if (!gr_green() || n == 0 || n > SSIZE_MAX)
		return GR_REAL(read)(fd, buf, n);
	struct xfer a = {.buf = buf};

	return xfer(&a, fd, GR_FD_READ, GR_IO_ANY, n, call_read);
}

GR_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	if (!gr_green() || n == 0 || n > SSIZE_MAX)
		return GR_REAL(write)(fd, buf, n);
	struct xfer a = {.buf = (char *)buf};

	return xfer(&a, fd, GR_FD_WRITE, GR_IO_ANY, n, call_write);
}

/* Receive flags with which the kernel never waits: the program's
 * MSG_DONTWAIT, and MSG_ERRQUEUE (an empty error queue is EAGAIN at once,
 * whatever data waits in the socket, which makes it look readable). */
#define RECV_NEVER_WAITS (MSG_DONTWAIT | MSG_ERRQUEUE)

GR_EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	if (!gr_green() || (flags & RECV_NEVER_WAITS))
		return GR_REAL(recv)(fd, buf, n, flags);
	struct xfer a = {.buf = buf, .flags = flags};

	return xfer(&a, fd, GR_FD_READ, GR_IO_SOCKET, n, call_recv);
}

GR_EXPORT ssize_t recvfrom(int fd, void *restrict buf, size_t n, int flags,
			   struct sockaddr *restrict addr, socklen_t *restrict addrlen)
{
	if (!gr_green() || (flags & RECV_NEVER_WAITS))
		return GR_REAL(recvfrom)(fd, buf, n, flags, addr, addrlen);
	struct xfer a = {.buf = buf, .flags = flags, .addr = addr, .addrlen = addrlen};

	return xfer(&a, fd, GR_FD_READ, GR_IO_SOCKET, n, call_recv);
}

GR_EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags)
{
	if (!gr_green() || (flags & MSG_DONTWAIT) || n == 0)
		return GR_REAL(send)(fd, buf, n, flags);
	struct xfer a = {.buf = (char *)buf, .flags = flags};

	return xfer(&a, fd, GR_FD_WRITE, GR_IO_SOCKET, n, call_send);
}

GR_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *to,
			 socklen_t tolen)
{
	if (!gr_green() || (flags & MSG_DONTWAIT) || n == 0)
		return GR_REAL(sendto)(fd, buf, n, flags, to, tolen);
	struct xfer a = {.buf = (char *)buf, .flags = flags, .to = to, .tolen = tolen};

	return xfer(&a, fd, GR_FD_WRITE, GR_IO_SOCKET, n, call_send);
}

/* Vector calls: readv, writev, recvmsg, sendmsg. The program's iovecs are
 * used as they are until one is taken in part; then a window of the rest
 * (its first entry cut) is what the next attempt covers. */
#define WINDOW 16

struct msgx {
	struct gr_io io;
	struct msghdr m;	 /* what the attempts pass (the program's, copied) */
	const struct iovec *iov; /* the program's iovecs */
	size_t cnt;		 /* how many */
	size_t at;		 /* the first not yet done */
	size_t off;		 /* bytes of it done */
	int flags;		 /* recvmsg/sendmsg flags */
	size_t controllen;	 /* recvmsg: the program's control buffer size */
	size_t got_control;	 /* recvmsg: control bytes received */
	socklen_t namelen;	 /* recvmsg: the address length of the first part */
	int got_flags;		 /* recvmsg: msg_flags of the parts */
	int parts;		 /* recvmsg: parts received */
	struct iovec win[WINDOW];
};

/* Points m at the iovecs not yet done: the program's own when none is
 * cut, else a window. Sets io.ask to what they cover. */
static void aim(struct msgx *a)
{
	size_t n = 0, ask = 0;

	if (a->off == 0) {
		a->m.msg_iov = (struct iovec *)a->iov + a->at;
		a->m.msg_iovlen = a->cnt - a->at;
		a->io.ask = a->io.left;
		return;
	}
	for (size_t i = a->at; i < a->cnt && n < WINDOW; i++, n++) {
		a->win[n] = a->iov[i];
		if (i == a->at) {
			a->win[n].iov_base = (char *)a->win[n].iov_base + a->off;
			a->win[n].iov_len -= a->off;
		}
		ask += a->win[n].iov_len;
	}
	a->m.msg_iov = a->win;
	a->m.msg_iovlen = n;
	a->io.ask = ask;
}

static void advance_msg(struct gr_io *io, size_t n)
{
	struct msgx *a = IO_OF(io, struct msgx);

	io->left -= n;
	n += a->off;
	while (a->at < a->cnt && n >= a->iov[a->at].iov_len) {
		n -= a->iov[a->at].iov_len;
		a->at++;
	}
	a->off = n;
	/* The address goes with the first part, and so does a send's
	 * control data (a receive takes it from whichever part has it). */
	a->m.msg_name = NULL;
	a->m.msg_namelen = 0;
	if (io->what == GR_FD_WRITE) {
		a->m.msg_control = NULL;
		a->m.msg_controllen = 0;
	}
	aim(a);
}

/* A window to write when a ready tty or FIFO is to take at most
 * io.ready_max bytes without blocking: the first entries of m, cut. */
static int ready_window(struct msgx *a, struct iovec *out)
{
	size_t max = a->io.ready_max;
	int n = 0;

	for (size_t i = 0; i < a->m.msg_iovlen && n < WINDOW && max > 0; i++, n++) {
		out[n] = a->m.msg_iov[i];
		if (out[n].iov_len > max)
			out[n].iov_len = max;
		max -= out[n].iov_len;
	}
	return n;
}

static ssize_t call_readv(struct gr_io *io, int fd, enum gr_io_mode mode)
{
	struct msgx *a = IO_OF(io, struct msgx);
	int n = (int)a->m.msg_iovlen;

	if (mode == GR_IO_TRY)
		return nowait(GR_REAL(preadv2)(fd, a->m.msg_iov, n, -1, RWF_NOWAIT));
	if (mode == GR_IO_TRY_SOCKET)
		return neg(GR_REAL(recvmsg)(fd, &a->m, MSG_DONTWAIT));
	return neg(GR_REAL(readv)(fd, a->m.msg_iov, n));
}

static ssize_t call_writev(struct gr_io *io, int fd, enum gr_io_mode mode)
{
	struct msgx *a = IO_OF(io, struct msgx);
	struct iovec cut[WINDOW];

	if (mode == GR_IO_TRY)
		return nowait(
			GR_REAL(pwritev2)(fd, a->m.msg_iov, (int)a->m.msg_iovlen, -1, RWF_NOWAIT));
	if (mode == GR_IO_TRY_SOCKET)
		return neg(GR_REAL(sendmsg)(fd, &a->m, MSG_DONTWAIT));
	if (mode == GR_IO_READY)
		return neg(GR_REAL(writev)(fd, cut, ready_window(a, cut)));
	return neg(GR_REAL(writev)(fd, a->m.msg_iov, (int)a->m.msg_iovlen));
}

static ssize_t call_recvmsg(struct gr_io *io, int fd, enum gr_io_mode mode)
{
	struct msgx *a = IO_OF(io, struct msgx);
	int flags = a->flags | (mode == GR_IO_TRY ? MSG_DONTWAIT : 0);
	ssize_t r;

	a->m.msg_controllen = a->controllen; /* the kernel writes what it used */
	r = neg(GR_REAL(recvmsg)(fd, &a->m, flags));
	if (r >= 0) {
		if (a->parts++ == 0)
			a->namelen = a->m.msg_namelen;
		a->got_flags |= a->m.msg_flags;
		a->got_control = a->m.msg_controllen;
		if (a->got_control > 0)
			io->all = GR_IO_PART; /* the kernel stops after control data */
	}
	return r;
}

static ssize_t call_sendmsg(struct gr_io *io, int fd, enum gr_io_mode mode)
{
	struct msgx *a = IO_OF(io, struct msgx);
	int flags = a->flags | (mode == GR_IO_TRY ? MSG_DONTWAIT : 0);

	return neg(GR_REAL(sendmsg)(fd, &a->m, flags));
}

static ssize_t msgx(struct msgx *a, int fd, int what, int kind,
		    ssize_t (*call)(struct gr_io *, int, enum gr_io_mode))
{
	size_t total = 0;

	/* Only a vector the kernel takes is summed: it refuses the others
	 * at the first attempt. */
	if (a->cnt <= IOV_MAX)
		for (size_t i = 0; i < a->cnt; i++)
			total += a->iov[i].iov_len;
	a->io.fd = fd;
	a->io.what = (unsigned char)what;
	a->io.kind = (unsigned char)kind;
	a->io.left = total;
	a->io.call = call;
	a->io.advance = advance_msg;
	if (what == GR_FD_WRITE)
		a->io.all = GR_IO_WRITE;
	else if (a->flags & MSG_WAITALL)
		a->io.all = (a->flags & MSG_PEEK) ? GR_IO_PEEKALL : GR_IO_WAITALL;
	else
		a->io.all = GR_IO_PART;
	aim(a);
	return run(&a->io);
}

GR_EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	struct msgx a = {.iov = iov, .cnt = (size_t)cnt};

	if (!gr_green() || cnt <= 0 || cnt > IOV_MAX || !iov) /* the kernel refuses at once */
		return GR_REAL(readv)(fd, iov, cnt);
	return msgx(&a, fd, GR_FD_READ, GR_IO_ANY, call_readv);
}

GR_EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	struct msgx a = {.iov = iov, .cnt = (size_t)cnt};

	if (!gr_green() || cnt <= 0 || cnt > IOV_MAX || !iov) /* the kernel refuses at once */
		return GR_REAL(writev)(fd, iov, cnt);
	return msgx(&a, fd, GR_FD_WRITE, GR_IO_ANY, call_writev);
}

/* A NULL header or vector reaches the kernel, which answers EBADF for a
 * bad fd first, else EFAULT; we would die reading it. */
static int null_msg(const struct msghdr *msg)
{
	return !msg || (!msg->msg_iov && msg->msg_iovlen);
}

GR_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	ssize_t r;

	if (!gr_green() || null_msg(msg))
		return GR_REAL(recvmsg)(fd, msg, flags);
	struct msgx a = {.m = *msg, .iov = msg->msg_iov, .cnt = msg->msg_iovlen, .flags = flags};
	if (flags & RECV_NEVER_WAITS) {
		r = GR_REAL(recvmsg)(fd, msg, flags);
		if (r >= 0)
			gr_fd_received(msg);
		return r;
	}
	a.controllen = msg->msg_controllen;
	r = msgx(&a, fd, GR_FD_READ, GR_IO_SOCKET, call_recvmsg);
	if (r >= 0) {
		/* What the kernel writes back, from the part that had it. */
		msg->msg_namelen = a.namelen;
		msg->msg_controllen = a.got_control;
		msg->msg_flags = a.got_flags;
		gr_fd_received(msg); /* new numbers */
	}
	return r;
}

GR_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	if (!gr_green() || (flags & MSG_DONTWAIT) || null_msg(msg))
		return GR_REAL(sendmsg)(fd, msg, flags);
	struct msgx a = {.m = *msg, .iov = msg->msg_iov, .cnt = msg->msg_iovlen, .flags = flags};

	return msgx(&a, fd, GR_FD_WRITE, GR_IO_SOCKET, call_sendmsg);
}

/* glibc's eventfd_read and eventfd_write call its internal read and
 * write, which no hook sees: the same calls through ours. */
GR_EXPORT int eventfd_read(int fd, eventfd_t *value)
{
	if (!gr_green())
		return GR_REAL(eventfd_read)(fd, value);
	return read(fd, value, sizeof(*value)) == sizeof(*value) ? 0 : -1;
}

GR_EXPORT int eventfd_write(int fd, eventfd_t value)
{
	if (!gr_green())
		return GR_REAL(eventfd_write)(fd, value);
	return write(fd, &value, sizeof(value)) == sizeof(value) ? 0 : -1;
}

/* recvmmsg: a blocking one waits for the first message, then goes on
 * until vlen came (MSG_WAITFORONE: returns what is there after the
 * first), the timeout being looked at only after each message, as the
 * kernel does; an error or a signal after one message gives the count. */
struct mmsgx {
	struct gr_io io;
	struct mmsghdr *vec;
	int flags;
};

static ssize_t call_recvmmsg(struct gr_io *io, int fd, enum gr_io_mode mode)
{
	struct mmsgx *a = IO_OF(io, struct mmsgx);
	int flags = a->flags | (mode == GR_IO_TRY ? MSG_DONTWAIT : 0);

	return neg(GR_REAL(recvmmsg)(fd, a->vec, (unsigned)io->left, flags, NULL));
}

static void advance_mmsg(struct gr_io *io, size_t n)
{
	struct mmsgx *a = IO_OF(io, struct mmsgx);

	a->vec += n;
	io->left -= n;
	io->ask = io->left;
}

GR_EXPORT int recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags,
		       struct timespec *tmo)
{
	struct mmsgx a = {.vec = vec, .flags = flags};
	struct timespec t = {0, 0};
	int64_t t0 = gr_now();
	ssize_t r;

	/* A timeout the kernel cannot read, or no valid time: its EFAULT or
	 * EINVAL, at once. */
	if (!gr_green() || (flags & RECV_NEVER_WAITS) || vlen == 0 ||
	    (tmo && (gr_copy_in(&t, tmo, sizeof(t)) < 0 || t.tv_sec < 0 || t.tv_nsec < 0 ||
		     t.tv_nsec >= GR_NSEC)))
		return GR_REAL(recvmmsg)(fd, vec, vlen, flags, tmo); /* what the kernel says */
	if (vlen > IOV_MAX)
		vlen = IOV_MAX; /* as the kernel: UIO_MAXIOV at most */
	a.io.fd = fd;
	a.io.what = GR_FD_READ;
	a.io.kind = GR_IO_SOCKET;
	a.io.left = a.io.ask = vlen;
	a.io.call = call_recvmmsg;
	a.io.advance = advance_mmsg;
	a.io.all = (flags & MSG_WAITFORONE) ? GR_IO_PART : GR_IO_MESSAGES;
	if (tmo)
		a.io.until = gr_ns_add(t0, gr_ts_ns(&t)); /* saturated, as the kernel's */
	r = run(&a.io);
	/* Fds that came with SCM_RIGHTS are new numbers. */
	for (ssize_t i = 0; i < r; i++)
		gr_fd_received(&vec[i].msg_hdr);
	if (r > 0 && tmo) { /* the kernel writes back the time left */
		int64_t left = a.io.until ? a.io.until - gr_now() : 0;
		if (left < 0)
			left = 0;
		tmo->tv_sec = left / GR_NSEC;
		tmo->tv_nsec = left % GR_NSEC;
	}
	return (int)r;
}

/* The bytes msg's iovecs hold. */
static size_t msg_total(const struct msghdr *m)
{
	size_t total = 0;

	for (size_t i = 0; i < m->msg_iovlen; i++)
		total += m->msg_iov[i].iov_len;
	return total;
}

/* sendmmsg: the messages that go at once in one call, each one that has
 * to wait through sendmsg (everything, or a part after a signal, which
 * ends the call); an error after one message gives the count. */
GR_EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
{
	unsigned sent = 0;
	int saved = errno;

	if (!gr_green() || (flags & MSG_DONTWAIT) || vlen == 0)
		return GR_REAL(sendmmsg)(fd, vec, vlen, flags);
	if (vlen > IOV_MAX)
		vlen = IOV_MAX; /* as the kernel: UIO_MAXIOV at most */
	gr_cancel_begin();	/* a cancellation point, also when nothing waits */
	gr_cancel_end(0);
	while (sent < vlen) {
		int r = GR_REAL(sendmmsg)(fd, vec + sent, vlen - sent, flags | MSG_DONTWAIT);
		if (r > 0) {
			sent += (unsigned)r;
			struct mmsghdr *last = &vec[sent - 1];
			size_t total = msg_total(&last->msg_hdr);
			if (last->msg_len >= total)
				continue;
			/* A part of the last one went: the rest as a blocking
			 * sendmsg would send it (without its control data). */
			struct msgx b = {.m = last->msg_hdr,
					 .iov = last->msg_hdr.msg_iov,
					 .cnt = last->msg_hdr.msg_iovlen,
					 .flags = flags};
			b.io.left = total;
			advance_msg(&b.io, last->msg_len);
			b.io.fd = fd;
			b.io.what = GR_FD_WRITE;
			b.io.kind = GR_IO_SOCKET;
			b.io.call = call_sendmsg;
			b.io.advance = advance_msg;
			b.io.all = GR_IO_WRITE;
			ssize_t more = run(&b.io);
			if (more > 0)
				last->msg_len += (unsigned)more;
			if (more < 0 || last->msg_len < total)
				break;
			continue;
		}
		if (r < 0 && errno != EAGAIN)
			break;
		/* The next one has to wait. */
		ssize_t one = sendmsg(fd, &vec[sent].msg_hdr, flags);
		if (one < 0)
			break;
		vec[sent].msg_len = (unsigned)one;
		if ((size_t)one < msg_total(&vec[sent++].msg_hdr))
			break; /* a signal after a part */
	}
	if (sent == 0)
		return -1;
	errno = saved;
	return (int)sent;
}
