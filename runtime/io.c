#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "cancel.h"
#include "clock.h"
#include "config.h"
#include "fdwait.h"
#include "pool.h"
#include "real.h"
#include "sched.h"

/* What a call learnt about its file once its attempt would have blocked. */
struct facts {
	int fd;		  /* the fd the call works on: the program's, or a
			     private dup after a close (fdwait.h) */
	int learnt;	  /* the fields below are set */
	int notry;	  /* the file has no GR_IO_TRY: poll, then GR_IO_READY */
	int socktry;	  /* but it is a socket: GR_IO_TRY_SOCKET */
	int plain;	  /* a regular file (or a bad fd, an accept that
			     cannot wait): the plain call, which does not
			     wait for readiness */
	int nonblock;	  /* the program set O_NONBLOCK */
	int64_t timeo;	  /* SO_RCVTIMEO / SO_SNDTIMEO of the call's
			     direction in ns, 0: none */
	int64_t deadline; /* from timeo, set at the first wait */
};

struct pooled {
	gr_io_op op;
	void *ctx;
	ssize_t r;
};

static void run_pooled(void *arg)
{
	struct pooled *p = arg;

	p->r = p->op(p->ctx, GR_IO_PLAIN);
}

ssize_t gr_io_file(gr_io_op op, void *ctx)
{
	struct pooled p = {op, ctx, 0};

	if (!gr_config.file_io_pool || gr_pool_run(run_pooled, &p) < 0)
		return op(ctx, GR_IO_PLAIN);
	return p.r;
}

struct file_call {
	struct gr_io *io;
	int fd;
};

static ssize_t file_op(void *ctx, enum gr_io_mode mode)
{
	struct file_call *c = ctx;

	return c->io->call(c->io, c->fd, mode);
}

/* The plain call, on the pool for a regular file when so configured. */
static ssize_t plain(struct gr_io *io, const struct facts *f)
{
	struct file_call c = {io, f->fd};

	if (io->kind == GR_IO_ANY && f->plain)
		return gr_io_file(file_op, &c);
	return io->call(io, f->fd, GR_IO_PLAIN);
}

int gr_io_ready(int fd, int what)
{
	struct pollfd p = {.fd = fd, .events = what == GR_FD_READ ? POLLIN : POLLOUT};

	return gr_real.poll(&p, 1, 0) != 0;
}

static int64_t timeo_ns(int fd, int opt)
{
	struct timeval tv;
	socklen_t len = sizeof(tv);

	if (getsockopt(fd, SOL_SOCKET, opt, &tv, &len) < 0)
		return 0;
	return tv.tv_sec < 0 || tv.tv_usec < 0 ? 0 : gr_ns_of(tv.tv_sec, tv.tv_usec, GR_USEC);
}

/* What kind of file fd is, from the number's facts or fstat (which sets
 * them); GR_FD_KIND_UNKNOWN when fstat fails (a bad fd). */
static enum gr_fd_kind kind_of(int fd)
{
	struct stat st;
	enum gr_fd_kind k = gr_fd_kind(fd);

	if (k != GR_FD_KIND_UNKNOWN)
		return k;
	if (fstat(fd, &st) < 0)
		return GR_FD_KIND_UNKNOWN;
	if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode) || S_ISDIR(st.st_mode))
		k = GR_FD_KIND_REGULAR;
	else
		k = S_ISSOCK(st.st_mode)   ? GR_FD_KIND_SOCKET
		    : S_ISFIFO(st.st_mode) ? GR_FD_KIND_FIFO
					   : GR_FD_KIND_OTHER;
	gr_fd_set_kind(fd, k);
	return k;
}

/* 1 for a regular file or a block device (no readiness, and a short
 * RWF_NOWAIT read means pages missing from the cache), or a bad fd (the
 * plain call says what is wrong), else 0. */
static int regular(int fd)
{
	enum gr_fd_kind k = kind_of(fd);

	return k == GR_FD_KIND_REGULAR || k == GR_FD_KIND_UNKNOWN;
}

