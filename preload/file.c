/* Regular-file calls: pread, pwrite (and their 64-bit names, which a
 * _FILE_OFFSET_BITS=64 program calls), fsync, fdatasync, and the other
 * flushes: msync, syncfs, sync_file_range, sync. A regular file has
 * no readiness to wait for, so by default these, like read and write on a
 * regular file, are made directly; with GREENIFY_FILE_IO=pool they run on
 * libuv's thread pool while the green thread parks, so that a slow disk
 * stalls only the thread that reads it. On other files pread and pwrite
 * fail as the kernel says (ESPIPE). */
#include "hook.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>

#include "../runtime/cancel.h"
#include "../runtime/io.h"

enum file_kind {
	FILE_PREAD,
	FILE_PWRITE,
	FILE_FSYNC,
	FILE_FDATASYNC,
	FILE_MSYNC,
	FILE_SYNCFS,
	FILE_SYNC_FILE_RANGE,
	FILE_SYNC,
};

/* One call, marshalled for the pool. */
struct fileop {
	enum file_kind kind; /* which call */
	int fd;		     /* its arguments, as far as it has them */
	void *buf;
	size_t n;
	off_t off;
	unsigned flags; /* msync, sync_file_range */
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
	case FILE_FDATASYNC: r = GR_REAL(fdatasync)(a->fd); break;
	case FILE_MSYNC: r = GR_REAL(msync)(a->buf, a->n, (int)a->flags); break;
	case FILE_SYNCFS: r = GR_REAL(syncfs)(a->fd); break;
	case FILE_SYNC_FILE_RANGE:
		r = GR_REAL(sync_file_range)(a->fd, a->off, (off_t)a->n, a->flags);
		break;
	default: GR_REAL(sync)(); r = 0; /* FILE_SYNC */
	}
	return r < 0 ? -errno : r;
}

static ssize_t file_call(struct fileop *a)
{
	ssize_t r;

	gr_cancel_begin(); /* each of these is a cancellation point */
	r = gr_io_file(op_file, a);
	gr_cancel_end(r == -EINTR);
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	gr_maybe_yield();
	return r;
}

GR_EXPORT ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	struct fileop a = {FILE_PREAD, fd, buf, n, off, 0};

	if (!gr_green() || !gr_config.file_io_pool)
		return GR_REAL(pread)(fd, buf, n, off);
	return file_call(&a);
}

GR_EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	struct fileop a = {FILE_PWRITE, fd, (void *)buf, n, off, 0};

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
	struct fileop a = {FILE_FSYNC, fd, NULL, 0, 0, 0};

	if (!gr_green() || !gr_config.file_io_pool)
		return GR_REAL(fsync)(fd);
	return (int)file_call(&a);
}

GR_EXPORT int fdatasync(int fd)
{
	struct fileop a = {FILE_FDATASYNC, fd, NULL, 0, 0, 0};

	if (!gr_green() || !gr_config.file_io_pool)
		return GR_REAL(fdatasync)(fd);
	return (int)file_call(&a);
}

/* msync is a cancellation point (its flush can take as long as fsync's);
 * without MS_SYNC it does not wait for the disk. */
GR_EXPORT int msync(void *addr, size_t n, int flags)
{
	struct fileop a = {FILE_MSYNC, -1, addr, n, 0, (unsigned)flags};

	if (!gr_green() || !gr_config.file_io_pool || !(flags & MS_SYNC))
		return GR_REAL(msync)(addr, n, flags);
	return (int)file_call(&a);
}

GR_EXPORT int syncfs(int fd)
{
	struct fileop a = {FILE_SYNCFS, fd, NULL, 0, 0, 0};

	if (!gr_green() || !gr_config.file_io_pool)
		return GR_REAL(syncfs)(fd);
	return (int)file_call(&a);
}

GR_EXPORT int sync_file_range(int fd, off_t off, off_t n, unsigned flags)
{
	struct fileop a = {FILE_SYNC_FILE_RANGE, fd, NULL, (size_t)n, off, flags};

	if (!gr_green() || !gr_config.file_io_pool)
		return GR_REAL(sync_file_range)(fd, off, n, flags);
	return (int)file_call(&a);
}

GR_EXPORT void sync(void)
{
	struct fileop a = {FILE_SYNC, -1, NULL, 0, 0, 0};

	if (!gr_green() || !gr_config.file_io_pool) {
		GR_REAL(sync)();
		return;
	}
	file_call(&a);
}
