/* fd bookkeeping: close, dup2, dup3, and the calls that make a new fd
 * under a number that may have named another file (socket, socketpair,
 * accept in net.c, dup, fcntl's F_DUPFD). Every call goes to libc as
 * made (unknown fcntl commands pass through unchanged); these only tell
 * runtime/fdwait.c, which keeps per number what kind of file it names
 * (a regular file is then read with the plain call at once): so every
 * way a number can come to name another file tells it, close_range,
 * closefrom, closedir and the raw system calls (syscall(), fd.h) too; a
 * close by an OS thread that is not green makes every number's kind be
 * learnt again. pipe, pipe2, socket, socketpair and accept say the kind
 * they made. Green I/O changes no flag and keeps no flag of the
 * program's, so F_SETFL, ioctl(FIONBIO) and setsockopt need no telling.
 *
 * close, dup2 and dup3 of an fd that green threads wait on: as in Linux,
 * whose blocked calls hold the file, they go on with the same file (a
 * private dup of it) and return what it gives them. close is a
 * cancellation point, as glibc's (a pending cancel acts before the fd is
 * closed).
 *
 * fcntl's F_SETLKW and F_OFD_SETLKW wait for their lock on a worker
 * (filelock.c).
 *
 * Left to libc: closes glibc makes internally where no hook sees them
 * (closedir; fclose only with GREENIFY_STDIO=ready, else stdio_file.c's
 * close entry tells); runtime/fdwait.c finds out when the number is
 * waited on again. */
#include "hook.h"

#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "../runtime/cancel.h"
#include "../runtime/fdwait.h"
#include "../runtime/foreign.h"
#include "../runtime/ownfd.h"
#include "fd.h"
#include "filelock.h"

/* A number is about to be closed or replaced off the green threads. */
static void outside(void)
{
	if (gr_foreign_thread())
		gr_fd_forget_all();
}

GR_EXPORT int close(int fd)
{
	int r;

	/* The runtime's own (ownfd.c): a number free to the program. */
	if (__builtin_expect(gr_own_fd(fd), 0)) {
		errno = EBADF;
		return -1;
	}
	if (!gr_green()) {
		outside();
		return GR_REAL(close)(fd);
	}
	gr_cancel_begin();
	gr_fd_closing(fd);
	r = GR_REAL(close)(fd);
	gr_cancel_end(0);
	return r;
}

/* new is about to be replaced by a dup of old. */
static void replacing(int old, int new)
{
	if (!gr_green())
		outside();
	else if (old != new)
		gr_fd_closing(new);
}

/* A dup names the same file: what is known of it holds for both. */
static int duped(int old, int r)
{
	if (r >= 0 && r != old && gr_green())
		gr_fd_copy_facts(old, r);
	return r;
}

/* A dup onto new, one of the runtime's numbers (ownfd.c), free to the
 * program as natively: ours moves to another first. A dup of one of ours
 * is of a number the program never opened (EBADF). 1 when the call is
 * answered so (errno set). */
static int onto_own(int old, int new)
{
	if (__builtin_expect(gr_own_fd(old), 0)) {
		errno = EBADF;
		return 1;
	}
	/* Ours cannot move (no number is free: the limit could not be
	 * raised and the program holds every other): the runtime's file
	 * stays, and the program is told the table is full. */
	if (__builtin_expect(gr_own_fd(new), 0) && old != new &&gr_own_fd_move_away(new) < 0 &&
	    gr_own_fd(new)) {
		errno = EMFILE;
		return 1;
	}
	return 0;
}

GR_EXPORT int dup2(int old, int new)
{
	if (onto_own(old, new))
		return -1;
	replacing(old, new);
	return duped(old, GR_REAL(dup2)(old, new));
}

GR_EXPORT int dup3(int old, int new, int flags)
{
	/* dup3 of a number onto itself is EINVAL first, as the kernel's. */
	if (old != new &&onto_own(old, new))
		return -1;
	replacing(old, new);
	return duped(old, GR_REAL(dup3)(old, new, flags));
}

/* CLOSE_RANGE_CLOEXEC closes nothing now; exec ends the table anyway. */
static void closing_range(unsigned lo, unsigned hi, int flags)
{
	if (!gr_green())
		outside();
	else if (!(flags & CLOSE_RANGE_CLOEXEC))
		gr_fd_closing_range(lo, hi);
}

/* close_range over [lo, hi] but the runtime's own fds (ownfd.c), in
 * pieces between them (one piece when none is there); the last piece,
 * from *rest on, is left to the caller when rest is not NULL
 * (closefrom's). */
static int close_around_own(unsigned lo, unsigned hi, int flags, unsigned *rest)
{
	int own;

	while ((own = gr_own_fd_in(lo, hi)) >= 0) {
		if ((unsigned)own > lo) {
			closing_range(lo, (unsigned)own - 1, flags);
			if (GR_REAL(close_range)(lo, (unsigned)own - 1, flags) < 0)
				return -1;
		}
		if ((unsigned)own == hi)
			return 0;
		lo = (unsigned)own + 1;
	}
	if (rest) {
		*rest = lo;
		return 0;
	}
	closing_range(lo, hi, flags);
	return GR_REAL(close_range)(lo, hi, flags);
}