/* Sets f up for a read or write from what is known of the file, so that
 * the first system call is the one that does the work: for a regular file
 * the plain call (1: nothing to wait for; but with the pool, what the page
 * cache has is taken at once first), for a socket the MSG_DONTWAIT one (a
 * cheaper call than preadv2, and there on every kernel), for a file that
 * refused RWF_NOWAIT a poll first. */
static int known_plain(const struct gr_io *io, struct facts *f)
{
	if (io->kind != GR_IO_ANY)
		return 0;
	switch (kind_of(f->fd)) {
	case GR_FD_KIND_REGULAR:
	case GR_FD_KIND_UNKNOWN:
		if (gr_config.file_io_pool)
			return 0;
		f->learnt = f->plain = 1;
		return 1;
	case GR_FD_KIND_SOCKET: f->notry = f->socktry = 1; return 0;
	default: f->notry = gr_fd_notry(f->fd); return 0;
	}
}

/* Fills in f after an attempt that would have blocked. 0, or -errno for
 * the call to fail with (accept on a non-socket). */
static int learn(const struct gr_io *io, struct facts *f)
{
	int fl, on = 0, sock = io->kind != GR_IO_ANY;
	socklen_t len = sizeof(on);

	f->learnt = 1;
	if (io->kind == GR_IO_ACCEPT) {
		/* accept on what is no listening socket fails at once. */
		if (getsockopt(f->fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) < 0)
			return -errno;
		if (!on) {
			f->plain = 1;
			return 0;
		}
	} else if (io->kind == GR_IO_ANY) {
		if (regular(f->fd)) {
			f->plain = 1;
			return 0;
		}
		sock = gr_fd_kind(f->fd) == GR_FD_KIND_SOCKET;
		f->socktry = sock && f->notry;
	}
	fl = gr_real.fcntl(f->fd, F_GETFL);
	if (fl < 0) {
		f->plain = 1;
		return 0;
	}
	f->nonblock = (fl & O_NONBLOCK) != 0;
	if (sock && !f->nonblock)
		f->timeo = timeo_ns(f->fd, io->what == GR_FD_READ ? SO_RCVTIMEO : SO_SNDTIMEO);
	return 0;
}

/* Whether a stream socket: MSG_WAITALL means nothing on the others. */
static int stream(int fd)
{
	int type = 0;
	socklen_t len = sizeof(type);

	return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM;
}

/* The way a wait for the call ended, as the call's answer: 0 to go on. */
static int waited(int w, const struct facts *f, ssize_t done)
{
	const struct gr_thread *self = gr_rt.cur;

	switch (w) {
	case 0: return 0;
	case -ETIMEDOUT: return -EAGAIN; /* socket(7): the timeout expired */
	case -EINTR:
		/* What went before a signal is the call's answer; a cancel
		 * acts at once. Else signal(7): restarted under SA_RESTART,
		 * unless the socket has a timeout. */
		if (done > 0 || self->cancel_kicked || f->timeo || !self->sig_restart)
			return -EINTR;
		return 0;
	default: return w;
	}
}

/* A part of a call that may go on: whether it does (1) or returns (0). */
static int go_on(struct gr_io *io, struct facts *f, size_t r, int *checked)
{
	switch (io->all) {
	case GR_IO_WRITE:
		if (!f->learnt)
			learn(io, f);
		if (f->nonblock)
			return 0;
		break;
	case GR_IO_WAITALL:
		if (!*checked && !stream(f->fd))
			return 0;
		*checked = 1;
		break;
	case GR_IO_MESSAGES:
		/* recvmmsg's timeout is looked at after each message. */
		if (io->until && gr_now() >= io->until)
			return 0;
		break;
	default: return 0;
	}
	io->advance(io, r);
	return 1;
}

/* What a file without a non-blocking attempt takes without blocking once
 * poll says it is writable: a FIFO a whole PIPE_BUF (a free page); a tty
 * fewer than WAKEUP_CHARS (256) queued bytes and some room, which a pty
 * counts in units of 256 bytes and other drivers in buffers of KBs: 128
 * bytes fit, also when ONLCR makes each newline two. */
#define TTY_READY_MAX 128

static size_t ready_max(int fd)
{
	return gr_fd_kind(fd) == GR_FD_KIND_FIFO ? PIPE_BUF : TTY_READY_MAX;
}

