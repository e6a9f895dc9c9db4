/* Data calls: read, write, readv, writev, recv, recvfrom, recvmsg, send,
 * sendto, sendmsg. The waiting is runtime/io.c's; here each call becomes an
 * attempt that can be made without blocking (sockets: MSG_DONTWAIT; other
 * files: only once they are ready), and the write side keeps going, as a
 * blocking write does, until everything is written.
 *
 * Left to libc: every call of a thread that is not green, and the calls a
 * program makes non-blocking itself (O_NONBLOCK, MSG_DONTWAIT). Regular
 * files are read and written directly (they do not wait for readiness);
 * pread, pwrite and the syncs are file.c's, the readiness calls poll.c's,
 * fd bookkeeping fd.c's (close, dup2 and dup3 net.c's). */
#include "hook.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "../runtime/fdwait.h"
#include "../runtime/io.h"

static ssize_t result(ssize_t r)
{
	if (r >= 0)
		gr_maybe_yield();
	return gr_ret(r);
}

static ssize_t neg_errno(ssize_t r)
{
	return r < 0 ? -errno : r;
}

/* Stream reads and writes (read, write, recv, send, recvfrom, sendto). */
struct xfer {
	int fd;
	void *buf;
	size_t n;
	int flags; /* recv/send flags */
	struct sockaddr *addr;
	socklen_t *addrlen;	   /* recvfrom */
	const struct sockaddr *to; /* sendto */
	socklen_t tolen;
	int plain_is_recv; /* GR_IO_PLAIN/READY use recv/send, not read/write */
};

static ssize_t op_in(void *ctx, enum gr_io_mode mode)
{
	struct xfer *a = ctx;

	if (mode == GR_IO_DONTWAIT)
		return neg_errno(GR_REAL(recvfrom)(a->fd, a->buf, a->n, a->flags | MSG_DONTWAIT,
						   a->addr, a->addrlen));
	if (a->plain_is_recv)
		return neg_errno(
			GR_REAL(recvfrom)(a->fd, a->buf, a->n, a->flags, a->addr, a->addrlen));
	return neg_errno(GR_REAL(read)(a->fd, a->buf, a->n));
}

static ssize_t op_out(void *ctx, enum gr_io_mode mode)
{
	struct xfer *a = ctx;
	size_t n = a->n;

	if (mode == GR_IO_DONTWAIT)
		return neg_errno(GR_REAL(sendto)(a->fd, a->buf, n, a->flags | MSG_DONTWAIT, a->to,
						 a->tolen));
	if (mode == GR_IO_READY && n > PIPE_BUF)
		n = PIPE_BUF; /* what a ready pipe takes without blocking */
	if (a->plain_is_recv)
		return neg_errno(GR_REAL(sendto)(a->fd, a->buf, n, a->flags, a->to, a->tolen));
	return neg_errno(GR_REAL(write)(a->fd, a->buf, n));
}

static ssize_t do_in(struct xfer *a)
{
	return result(gr_io(a->fd, GR_FD_READ, op_in, a));
}

/* A blocking write writes everything (or fails, or is interrupted after a
 * part, which it then reports). */
static ssize_t do_out(struct xfer *a)
{
	const char *p = a->buf;
	size_t left = a->n;
	ssize_t done = 0;

	do {
		a->buf = (void *)(p + done);
		a->n = left;
		ssize_t r = gr_io(a->fd, GR_FD_WRITE, op_out, a);
		if (r < 0)
			return done > 0 ? done : result(r);
		done += r;
		left -= (size_t)r;
		if (r == 0)
			break;
	} while (left > 0);
	gr_maybe_yield();
	return done;
}

GR_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	struct xfer a = {.fd = fd, .buf = buf, .n = n};

	if (!gr_green() || n == 0)
		return GR_REAL(read)(fd, buf, n);
	return do_in(&a);
}

GR_EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	struct xfer a = {.fd = fd, .buf = buf, .n = n, .flags = flags, .plain_is_recv = 1};

	if (!gr_green() || (flags & MSG_DONTWAIT))
		return GR_REAL(recv)(fd, buf, n, flags);
	return do_in(&a);
}

GR_EXPORT ssize_t recvfrom(int fd, void *restrict buf, size_t n, int flags,
			   struct sockaddr *restrict addr, socklen_t *restrict addrlen)
{
	struct xfer a = {.fd = fd,
			 .buf = buf,
			 .n = n,
			 .flags = flags,
			 .addr = addr,
			 .addrlen = addrlen,
			 .plain_is_recv = 1};

	if (!gr_green() || (flags & MSG_DONTWAIT))
		return GR_REAL(recvfrom)(fd, buf, n, flags, addr, addrlen);
	return do_in(&a);
}

GR_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	struct xfer a = {.fd = fd, .buf = (void *)buf, .n = n};

	if (!gr_green() || n == 0)
		return GR_REAL(write)(fd, buf, n);
	return do_out(&a);
}

GR_EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags)
{
	struct xfer a = {.fd = fd, .buf = (void *)buf, .n = n, .flags = flags, .plain_is_recv = 1};

	if (!gr_green() || (flags & MSG_DONTWAIT) || n == 0)
		return GR_REAL(send)(fd, buf, n, flags);
	return do_out(&a);
}

GR_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *to,
			 socklen_t tolen)
{
	struct xfer a = {.fd = fd,
			 .buf = (void *)buf,
			 .n = n,
			 .flags = flags,
			 .to = to,
			 .tolen = tolen,
			 .plain_is_recv = 1};

	if (!gr_green() || (flags & MSG_DONTWAIT) || n == 0)
		return GR_REAL(sendto)(fd, buf, n, flags, to, tolen);
	return do_out(&a);
}

