/* Vectored and batched I/O beyond readv/writev/recvmsg/sendmsg (io.c):
 * preadv, pwritev, preadv2, pwritev2 and their 64-bit names.
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
 * recvmmsg and sendmmsg are io.c's. */
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
	enum gr_file_type k;

	v->v2 = 1;
	if (v->off != -1 || (v->flags & ~PASSIVE_RWF) ||
	    ((v->flags & RWF_APPEND) && (v->flags & RWF_NOAPPEND)))
		return file_call(v);
	k = gr_file_type(v->fd);
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
