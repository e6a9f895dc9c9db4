/* Vectored and batched I/O beyond readv/writev/recvmsg/sendmsg (io.c):
 * preadv, pwritev, preadv2, pwritev2 and their 64-bit names; recvmmsg,
 * sendmmsg.
 *
 * preadv and pwritev need a file that can seek (a pipe or socket is
 * ESPIPE at once): regular-file I/O, a plain call, or libuv's pool with
 * GREENIFY_FILE_IO=pool, as pread is. preadv2 and pwritev2 at offset -1
 * read and write at the current position, which pipes, sockets and ttys
 * have: there, with flags that change nothing for them (RWF_HIPRI,
 * RWF_DSYNC, RWF_SYNC, RWF_APPEND, RWF_NOAPPEND), they are readv and writev,
 * green as those are (a blocking write writes everything). RWF_NOWAIT from
 * the program keeps the plain call (its EAGAIN), as do flags the kernel
 * refuses.
 *
 * recvmmsg and sendmmsg are socket calls tried with MSG_DONTWAIT, the
 * thread parking on readiness between tries as for recvmsg. A blocking
 * recvmmsg waits until vlen messages came (the first only with
 * MSG_WAITFORONE), or, once a message came, until its timeout expired (the
 * kernel looks at it only after a message, and writes back the time left);
 * a blocking sendmmsg sends every message whole, so a message a
 * non-blocking try sent only in part (a stream socket) is finished by the
 * green sendmsg before the next one. Once some messages went through, an
 * error, a socket timeout or a handler ends the call with their count, as
 * natively. Both are cancellation points. */
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include "../runtime/clock.h"
#include "../runtime/fdwait.h"
#include "../runtime/io.h"
#include "../runtime/ready.h"
#include "../runtime/uaccess.h"
#include "work.h"

#ifndef RWF_NOAPPEND
#define RWF_NOAPPEND 0x00000020
#endif

/* Flags of preadv2/pwritev2 that change nothing on a pipe, socket or tty. */
#define PASSIVE_RWF (RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_APPEND | RWF_NOAPPEND)

struct vec {
	int fd;
	const struct iovec *iov;
	int cnt;
	off_t off;
	int flags;
	int write;
	int v2;
};

static ssize_t op_file(void *ctx, enum gr_io_mode mode)
{
	const struct vec *v = ctx;
	ssize_t r;

	(void)mode;
	if (v->v2)
		r = v->write ? GR_REAL(pwritev2)(v->fd, v->iov, v->cnt, v->off, v->flags)
			     : GR_REAL(preadv2)(v->fd, v->iov, v->cnt, v->off, v->flags);
	else
		r = v->write ? GR_REAL(pwritev)(v->fd, v->iov, v->cnt, v->off)
			     : GR_REAL(preadv)(v->fd, v->iov, v->cnt, v->off);
	return r < 0 ? -errno : r;
}

/* A positioned call: file I/O, a cancellation point. */
static ssize_t file_call(const struct vec *v)
{
	ssize_t r;

	gr_cancel_begin();
	r = gr_config.file_io_pool ? gr_io_file(op_file, (void *)v)
				   : op_file((void *)v, GR_IO_PLAIN);
	gr_cancel_end(r == -EINTR);
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	gr_maybe_yield();
	return r;
}

/* preadv2/pwritev2: readv/writev where the file has no position to use. */
static ssize_t v2(struct vec *v)
{
	enum gr_fd_kind k;

	v->v2 = 1;
	if (v->off != -1 || (v->flags & ~PASSIVE_RWF) ||
	    ((v->flags & RWF_APPEND) && (v->flags & RWF_NOAPPEND)))
		return file_call(v);
	k = gr_fd_kind(v->fd);
	if (k == GR_KIND_BAD || k == GR_KIND_FILE)
		return file_call(v);
	return v->write ? writev(v->fd, v->iov, v->cnt) : readv(v->fd, v->iov, v->cnt);
}

GR_EXPORT ssize_t preadv(int fd, const struct iovec *iov, int cnt, off_t off)
{
	struct vec v = {.fd = fd, .iov = iov, .cnt = cnt, .off = off};

	if (!gr_green())
		return GR_REAL(preadv)(fd, iov, cnt, off);
	return file_call(&v);
}

GR_EXPORT ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	struct vec v = {.fd = fd, .iov = iov, .cnt = cnt, .off = off, .write = 1};

	if (!gr_green())
		return GR_REAL(pwritev)(fd, iov, cnt, off);
	return file_call(&v);
}

GR_EXPORT ssize_t preadv2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	struct vec v = {.fd = fd, .iov = iov, .cnt = cnt, .off = off, .flags = flags};

	if (!gr_green())
		return GR_REAL(preadv2)(fd, iov, cnt, off, flags);
	return v2(&v);
}

GR_EXPORT ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	struct vec v = {.fd = fd, .iov = iov, .cnt = cnt, .off = off, .flags = flags, .write = 1};

	if (!gr_green())
		return GR_REAL(pwritev2)(fd, iov, cnt, off, flags);
	return v2(&v);
}

/* off_t is 64 bits on the 64-bit targets: the 64-bit names are the same. */
GR_EXPORT ssize_t gr_preadv64(int fd, const struct iovec *iov, int cnt,
			      off_t off) __asm__("preadv64");
GR_EXPORT ssize_t gr_preadv64(int fd, const struct iovec *iov, int cnt, off_t off)
{
	return preadv(fd, iov, cnt, off);
}

GR_EXPORT ssize_t gr_pwritev64(int fd, const struct iovec *iov, int cnt,
			       off_t off) __asm__("pwritev64");