/* Vectored and message calls. A socket try is recvmsg/sendmsg with
 * MSG_DONTWAIT; on other files readv/writev once ready (a ready write takes
 * at most PIPE_BUF bytes: the vector is trimmed to that). */
struct msgx {
	int fd;
	struct msghdr *msg;
	int flags;
	int is_msg; /* recvmsg/sendmsg, not readv/writev */
};

/* The first iovecs of msg covering at most max bytes, in trimmed. */
static int trim(const struct msghdr *msg, size_t max, struct iovec *out, int cap)
{
	int n = 0;

	for (size_t i = 0; i < msg->msg_iovlen && n < cap && max > 0; i++) {
		out[n] = msg->msg_iov[i];
		if (out[n].iov_len > max)
			out[n].iov_len = max;
		max -= out[n].iov_len;
		n++;
	}
	return n;
}

static ssize_t op_msg_in(void *ctx, enum gr_io_mode mode)
{
	struct msgx *a = ctx;

	if (mode == GR_IO_DONTWAIT)
		return neg_errno(GR_REAL(recvmsg)(a->fd, a->msg, a->flags | MSG_DONTWAIT));
	if (a->is_msg)
		return neg_errno(GR_REAL(recvmsg)(a->fd, a->msg, a->flags));
	return neg_errno(GR_REAL(readv)(a->fd, a->msg->msg_iov, (int)a->msg->msg_iovlen));
}

static ssize_t op_msg_out(void *ctx, enum gr_io_mode mode)
{
	struct msgx *a = ctx;

	if (mode == GR_IO_DONTWAIT)
		return neg_errno(GR_REAL(sendmsg)(a->fd, a->msg, a->flags | MSG_DONTWAIT));
	if (mode == GR_IO_READY) {
		struct iovec iov[64];
		int n = trim(a->msg, PIPE_BUF, iov, 64);
		if (a->is_msg) {
			struct msghdr m = *a->msg;
			m.msg_iov = iov;
			m.msg_iovlen = (size_t)n;
			return neg_errno(GR_REAL(sendmsg)(a->fd, &m, a->flags));
		}
		return neg_errno(GR_REAL(writev)(a->fd, iov, n));
	}
	if (a->is_msg)
		return neg_errno(GR_REAL(sendmsg)(a->fd, a->msg, a->flags));
	return neg_errno(GR_REAL(writev)(a->fd, a->msg->msg_iov, (int)a->msg->msg_iovlen));
}

/* Writes all of a vector, as a blocking writev or sendmsg does, advancing
 * a copy of it (up to 64 entries; a longer one is written with one call per
 * readiness, as far as it goes). */
static ssize_t msg_out(struct msgx *a)
{
	struct msghdr m = *a->msg;
	struct iovec iov[64];
	size_t total = 0;
	ssize_t done = 0;

	if (m.msg_iovlen > 64) {
		ssize_t r = gr_io(a->fd, GR_FD_WRITE, op_msg_out, a);
		return result(r);
	}
	memcpy(iov, m.msg_iov, m.msg_iovlen * sizeof(*iov));
	m.msg_iov = iov;
	for (size_t i = 0; i < m.msg_iovlen; i++)
		total += iov[i].iov_len;
	struct msgx b = *a;
	b.msg = &m;
	while ((size_t)done < total) {
		ssize_t r = gr_io(a->fd, GR_FD_WRITE, op_msg_out, &b);
		if (r < 0)
			return done > 0 ? done : result(r);
		if (r == 0)
			break;
		done += r;
		/* drop what went out */
		size_t k = (size_t)r;
		while (m.msg_iovlen > 0 && k >= m.msg_iov[0].iov_len) {
			k -= m.msg_iov[0].iov_len;
			m.msg_iov++;
			m.msg_iovlen--;
		}
		if (m.msg_iovlen > 0) {
			m.msg_iov[0].iov_base = (char *)m.msg_iov[0].iov_base + k;
			m.msg_iov[0].iov_len -= k;
		}
	}
	gr_maybe_yield();
	return done;
}

GR_EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	struct msghdr m = {.msg_iov = (struct iovec *)iov,
			   .msg_iovlen = (size_t)(cnt > 0 ? cnt : 0)};
	struct msgx a = {.fd = fd, .msg = &m};

	if (!gr_green() || cnt <= 0)
		return GR_REAL(readv)(fd, iov, cnt);
	return result(gr_io(fd, GR_FD_READ, op_msg_in, &a));
}

GR_EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	struct msghdr m = {.msg_iov = (struct iovec *)iov,
			   .msg_iovlen = (size_t)(cnt > 0 ? cnt : 0)};
	struct msgx a = {.fd = fd, .msg = &m};

	if (!gr_green() || cnt <= 0)
		return GR_REAL(writev)(fd, iov, cnt);
	return msg_out(&a);
}

GR_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct msgx a = {.fd = fd, .msg = msg, .flags = flags, .is_msg = 1};

	if (!gr_green() || (flags & MSG_DONTWAIT))
		return GR_REAL(recvmsg)(fd, msg, flags);
	return result(gr_io(fd, GR_FD_READ, op_msg_in, &a));
}

GR_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct msgx a = {.fd = fd, .msg = (struct msghdr *)msg, .flags = flags, .is_msg = 1};

	if (!gr_green() || (flags & MSG_DONTWAIT))
		return GR_REAL(sendmsg)(fd, msg, flags);
	return msg_out(&a);
}
