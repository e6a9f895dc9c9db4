/* glibc's other exported names of blocking calls: __read, __write,
 * __pread64, __pwrite64, __send, __connect, __close, __fcntl, __poll,
 * __select, __nanosleep, __sigsuspend (libnsl, and
 * programs of other times, still call some of them), and sigpause in both
 * its BSD (a mask) and X/Open (__xpg_sigpause: a signal to let in) forms,
 * which glibc makes a sigsuspend through its internal calls (eventfd_read
 * and eventfd_write are io.c's). Each is the
 * hooked call of the plain name, green or plain by its rules (__wait and
 * __waitpid are proc.c's). Left to
 * libc: the GLIBC_PRIVATE names (__recv, __libc_pread...), which only
 * glibc's own modules can link. */
#include "hook.h"

#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SAME(rtype, old, new, params, args)                                                        \
	GR_EXPORT rtype gr_##old params __asm__(#old);                                             \
	GR_EXPORT rtype gr_##old params                                                            \
	{                                                                                          \
		return new args;                                                                   \
	}

SAME(ssize_t, __read, read, (int fd, void *buf, size_t n), (fd, buf, n))
SAME(ssize_t, __write, write, (int fd, const void *buf, size_t n), (fd, buf, n))
SAME(ssize_t, __pread64, pread, (int fd, void *buf, size_t n, off_t off), (fd, buf, n, off))
SAME(ssize_t, __pwrite64, pwrite, (int fd, const void *buf, size_t n, off_t off), (fd, buf, n, off))
SAME(ssize_t, __send, send, (int fd, const void *buf, size_t n, int flags), (fd, buf, n, flags))
SAME(int, __connect, connect, (int fd, const struct sockaddr *addr, socklen_t len), (fd, addr, len))
SAME(int, __close, close, (int fd), (fd))
SAME(int, __poll, poll, (struct pollfd * fds, nfds_t n, int timeout), (fds, n, timeout))
SAME(int, __select, select,
     (int nfds, fd_set *restrict rd, fd_set *restrict wr, fd_set *restrict ex,
      struct timeval *restrict tv),
     (nfds, rd, wr, ex, tv))
SAME(int, __nanosleep, nanosleep, (const struct timespec *req, struct timespec *rem), (req, rem))
SAME(int, __sigsuspend, sigsuspend, (const sigset_t *mask), (mask))

GR_EXPORT int gr___fcntl(int fd, int cmd, ...) __asm__("__fcntl");
GR_EXPORT int gr___fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *); /* as glibc: one argument, whatever its type */
	va_end(ap);
	return fcntl(fd, cmd, arg);
}

/* glibc's __sigpause: the thread's mask less sig (X/Open), or the old
 * 32-bit mask of signals 1 to 32 (BSD); then sigsuspend. */
static int green_sigpause(int sig_or_mask, int is_sig)
{
	sigset_t set;

	if (is_sig) {
		if (pthread_sigmask(SIG_BLOCK, NULL, &set) != 0 || sigdelset(&set, sig_or_mask) < 0)
			return -1;
	} else {
		sigemptyset(&set);
		for (int sig = 1; sig <= 32; sig++)
			if ((unsigned)sig_or_mask & (1u << (sig - 1)))
				sigaddset(&set, sig);
	}
	return sigsuspend(&set);
}

GR_EXPORT int __sigpause(int sig_or_mask, int is_sig);
GR_EXPORT int __sigpause(int sig_or_mask, int is_sig)
{
	return green_sigpause(sig_or_mask, is_sig);
}

GR_EXPORT int __xpg_sigpause(int sig);
GR_EXPORT int __xpg_sigpause(int sig)
{
	return green_sigpause(sig, 1);
}

GR_EXPORT int gr_sigpause(int mask) __asm__("sigpause");
GR_EXPORT int gr_sigpause(int mask)
{
	return green_sigpause(mask, 0);
}
