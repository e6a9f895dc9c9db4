/* Opening files: open, openat, creat (and their 64-bit names, which a
 * _FILE_OFFSET_BITS=64 program calls), the fortified __open_2, __openat_2
 * (and their 64-bit names), and glibc's old exported __open, __open64.
 *
 * The open of a FIFO waits until its other end is opened, by another
 * process or by another thread of this one; nothing can be polled for that,
 * so such an open runs on a worker thread while the green thread parks
 * (with GREENIFY_FILE_IO=pool every open does: a slow or remote disk then
 * stalls only the thread that opens). Telling a FIFO takes an fstatat of
 * the path first; opens that cannot wait skip it (O_NONBLOCK, O_PATH,
 * O_CREAT with O_EXCL, O_TMPFILE). As natively, open is a cancellation
 * point, and a signal handler ends a wait for a FIFO's other end with
 * EINTR unless it had SA_RESTART. A fortified open with O_CREAT and no mode
 * dies in glibc's own check.
 *
 * fopen (and fopen64, and freopen in stdio_ctl.c) opens its path inside
 * libc, where no hook sees the
 * open: for a FIFO a green thread waits on a worker for the other end in
 * an open of its own, holds that end (and a non-blocking one of the other
 * direction, which the kernel then gives at once) while glibc's fopen
 * opens the path, which then finds its other end there and does not
 * wait, and lets both go once fopen is back: the stream is glibc's.
 *
 * A /proc path that names a green thread by its id is first rewritten to
 * the OS thread's entry (procpath.h), in every open here and in fopen.
 *
 * Left to libc: opens by threads that are not green, and the other opens
 * glibc makes internally (opendir...), which no preload sees. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../runtime/fdwait.h"
#include "procpath.h"
#include "work.h"

/* Whether open may wait for a FIFO's other end, or must go to a worker
 * anyway (GREENIFY_FILE_IO=pool). */
static int on_worker(int dirfd, const char *path, int flags)
{
	struct stat st;

	if (gr_config.file_io_pool)
		return 1;
	if (flags & (O_NONBLOCK | O_PATH))
		return 0;
	if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL) || (flags & O_TMPFILE) == O_TMPFILE)
		return 0;
	if (fstatat(dirfd, path, &st, (flags & O_NOFOLLOW) ? AT_SYMLINK_NOFOLLOW : 0) < 0)
		return 0; /* the open itself gives libc's answer */
	return S_ISFIFO(st.st_mode);
}

struct openjob {
	int dirfd;
	const char *path;
	int flags;
	mode_t mode;
};

static long run_open(void *p)
{
	struct openjob *a = p;

	return gr_neg_errno(GR_REAL(openat)(a->dirfd, a->path, a->flags, a->mode));
}

/* A new file under a number that may have named another. */
static int opened(int fd)
{
	if (fd >= 0)
		gr_fd_forget(fd);
	return fd;
}

static int green_open(int dirfd, const char *path, int flags, mode_t mode)
{
	char buf[PATH_MAX];
	struct openjob a = {dirfd, GR_PROC_PATH(path, buf), flags, mode};
	int saved = errno;
	long r;

	path = a.path;
	gr_cancel_begin(); /* a cancellation point, waiting or not */
	gr_cancel_end(0);
	if (!path) /* the kernel's EFAULT; glibc declares the path nonnull */
		return (int)gr_real.syscall(SYS_openat, dirfd, path, flags, mode);
	if (!on_worker(dirfd, path, flags)) {
		errno = saved;
		return opened(GR_REAL(openat)(dirfd, path, flags, mode));
	}
	if (gr_work(run_open, &a, GR_WORK_KICK | GR_WORK_RESTART | GR_WORK_CANCEL, &r) < 0)
		return opened(GR_REAL(openat)(dirfd, path, flags, mode));
	return opened((int)gr_work_ret(r, saved));
}

/* The mode argument is there only when the flags need one (glibc's rule). */
#define OPEN_MODE(flags, last, mode)                                                               \
	do {                                                                                       \
		if (__OPEN_NEEDS_MODE(flags)) {                                                    \
			va_list ap;                                                                \
			va_start(ap, last);                                                        \
			mode = (mode_t)va_arg(ap, int);                                            \
			va_end(ap);                                                                \
		}                                                                                  \
	} while (0)

GR_EXPORT int open(const char *path, int flags, ...)
{
	mode_t mode = 0;

	OPEN_MODE(flags, flags, mode);
	if (!gr_green())
		return GR_REAL(open)(path, flags, mode);
	return green_open(AT_FDCWD, path, flags, mode);
}

GR_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	OPEN_MODE(flags, flags, mode);
	if (!gr_green())
		return GR_REAL(openat)(dirfd, path, flags, mode);
	return green_open(dirfd, path, flags, mode);
}

