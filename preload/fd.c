/* fd bookkeeping: close, dup2, dup3, and the calls that make a new fd
 * under a number that may have named another file (socket, socketpair,
 * accept in net.c, dup, fcntl's F_DUPFD). Every call goes to libc as
 * made (unknown fcntl commands pass through unchanged); these only tell
 * runtime/fdwait.c. Green I/O changes no flag and keeps no flag of the
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

#include <stdarg.h>

#include "../runtime/cancel.h"
#include "../runtime/fdwait.h"
#include "filelock.h"

GR_EXPORT int close(int fd)
{
	int r;

	if (!gr_green())
		return GR_REAL(close)(fd);
	gr_cancel_begin();
	gr_fd_closing(fd);
	r = GR_REAL(close)(fd);
	gr_cancel_end(0);
	return r;
}

GR_EXPORT int dup2(int old, int new)
{
	if (gr_green() && old != new)
		gr_fd_closing(new);
	return GR_REAL(dup2)(old, new);
}

GR_EXPORT int dup3(int old, int new, int flags)
{
	if (gr_green() && old != new)
		gr_fd_closing(new);
	return GR_REAL(dup3)(old, new, flags);
}

static int after_fcntl(int cmd, int r)
{
	if (r >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) && gr_green())
		gr_fd_forget(r);
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
	return after_fcntl(cmd, GR_REAL(fcntl)(fd, cmd, arg));
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
	return after_fcntl(cmd, GR_REAL(fcntl64)(fd, cmd, arg));
}

GR_EXPORT int socket(int domain, int type, int proto)
{
	int fd = GR_REAL(socket)(domain, type, proto);

	if (fd >= 0 && gr_green())
		gr_fd_forget(fd);
	return fd;
}

GR_EXPORT int socketpair(int domain, int type, int proto, int sv[2])
{
	int r = GR_REAL(socketpair)(domain, type, proto, sv);

	if (r == 0 && gr_green()) {
		gr_fd_forget(sv[0]);
		gr_fd_forget(sv[1]);
	}
	return r;
}

GR_EXPORT int dup(int fd)
{
	int r = GR_REAL(dup)(fd);

	if (r >= 0 && gr_green())
		gr_fd_forget(r);
	return r;
}