GR_EXPORT int close_range(unsigned lo, unsigned hi, int flags)
{
	/* Setting close-on-exec closes nothing now (ours have it); bad
	 * arguments get the kernel's EINVAL. */
	if (lo > hi || (flags & ~(CLOSE_RANGE_CLOEXEC | CLOSE_RANGE_UNSHARE)) ||
	    (flags & CLOSE_RANGE_CLOEXEC)) {
		closing_range(lo, hi, flags);
		return GR_REAL(close_range)(lo, hi, flags);
	}
	return close_around_own(lo, hi, flags, NULL);
}

GR_EXPORT void closefrom(int lo)
{
	unsigned rest;

	if (lo >= 0) {
		/* glibc's closefrom ends the process if it cannot close. */
		if (close_around_own((unsigned)lo, ~0U, 0, &rest) < 0 || rest > (unsigned)INT_MAX)
			return;
		lo = (int)rest;
		closing_range((unsigned)lo, ~0U, 0);
	}
	GR_REAL(closefrom)(lo);
}

/* glibc closes the directory's fd inside, where no hook sees it. */
GR_EXPORT int closedir(DIR *d)
{
	int fd = dirfd(d);

	if (fd >= 0 && gr_green())
		gr_fd_closing(fd);
	else if (fd >= 0)
		outside();
	return GR_REAL(closedir)(d);
}

/* Whether a raw close of one of the runtime's fds is the program's: not
 * libuv's on the runtime's behalf (its closes are syscall(SYS_close)). */
static int programs_call(void)
{
	return !(gr_tls_runtime && gr_rt.inside) && !gr_own_fd_capture;
}

int gr_fd_syscall(long number, const long *a, long *ret)
{
	switch (number) {
	case SYS_close:
		if (__builtin_expect(gr_own_fd((int)a[0]), 0) && programs_call()) {
			errno = EBADF; /* as close() (ownfd.c) */
			*ret = -1;
			return 1;
		}
		if (gr_green())
			gr_fd_closing((int)a[0]);
		else
			outside();
		break;
#ifdef SYS_dup2
	case SYS_dup2:
#endif
	case SYS_dup3:
		if (programs_call() && (number != SYS_dup3 || a[0] != a[1]) &&
		    onto_own((int)a[0], (int)a[1])) {
			*ret = -1;
			return 1;
		}
		replacing((int)a[0], (int)a[1]);
		break;
#ifdef SYS_close_range
	case SYS_close_range:
		if (programs_call()) {
			*ret = close_range((unsigned)a[0], (unsigned)a[1], (int)a[2]);
			return 1;
		}
		closing_range((unsigned)a[0], (unsigned)a[1], (int)a[2]);
		break;
#endif
	default: break;
	}
	return 0;
}

void gr_fd_received(const struct msghdr *msg)
{
	if (!gr_green() || msg->msg_controllen == 0)
		return;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		const unsigned char *p = CMSG_DATA(c);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, p + i * sizeof(int), sizeof(fd)); /* unaligned */
			gr_fd_forget(fd);
		}
	}
}

static void made_pipe(int r, const int fds[2])
{
	if (r == 0 && gr_green()) {
		gr_fd_forget(fds[0]);
		gr_fd_forget(fds[1]);
		gr_fd_set_kind(fds[0], GR_FD_KIND_FIFO);
		gr_fd_set_kind(fds[1], GR_FD_KIND_FIFO);
	}
}

GR_EXPORT int pipe(int fds[2])
{
	int r = GR_REAL(pipe)(fds);

	made_pipe(r, fds);
	return r;
}

GR_EXPORT int pipe2(int fds[2], int flags)
{
	int r = GR_REAL(pipe2)(fds, flags);

	made_pipe(r, fds);
	return r;
}

static int after_fcntl(int fd, int cmd, int r)
{
	if (r >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) && gr_green()) {
		gr_fd_forget(r);
		duped(fd, r);
	}
	return r;
}

GR_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *); /* as glibc: one argument, whatever its type */
	va_end(ap);
	if ((cmd == F_SETLKW || cmd == F_OFD_SETLKW) && gr_green())
		return gr_fcntl_lock_wait(fd, cmd, arg); /* waits on a worker */
	return after_fcntl(fd, cmd, GR_REAL(fcntl)(fd, cmd, arg));
}

/* What a _FILE_OFFSET_BITS=64 program calls. */
GR_EXPORT int gr_fcntl64(int fd, int cmd, ...) __asm__("fcntl64");
GR_EXPORT int gr_fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	if ((cmd == F_SETLKW || cmd == F_OFD_SETLKW) && gr_green())
		return gr_fcntl_lock_wait(fd, cmd, arg);
	return after_fcntl(fd, cmd, GR_REAL(fcntl64)(fd, cmd, arg));
}

GR_EXPORT int socket(int domain, int type, int proto)
{
	int fd = GR_REAL(socket)(domain, type, proto);

	if (fd >= 0 && gr_green()) {
		gr_fd_forget(fd);
		gr_fd_set_kind(fd, GR_FD_KIND_SOCKET);
	}
	return fd;
}

GR_EXPORT int socketpair(int domain, int type, int proto, int sv[2])
{
	int r = GR_REAL(socketpair)(domain, type, proto, sv);

	if (r == 0 && gr_green()) {
		gr_fd_forget(sv[0]);
		gr_fd_forget(sv[1]);
		gr_fd_set_kind(sv[0], GR_FD_KIND_SOCKET);
		gr_fd_set_kind(sv[1], GR_FD_KIND_SOCKET);
	}
	return r;
}

GR_EXPORT int dup(int fd)
{
	int r = GR_REAL(dup)(fd);

	if (r >= 0 && gr_green())
		gr_fd_forget(r);
	return duped(fd, r);
}