GR_EXPORT int creat(const char *path, mode_t mode)
{
	return open(path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

GR_EXPORT int __open_2(const char *path, int flags)
{
	if (__OPEN_NEEDS_MODE(flags) || !gr_green())
		return GR_REAL(__open_2)(path, flags); /* dies in glibc's check */
	return green_open(AT_FDCWD, path, flags, 0);
}

GR_EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	if (__OPEN_NEEDS_MODE(flags) || !gr_green())
		return GR_REAL(__openat_2)(dirfd, path, flags);
	return green_open(dirfd, path, flags, 0);
}

/* off_t is 64 bits on the 64-bit targets: the 64-bit names and glibc's old
 * __open and __open64 are the same calls. */
#define SAME_OPEN(name, target)                                                                    \
	GR_EXPORT int gr_##name(const char *path, int flags, ...) __asm__(#name);                  \
	GR_EXPORT int gr_##name(const char *path, int flags, ...)                                  \
	{                                                                                          \
		mode_t mode = 0;                                                                   \
		OPEN_MODE(flags, flags, mode);                                                     \
		return target(path, flags, mode);                                                  \
	}
SAME_OPEN(open64, open)
SAME_OPEN(__open, open)
SAME_OPEN(__open64, open)

GR_EXPORT int gr_openat64(int dirfd, const char *path, int flags, ...) __asm__("openat64");
GR_EXPORT int gr_openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	OPEN_MODE(flags, flags, mode);
	return openat(dirfd, path, flags, mode);
}

GR_EXPORT int gr_creat64(const char *path, mode_t mode) __asm__("creat64");
GR_EXPORT int gr_creat64(const char *path, mode_t mode)
{
	return creat(path, mode);
}

GR_EXPORT int gr___open64_2(const char *path, int flags) __asm__("__open64_2");
GR_EXPORT int gr___open64_2(const char *path, int flags)
{
	return __open_2(path, flags);
}

GR_EXPORT int gr___openat64_2(int dirfd, const char *path, int flags) __asm__("__openat64_2");
GR_EXPORT int gr___openat64_2(int dirfd, const char *path, int flags)
{
	return __openat_2(dirfd, path, flags);
}

/* fopen's open of a FIFO in one direction, made green: the green open of
 * it (a worker waits for the other end), then the other direction without
 * waiting, so that glibc's open of the path finds its other end at once.
 * The two fds go in held[] until glibc's call is back. 0: nothing to do
 * (not a FIFO, or an open that cannot wait: "r+", "w+", "a+", "x"); -1:
 * the green open failed (errno: fopen answers NULL with it). */
int gr_fifo_ahead(const char *path, const char *mode, int held[2])
{
	int in = mode[0] == 'r', saved = errno, flags = in ? O_RDONLY : O_WRONLY;
	struct stat st;

	held[0] = held[1] = -1;
	if ((mode[0] != 'r' && mode[0] != 'w' && mode[0] != 'a') || strchr(mode, '+') ||
	    (!in && strchr(mode, 'x')))
		return 0;
	if (stat(path, &st) < 0 || !S_ISFIFO(st.st_mode)) {
		errno = saved;
		return 0; /* fopen gives libc's answer */
	}
	held[0] = green_open(AT_FDCWD, path, flags | O_CLOEXEC, 0);
	if (held[0] < 0)
		return -1;
	/* A reader: a writer of ours (ENXIO only without a reader, and ours
	 * is one); a writer: a reader, which a non-blocking open always gets. */
	held[1] = GR_REAL(open)(path, (in ? O_WRONLY : O_RDONLY) | O_NONBLOCK | O_CLOEXEC, 0);
	errno = saved;
	return 0;
}

/* After glibc's call: the helper of the other direction first, so that the
 * other end never sees this side without an opener. */
void gr_fifo_behind(const int held[2])
{
	int saved = errno;

	if (held[1] >= 0)
		GR_REAL(close)(held[1]);
	if (held[0] >= 0)
		GR_REAL(close)(held[0]);
	errno = saved;
}

#define GREEN_FOPEN(name)                                                                          \
	GR_EXPORT FILE *name(const char *restrict path, const char *restrict mode)                 \
	{                                                                                          \
		char buf[PATH_MAX];                                                                \
		int held[2];                                                                       \
		FILE *f;                                                                           \
		if (!gr_green() || !path || !mode)                                                 \
			return GR_REAL(name)(path, mode);                                          \
		path = GR_PROC_PATH(path, buf);                                                    \
		if (gr_fifo_ahead(path, mode, held) < 0)                                           \
			return NULL;                                                               \
		f = GR_REAL(name)(path, mode);                                                     \
		gr_fifo_behind(held);                                                              \
		return f;                                                                          \
	}
GREEN_FOPEN(fopen)
GREEN_FOPEN(fopen64)