/* Whether the call learns O_NONBLOCK before its first attempt: a write to
 * a file without RWF_NOWAIT larger than what a poll vouches for, which, on
 * a non-blocking file, takes what fits in one plain call. */
static int learn_first(const struct gr_io *io, const struct facts *f)
{
	return f->notry && !f->socktry && io->what == GR_FD_WRITE && io->left > ready_max(f->fd);
}

static ssize_t attempt(struct gr_io *io, struct facts *f)
{
	if (!f->notry)
		return io->call(io, f->fd, GR_IO_TRY);
	if (f->socktry)
		return io->call(io, f->fd, GR_IO_TRY_SOCKET);
	if (!gr_io_ready(f->fd, io->what))
		return -EAGAIN;
	io->ready_max = ready_max(f->fd);
	return io->call(io, f->fd, GR_IO_READY);
}

static int unix_socket(int fd)
{
	int domain = 0;
	socklen_t len = sizeof(domain);

	return getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 && domain == AF_UNIX;
}

/* Whether MSG_PEEK | MSG_WAITALL waits for the whole length: on a stream
 * socket other than a unix one (which peeks at what is there), until
 * the peer shuts down or fails. */
static int peeks_all(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLRDHUP};

	return stream(fd) && !unix_socket(fd) && gr_real.poll(&p, 1, 0) == 0;
}

/* A loop with no event to wait for (MSG_PEEK | MSG_WAITALL waiting for
 * more while some is there, a unix connect waiting for room in a backlog)
 * looks again after a short sleep: 1 ms, doubling up to 20 ms, and never
 * past the socket timeout. 0 to look again, -ETIMEDOUT, or -EINTR. */
static int nap(const struct facts *f, int64_t *ns)
{
	int64_t until = gr_deadline_in(*ns);
	int r;

	if (f->deadline && f->deadline < until)
		until = f->deadline;
	r = gr_fd_nap(until);
	if (*ns < 20 * GR_MSEC)
		*ns *= 2;
	if (r == 0 && f->deadline && gr_now() >= f->deadline)
		return -ETIMEDOUT;
	return r;
}

ssize_t gr_io_run(struct gr_io *io)
{
	struct facts f = {.fd = io->fd};
	ssize_t done = 0, r;
	int checked = 0, fresh = 0;
	int64_t wait_ns = 1000000;

	if (known_plain(io, &f)) {
		r = plain(io, &f);
		goto out;
	}
	fresh = learn_first(io, &f);
	for (;;) {
		r = fresh ? -EAGAIN : attempt(io, &f);
		if (r == GR_IO_NOTRY) {
			f.notry = fresh = 1;
			gr_fd_set_notry(f.fd);
			r = -EAGAIN;
		}
		if (r == -ENOTSOCK && f.socktry && io->kind == GR_IO_ANY && done == 0) {
			/* The number names another file than the socket it
			 * was: learnt again. */
			gr_fd_set_kind(f.fd, GR_FD_KIND_UNKNOWN);
			f = (struct facts){.fd = f.fd};
			if (known_plain(io, &f)) {
				r = plain(io, &f);
				goto out;
			}
			fresh = learn_first(io, &f);
			continue;
		}
		if (r >= 0 && (io->kind == GR_IO_ACCEPT || io->all == GR_IO_PEEKALL)) {
			if (io->kind == GR_IO_ACCEPT || r == 0 || (size_t)r >= io->left ||
			    !peeks_all(f.fd))
				goto out;
			if (!f.learnt)
				learn(io, &f);
			if (f.nonblock)
				goto out;
			if (f.timeo && !f.deadline)
				f.deadline = gr_deadline_in(f.timeo);
			if (waited(nap(&f, &wait_ns), &f, r) < 0)
				goto out; /* what it peeked */
			continue;
		}
		if (r >= 0) {
			done += r;
			if (r == 0 || (size_t)r >= io->left)
				break;
			if (io->all != GR_IO_PART) {
				if (go_on(io, &f, (size_t)r, &checked))
					continue;
				break;
			}
			/* A short read from the page cache: the rest of a
			 * regular file comes from the disk, as in one read. */
			if (io->kind == GR_IO_ANY && !f.notry && regular(f.fd)) {
				f.plain = 1;
				do {
					io->advance(io, (size_t)r);
					r = plain(io, &f);
					if (r > 0)
						done += r;
				} while (r > 0 && (size_t)r == io->ask && (size_t)r < io->left);
			}
			break;
		}
		if (r != -EAGAIN)
			goto failed;
		/* It would block. */
		if (!f.learnt && (r = learn(io, &f)) < 0)
			goto failed;
		if (f.plain || (f.nonblock && f.notry && !f.socktry)) {
			r = plain(io, &f);
			if (r < 0)
				goto failed;
			done += r;
			break;
		}
		if (f.nonblock) {
			r = -EAGAIN;
			goto failed;
		}
		if (fresh) { /* learnt that it has no try: poll it first */
			fresh = 0;
			continue;
		}
		if (f.timeo && !f.deadline)
			f.deadline = gr_deadline_in(f.timeo);
		r = gr_fd_wait_hold(&f.fd, io->what, f.deadline);
		if (r == -EPERM) { /* not pollable after all: a regular file */
			f.plain = 1;
			r = plain(io, &f);
			if (r < 0)
				goto failed;
			done += r;
			break;
		}
		if ((r = waited((int)r, &f, done)) < 0)
			goto failed;
	}
	r = done;
	goto out;
failed:
	/* After a part, the part is the answer (the error comes again at
	 * the next call), unless a cancel ends the thread. */
	if (done > 0 && !gr_rt.cur->cancel_kicked)
		r = done;
out:
	if (f.fd != io->fd)
		gr_fd_release(f.fd);
	return r;
}

