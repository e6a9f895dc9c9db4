/* Waiting for readiness on behalf of calls that have no non-blocking form
 * for gr_io (io.h) to try, but one the caller can make itself (splice's
 * SPLICE_F_NONBLOCK, a message queue receive with a timeout already past):
 * the caller tries, and on "would block" waits here and tries again
 * (ready.c). */
#ifndef GR_READY_H
#define GR_READY_H

#include <stdint.h>

/* Parks the current thread until *fd may be ready for what (GR_FD_READ or
 * GR_FD_WRITE of fdwait.h), or deadline (monotonic ns, 0 = none). Returns 0
 * (try again; also for an fd that cannot be polled, which never waits),
 * -ETIMEDOUT, -EBADF (a bad fd), or -EINTR when the call must end with
 * EINTR: a signal handler without SA_RESTART ran in the thread, or restart
 * is 0, or a cancellation request came. After a handler with SA_RESTART it
 * returns 0: the caller tries again, as the kernel restarts the call.
 *
 * The call goes on with the file it started with, as a blocked call does
 * in Linux: when a close or a dup2 took the number away during the wait,
 * *fd becomes a private dup of that file (fdwait.h's gr_fd_wait_hold),
 * which the caller tries on from then on and gives back with
 * gr_fd_release once the call is done (whatever its result). */
int gr_ready_wait(int *fd, int what, int64_t deadline, int restart);

/* What a file descriptor is, for calls whose way of waiting depends on it
 * (an fstat each time; fdwait.h's gr_fd_kind is a hint kept per number). */
enum gr_file_type {
	GR_KIND_BAD,  /* not an open fd (the call gives libc's error) */
	GR_KIND_FILE, /* regular file, block device, directory: never waits */
	GR_KIND_PIPE, /* pipe or FIFO */
	GR_KIND_SOCK, /* socket */
	GR_KIND_OTHER /* a character device: a tty, ... */
};
enum gr_file_type gr_file_type(int fd);

/* Whether the program set O_NONBLOCK on fd (1), or fd is bad (-1). */
int gr_fd_nonblocking(int fd);

#endif
