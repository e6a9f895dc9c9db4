/* The fortified reads and waits that -D_FORTIFY_SOURCE=2 makes of read,
 * pread, pread64, recv, recvfrom, poll and ppoll when the compiler knows
 * the size of the buffer: __read_chk, __pread_chk, __pread64_chk,
 * __recv_chk, __recvfrom_chk, __poll_chk, __ppoll_chk. Debian builds its
 * packages so, and a binary that imports these never calls the plain
 * names. Each does glibc's check first (a buffer smaller than the call
 * says ends the process in __chk_fail, "*** buffer overflow detected
 * ***", as natively), then is the hooked call itself, green or plain by
 * the same rules. The fortified opens (__open_2...) are in open.c; the
 * fortified stdio calls are stdio's. */
#include "hook.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

/* glibc's, declared only in its fortify headers. */
extern void __chk_fail(void) __attribute__((noreturn));
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen);
ssize_t __pread64_chk(int fd, void *buf, size_t n, off_t off, size_t buflen);
ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *restrict buf, size_t n, size_t buflen, int flags,
		       struct sockaddr *restrict addr, socklen_t *restrict addrlen);
int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen);
int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *tmo, const sigset_t *mask,
		size_t fdslen);

GR_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	if (n > buflen)
		__chk_fail();
	return read(fd, buf, n);
}

GR_EXPORT ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen)
{
	if (n > buflen)
		__chk_fail();
	return pread(fd, buf, n, off);
}

GR_EXPORT ssize_t __pread64_chk(int fd, void *buf, size_t n, off_t off, size_t buflen)
{
	if (n > buflen)
		__chk_fail();
	return pread(fd, buf, n, off); /* off_t is 64 bits on the 64-bit targets */
}

GR_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
	if (n > buflen)
		__chk_fail();
	return recv(fd, buf, n, flags);
}

GR_EXPORT ssize_t __recvfrom_chk(int fd, void *restrict buf, size_t n, size_t buflen, int flags,
				 struct sockaddr *restrict addr, socklen_t *restrict addrlen)
{
	if (n > buflen)
		__chk_fail();
	return recvfrom(fd, buf, n, flags, addr, addrlen);
}

GR_EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		__chk_fail();
	return poll(fds, n, timeout);
}

GR_EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *tmo,
			  const sigset_t *mask, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		__chk_fail();
	return ppoll(fds, n, tmo, mask);
}
