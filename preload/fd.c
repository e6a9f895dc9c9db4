/* fd bookkeeping: fcntl, ioctl, setsockopt, socket, socketpair, dup. Green
 * I/O changes no flag of the program's (runtime/io.c), so these only tell
 * the runtime to forget what it cached about an fd: whether the program
 * made a socket non-blocking (F_SETFL, FIONBIO), its SO_RCVTIMEO and
 * SO_SNDTIMEO, and anything known about an fd number that now names a new
 * file (socket, socketpair, dup, F_DUPFD). Every call goes to libc as made;
 * unknown fcntl and ioctl commands pass through unchanged. close, dup2 and
 * dup3 are in net.c (they also wake the fd's waiters); fcntl's F_SETLKW
 * and F_OFD_SETLKW wait for their lock in filelock.c. */
#include "hook.h"

#include <stdarg.h>

#include "../runtime/fdwait.h"
#include "filelock.h"

static int after_fcntl(int fd, int cmd, int r)
{
	if (gr_green() && r >= 0) {
		if (cmd == F_SETFL)
			gr_fd_forget(fd);
		else if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
			gr_fd_forget(r);
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

GR_EXPORT int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	int r;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	r = GR_REAL(ioctl)(fd, req, arg);
	if (r == 0 && req == FIONBIO && gr_green())
		gr_fd_forget(fd);
	return r;
}

GR_EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	int r = GR_REAL(setsockopt)(fd, level, name, val, len);

	if (r == 0 && level == SOL_SOCKET && gr_green())
		gr_fd_forget(fd); /* SO_RCVTIMEO, SO_SNDTIMEO and their _OLD/_NEW */
	return r;
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
