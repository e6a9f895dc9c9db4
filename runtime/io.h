/* Green I/O (io.c): a call that would block parks its green thread on the
 * fd's readiness (fdwait.c) instead of blocking the OS thread.
 *
 * The first attempt is the only system call when the file is ready. What
 * the attempt is comes from the kind of file the number names (fdwait.h:
 * one fstat at the first call on a number, then kept exactly): on a pipe,
 * an eventfd, a tty... preadv2/pwritev2(RWF_NOWAIT), which they answer
 * without blocking; on a socket recvfrom/sendto with MSG_DONTWAIT (also a
 * socket call's); on a regular file the plain call, which never waits for
 * readiness (with GREENIFY_FILE_IO=pool: RWF_NOWAIT from the page cache,
 * the rest on the pool); on a file that refused RWF_NOWAIT (an older
 * kernel's pipe) a poll, then the call. No fd's flags are changed
 * (connect aside: see gr_io_connect), so the program, and any process
 * sharing the file, see exactly what they set. Only when the attempt
 * would block does the call learn what it needs (flags are per open file
 * description, which the program may change through any of its fds, or
 * another process: asked each time, never kept): O_NONBLOCK set by the
 * program gives its EAGAIN; SO_RCVTIMEO and SO_SNDTIMEO end the wait with
 * EAGAIN as socket(7) says. A blocking write goes on until everything is
 * written, a MSG_WAITALL receive on a stream until the buffer is full, as
 * the kernel's do. */
#ifndef GR_IO_H
#define GR_IO_H

#include <sys/socket.h>
#include <sys/types.h>

enum gr_io_mode {
	GR_IO_PLAIN,	  /* the call as the program made it */
	GR_IO_TRY,	  /* an attempt that cannot block (RWF_NOWAIT,
			     MSG_DONTWAIT); GR_IO_NOTRY if the file has none */
	GR_IO_READY,	  /* the file polled ready and has no such attempt: the
			     plain call, writing at most ready_max bytes (what a
			     ready tty or FIFO takes without blocking) */
	GR_IO_TRY_SOCKET, /* read/write on a socket whose kernel has no
			     RWF_NOWAIT for it: the same as recv/send with
			     MSG_DONTWAIT */
};

/* A GR_IO_TRY the file does not support (EOPNOTSUPP to RWF_NOWAIT): not an
 * errno value. */
#define GR_IO_NOTRY (-4096)

enum gr_io_kind {
	GR_IO_ANY,    /* read, write, readv, writev: any kind of file */
	GR_IO_SOCKET, /* recv, send and their kin: a socket */
	GR_IO_ACCEPT, /* accept: tried only once poll says a connection waits */
};

enum gr_io_all {
	GR_IO_PART,	/* what is there (a read) */
	GR_IO_WRITE,	/* a blocking write: everything */
	GR_IO_WAITALL,	/* MSG_WAITALL on a stream socket: everything */
	GR_IO_PEEKALL,	/* MSG_WAITALL | MSG_PEEK on a stream: until the whole
			   length can be peeked at once */
	GR_IO_MESSAGES, /* recvmmsg: left counts messages; until all came, or
			   until (looked at after each) has passed */
};

/* One call, described by the hook that makes it (embedded in its own
 * arguments). */
struct gr_io {
	int fd;		    /* the program's fd */
	unsigned char what; /* GR_FD_READ or GR_FD_WRITE */
	unsigned char kind; /* enum gr_io_kind */
	unsigned char all;  /* enum gr_io_all */
	size_t left;	    /* bytes still to transfer */
	size_t ask;	    /* bytes the next attempt asks for: left, or less
			       when a vector is taken a window at a time */
	size_t ready_max;   /* for GR_IO_READY: at most this many to write */
	int64_t until;	    /* GR_IO_MESSAGES: monotonic ns, 0: none */
	/* One attempt in mode on fd (the program's, or a private dup of its
	 * file after a close: fdwait.h); what the call returns, or -errno. */
	ssize_t (*call)(struct gr_io *io, int fd, enum gr_io_mode mode);
	/* n bytes went: the next attempt is for the rest (left too). */
	void (*advance)(struct gr_io *io, size_t n);
};

/* Makes the call as the blocking call would complete. Returns its result
 * (bytes, or accept's fd) or -errno: -EAGAIN for O_NONBLOCK or when a
 * socket timeout expired, -EINTR when a signal handler (without
 * SA_RESTART, or with a socket timeout) or a cancel interrupted the wait
 * before anything was transferred. Not a cancellation point itself: the
 * hooks mark those. */
ssize_t gr_io_run(struct gr_io *io);

/* connect() of a blocking socket: started non-blocking, then waits for
 * the connection (or, for a unix socket whose listener's backlog is full,
 * for room in it) as the blocking call does. 0 or -errno: -EINPROGRESS
 * when SO_SNDTIMEO expired on a TCP connect, -EAGAIN on a unix one. */
int gr_io_connect(int fd, const struct sockaddr *addr, socklen_t len);

/* Whether poll says fd is ready for what (GR_FD_READ or GR_FD_WRITE)
 * now, an error or hang-up included. */
int gr_io_ready(int fd, int what);

/* For calls on regular files that the hooks make themselves (pread...). */
typedef ssize_t (*gr_io_op)(void *ctx, enum gr_io_mode mode);

/* A call on a regular file: on the thread pool with GREENIFY_FILE_IO=pool
 * (the green thread parks meanwhile), else made directly. */
ssize_t gr_io_file(gr_io_op op, void *ctx);

#endif