/* Started non-blocking, as there is no per-call way to make connect not
 * block: F_SETFL on the open file description for this one call, put
 * back before any other code of the process runs (one OS thread). A
 * process sharing the socket could see the flag meanwhile; a socket is
 * connected before it is shared, nearly always. */
static int start_connect(int fd, int fl, const struct sockaddr *addr, socklen_t len)
{
	int r, e = 0;

	if (gr_real.fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	r = gr_real.connect(fd, addr, len);
	if (r < 0)
		e = errno;
	gr_real.fcntl(fd, F_SETFL, fl);
	return r < 0 ? -e : 0;
}

int gr_io_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct facts f = {.fd = fd, .learnt = 1};
	int fl = gr_real.fcntl(fd, F_GETFL), r, e = 0;
	socklen_t elen = sizeof(e);
	int64_t wait_ns = 1000000;

	if (fl < 0 || (fl & O_NONBLOCK))
		return gr_real.connect(fd, addr, len) < 0 ? -errno : 0;
	f.timeo = timeo_ns(fd, SO_SNDTIMEO);
	if (f.timeo)
		f.deadline = gr_deadline_in(f.timeo);
	for (;;) {
		r = start_connect(fd, fl, addr, len);
		if (r != -EAGAIN || !unix_socket(fd))
			break;
		/* A unix listener's backlog is full: the blocking call waits
		 * for room, of which no event of ours tells; look again. */
		r = nap(&f, &wait_ns);
		if (r == -ETIMEDOUT)
			return -EAGAIN;
		if ((r = waited(r, &f, 0)) < 0)
			return r;
	}
	if (r != -EINPROGRESS)
		return r;
	do
		r = waited(gr_fd_wait_hold(&f.fd, GR_FD_WRITE, f.deadline), &f, 0);
	while (r == 0 && !gr_io_ready(f.fd, GR_FD_WRITE));
	if (r == 0 && getsockopt(f.fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0)
		r = -errno;
	/* Connected: the kernel marks the socket so (a later connect is
	 * EISCONN) only in a connect call that sees it, as the blocking one
	 * does at its end; one more non-blocking call does it (its 0 says
	 * nothing new). */
	if (r == 0 && e == 0)
		(void)start_connect(f.fd, fl, addr, len);
	if (f.fd != fd)
		gr_fd_release(f.fd);
	if (r == -EAGAIN)
		return -EINPROGRESS; /* socket(7): SO_SNDTIMEO expired */
	return r < 0 ? r : -e;
}
