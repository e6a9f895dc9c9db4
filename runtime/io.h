/* Green I/O (io.c): a call that would block parks its green thread on the
 * fd's readiness instead of blocking the OS thread.
 *
 * No fd's flags are changed: the program, and any process sharing the file,
 * see exactly what they set. A socket call is tried with MSG_DONTWAIT and
 * waited on after EAGAIN; on other files (pipes, FIFOs, ttys...) the thread
 * waits until the file is ready and then makes the call (with one OS thread
 * and cooperative switching, nothing else in the process can take the data
 * in between); regular files are just called. A socket's O_NONBLOCK and
 * timeouts are cached per fd (gr_fd_socket_facts in fdwait.h) until a hook
 * that changes them, or the number, makes the runtime forget them. A program
 * that set O_NONBLOCK itself gets its EAGAIN as before; SO_RCVTIMEO and
 * SO_SNDTIMEO end a socket wait with EAGAIN as socket(7) says. */
#ifndef GR_IO_H
#define GR_IO_H

#include <sys/types.h>

enum gr_io_mode {
	GR_IO_PLAIN,	/* the call as the program made it */
	GR_IO_DONTWAIT, /* a try that must not block: add MSG_DONTWAIT, or
			   answer -EAGAIN at once if the call has no such flag
			   and the fd is not ready; -ENOTSOCK if fd is no socket */
	GR_IO_READY,	/* the fd is ready: a write takes at most PIPE_BUF
			   bytes, which a ready pipe or tty takes whole */
};

/* One attempt of the call. Returns what the call returns, or -errno. */
typedef ssize_t (*gr_io_op)(void *ctx, enum gr_io_mode mode);

/* Runs op on fd until it does not fail with EAGAIN; what is GR_FD_READ or
 * GR_FD_WRITE. Returns op's result or -errno (-EAGAIN when a socket
 * timeout expired, -EINTR when a signal handler interrupted the wait). */
ssize_t gr_io(int fd, int what, gr_io_op op, void *ctx);

/* A call on a regular file: on the thread pool with GREENIFY_FILE_IO=pool
 * (the green thread parks meanwhile), else made directly. */
ssize_t gr_io_file(gr_io_op op, void *ctx);

/* Whether fd is ready for what now (errors and hang-ups count as ready). */
int gr_io_ready(int fd, int what);

#endif