GR_EXPORT ssize_t gr_pwritev64(int fd, const struct iovec *iov, int cnt, off_t off)
{
	return pwritev(fd, iov, cnt, off);
}

GR_EXPORT ssize_t gr_preadv64v2(int fd, const struct iovec *iov, int cnt, off_t off,
				int flags) __asm__("preadv64v2");
GR_EXPORT ssize_t gr_preadv64v2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	return preadv2(fd, iov, cnt, off, flags);
}

GR_EXPORT ssize_t gr_pwritev64v2(int fd, const struct iovec *iov, int cnt, off_t off,
				 int flags) __asm__("pwritev64v2");
GR_EXPORT ssize_t gr_pwritev64v2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	return pwritev2(fd, iov, cnt, off, flags);
}

/* recvmmsg and sendmmsg: one batch per try. */
struct mm {
	int fd;
	struct mmsghdr *vec;
	unsigned n;
	int flags;
	int send;
};

static ssize_t op_mm(void *ctx, enum gr_io_mode mode)
{
	const struct mm *m = ctx;
	int f = m->flags | (mode == GR_IO_DONTWAIT ? MSG_DONTWAIT : 0);
	int r = m->send ? GR_REAL(sendmmsg)(m->fd, m->vec, m->n, f)
			: GR_REAL(recvmmsg)(m->fd, m->vec, m->n, f, NULL);

	return r < 0 ? -errno : r;
}

GR_EXPORT int recvmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags,
		       struct timespec *timeout)
{
	struct timespec t = {0, 0};
	int saved = errno;
	int64_t end = 0;
	unsigned got = 0;

	if (!gr_green() || (flags & MSG_DONTWAIT) || vlen == 0)
		return GR_REAL(recvmmsg)(fd, vec, vlen, flags, timeout);
	if (timeout) {
		/* Unreadable or invalid: the kernel's EFAULT or EINVAL, at once. */
		if (gr_copy_in(&t, timeout, sizeof(t)) < 0 || t.tv_sec < 0 || t.tv_nsec < 0 ||
		    t.tv_nsec >= GR_NSEC)
			return GR_REAL(recvmmsg)(fd, vec, vlen, flags, timeout);
		end = gr_now() + gr_ts_ns(&t);
	}
	for (;;) {
		struct mm m = {.fd = fd, .vec = vec + got, .n = vlen - got, .flags = flags};
		if (got && (flags & MSG_WAITFORONE))
			m.flags |= MSG_DONTWAIT;
		ssize_t r = gr_io(fd, GR_FD_READ, op_mm, &m);
		if (r < 0) {
			if (got)
				break;
			errno = (int)-r;
			return -1;
		}
		got += (unsigned)r;
		if (got == vlen || (flags & MSG_WAITFORONE) || (end && gr_now() >= end))
			break;
	}
	if (timeout) {
		int64_t left = end - gr_now();
		if (left < 0)
			left = 0;
		t.tv_sec = left / GR_NSEC;
		t.tv_nsec = left % GR_NSEC;
		*timeout = t;
	}
	errno = saved;
	gr_maybe_yield();
	return (int)got;
}

/* Bytes in a message's vector. */
static size_t msg_size(const struct msghdr *h)
{
	size_t n = 0;

	for (size_t i = 0; i < h->msg_iovlen; i++)
		n += h->msg_iov[i].iov_len;
	return n;
}

/* Sends what a try left of message e (it sent e->msg_len bytes) with the
 * green sendmsg, which writes all, 64 vector entries at a time. Returns 0
 * (e->msg_len counts what went; short if a signal or an error stopped
 * it), or -errno if nothing more went. */
static int finish(int fd, struct mmsghdr *e, int flags)
{
	const struct msghdr *h = &e->msg_hdr;
	size_t i = 0, skip = e->msg_len;

	while (i < h->msg_iovlen && skip >= h->msg_iov[i].iov_len)
		skip -= h->msg_iov[i++].iov_len;
	while (i < h->msg_iovlen) {
		struct iovec rest[64];
		struct msghdr m = {.msg_iov = rest}; /* the address and the
							control data went with
							the first part */
		size_t want = 0;
		for (; i < h->msg_iovlen && m.msg_iovlen < 64; i++, skip = 0) {
			rest[m.msg_iovlen].iov_base = (char *)h->msg_iov[i].iov_base + skip;
			rest[m.msg_iovlen].iov_len = h->msg_iov[i].iov_len - skip;
			want += rest[m.msg_iovlen++].iov_len;
		}
		ssize_t r = sendmsg(fd, &m, flags);
		if (r < 0)
			return -errno;
		e->msg_len += (unsigned)r;
		if ((size_t)r < want)
			break;
	}
	return 0;
}

GR_EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags)
{
	int saved = errno;
	unsigned got = 0;

	if (!gr_green() || (flags & MSG_DONTWAIT) || vlen == 0)
		return GR_REAL(sendmmsg)(fd, vec, vlen, flags);
	while (got < vlen) {
		struct mm m = {
			.fd = fd, .vec = vec + got, .n = vlen - got, .flags = flags, .send = 1};
		ssize_t r = gr_io(fd, GR_FD_WRITE, op_mm, &m);
		if (r <= 0) {
			if (got)
				break;
			errno = (int)-r;
			return r == 0 ? 0 : -1;
		}
		got += (unsigned)r;
		struct mmsghdr *last = &vec[got - 1];
		if (last->msg_len < msg_size(&last->msg_hdr) && finish(fd, last, flags) < 0)
			break;
		if (last->msg_len < msg_size(&last->msg_hdr))
			break; /* interrupted in the middle: natively a short message too */
	}
	errno = saved;
	gr_maybe_yield();
	return (int)got;
}
