/* Waiting for a file descriptor to become ready (fdwait.c): the piece of
 * green I/O under every hooked read, write, accept, connect and poll.
 * One uv_poll per fd, started on the first wait and watching
 * only the events someone waits for; readers and writers queue apart.
 * Closing an fd wakes everyone waiting on it with EBADF and stops the poll
 * before the kernel fd goes away, so a number the kernel hands out again at
 * once is safe. */
#ifndef GR_FDWAIT_H
#define GR_FDWAIT_H

#include <stdint.h>

#define GR_FD_READ  1 /* readable, or a peer hung up, or an error */
#define GR_FD_WRITE 2 /* writable, or an error */

/* Parks the current thread until fd is ready for what (GR_FD_READ or
 * GR_FD_WRITE), or deadline (monotonic ns, 0 = none). Returns 0 (ready:
 * retry the call), -ETIMEDOUT, -EBADF (closed meanwhile), -EINTR (a signal
 * handler ran), or -EPERM when fd cannot be polled (a regular file: the
 * caller makes the plain call, which does not block on readiness). */
int gr_fd_wait(int fd, int what, int64_t deadline);

/* Parks the current thread until one of the n pollfds may be ready (its
 * events), or deadline. Returns 0 (call poll again to see), -ETIMEDOUT,
 * -EINTR, or -errno when the wait cannot be set up. */
struct pollfd;
int gr_fd_wait_any(const struct pollfd *fds, unsigned long n, int64_t deadline);

/* fd is about to be closed (or replaced by dup2): wake its waiters with
 * EBADF and stop polling it. */
void gr_fd_closing(int fd);

/* fd was opened by the current thread only to wait on it (a pidfd, an
 * epoll set of several fds), and is closed by that thread with
 * gr_fd_closing: a fork child in which the thread does not survive closes
 * it instead (fork.c). */
void gr_fd_own(int fd);

/* For a socket: whether the program made it non-blocking, and its
 * SO_RCVTIMEO / SO_SNDTIMEO (ns, 0: none). Read with fcntl and getsockopt
 * once and cached until gr_fd_forget(fd) or gr_fd_closing(fd): the hooks of
 * fcntl, ioctl(FIONBIO), setsockopt and of every call that makes an fd
 * forget it. Returns 0 or -errno (a bad fd). */
int gr_fd_socket_facts(int fd, int *nonblock, int64_t *rcvtimeo, int64_t *sndtimeo);
void gr_fd_forget(int fd);

/* A wait on fd (gr_fd_wait) was left for good: a signal handler that ran
 * in it left by longjmp. It no longer counts, and fd is closed if the
 * waiter made it only to wait on it (gr_fd_own). */
void gr_fd_wait_abandoned(int fd);

/* How many threads wait on fds now (the deadlock check counts them). */
extern unsigned gr_fd_waiters;

#endif
