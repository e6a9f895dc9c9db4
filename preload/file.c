/* Regular-file calls: pread, pwrite (and their 64-bit names, which a
 * _FILE_OFFSET_BITS=64 program calls), fsync, fdatasync. A regular file has
 * no readiness to wait for, so by default these, like read and write on a
 * regular file, are made directly; with GREENIFY_FILE_IO=pool they run on
 * libuv's thread pool while the green thread parks, so that a slow disk
 * stalls only the thread that reads it. On other files pread and pwrite
 * fail as the kernel says (ESPIPE). */
#include "hook.h"

#include <errno.h>

#include "../runtime/cancel.h"
#include "../runtime/io.h"

enum file_kind { FILE_PREAD, FILE_PWRITE, FILE_FSYNC, FILE_FDATASYNC };

/* One call, marshalled for the pool. */
struct fileop {
	enum file_kind kind; /* which call */
	int fd;		     /* its arguments, as far as it has them */
	void *buf;
	size_t n;
	off_t off;
};

static ssize_t op_file(void *ctx, enum gr_io_mode mode)
{
	struct fileop *a = ctx;
	ssize_t r;

	(void)mode;
	switch (a->kind) {
	case FILE_PREAD: r = GR_REAL(pread)(a->fd, a->buf, a->n, a->off); break;
	case FILE_PWRITE: r = GR_REAL(pwrite)(a->fd, a->buf, a->n, a->off); break;
	case FILE_FSYNC: r = GR_REAL(fsync)(a->fd); break;
	default: r = GR_REAL(fdatasync)(a->fd); break; /* FILE_FDATASYNC */
	}
	return r < 0 ? -errno : r;
}

static ssize_t file_call(struct fileop *a)
{
	ssize_t r;

	gr_cancel_begin(); /* each of these is a cancellation point */
	r = gr_io_file(op_file, a);
	gr_cancel_end(r == -EINTR);
	if (r >= 0)
		gr_maybe_yield();
	return gr_ret(r);
}

GR_EXPORT ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	struct fileop a = {FILE_PREAD, fd, buf, n, off};

	if (!gr_green() || !gr_config.file_io_pool)
		return GR_REAL(pread)(fd, buf, n, off);
	return file_call(&a);
}

GR_EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	struct fileop a = {FILE_PWRITE, fd, (void *)buf, n, off};

	if (!gr_green() || !gr_config.file_io_pool)
		return GR_REAL(pwrite)(fd, buf, n, off);
	return file_call(&a);
}

/* off_t is 64 bits on the 64-bit targets: the same calls. */
GR_EXPORT ssize_t gr_pread64(int fd, void *buf, size_t n, off_t off) __asm__("pread64");
GR_EXPORT ssize_t gr_pread64(int fd, void *buf, size_t n, off_t off)
{
	return pread(fd, buf, n, off);
}

GR_EXPORT ssize_t gr_pwrite64(int fd, const void *buf, size_t n, off_t off) __asm__("pwrite64");
GR_EXPORT ssize_t gr_pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	return pwrite(fd, buf, n, off);
}

GR_EXPORT int fsync(int fd)
{
	struct fileop a = {FILE_FSYNC, fd, NULL, 0, 0};

	if (!gr_green() || !gr_config.file_io_pool)
		return GR_REAL(fsync)(fd);
	return (int)file_call(&a);
}

GR_EXPORT int fdatasync(int fd)
{
	struct fileop a = {FILE_FDATASYNC, fd, NULL, 0, 0};

	if (!gr_green() || !gr_config.file_io_pool)
		return GR_REAL(fdatasync)(fd);
	return (int)file_call(&a);
}
