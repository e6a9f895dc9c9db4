#include "fdwait.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "clock.h"
#include "fork.h"
#include "log.h"
#include "real.h"
#include "sched.h"
#include "wait.h"

/* Wait-queue keys must not move while threads wait, and the fd table grows
 * by realloc; so the keys are addresses in a reserved, never-accessible
 * range (two per fd: readers, writers), which no object of the program's
 * can share. 2^22 fds: above Linux's largest nr_open default (2^20). */
#define MAX_FDS (1 << 22)

/* One per fd that was ever waited on; the table grows with the largest fd. */
struct fdstate {
	uv_poll_t *poll;	/* NULL until the first wait; freed by close_cb */
	int watching;		/* UV_READABLE / UV_WRITABLE the poll is started with */
	unsigned char known;	/* the socket facts below are valid */
	unsigned char nonblock; /* the program set O_NONBLOCK */
	int64_t timeo[2];	/* SO_RCVTIMEO, SO_SNDTIMEO in ns (0: none) */
	struct gr_thread *own;	/* the thread that made this fd to wait on
				   (gr_fd_own), until gr_fd_closing */
};

static struct fdstate *table;
static int table_len;
static char *keys;
unsigned gr_fd_waiters;

static const void *key(int fd, int what)
{
	return keys + 2 * (size_t)fd + (what == GR_FD_WRITE);
}

static struct fdstate *state_of(int fd)
{
	if (!keys) {
		void *k = mmap(NULL, 2 * (size_t)MAX_FDS, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (k == MAP_FAILED)
			return NULL;
		keys = k;
	}
	if (fd >= table_len) {
		int n = table_len ? table_len : 64;
		while (n <= fd)
			n *= 2;
		struct fdstate *t = realloc(table, (size_t)n * sizeof(*t));
		if (!t)
			return NULL;
		memset(t + table_len, 0, (size_t)(n - table_len) * sizeof(*t));
		table = t;
		table_len = n;
	}
	return &table[fd];
}

static void close_cb(uv_handle_t *h)
{
	free(h);
}

static void on_ready(uv_poll_t *h, int status, int events);

/* Watch exactly the events somebody waits for: epoll is level-triggered,
 * and an event nobody waits for would wake the loop again and again. It is
 * called when an event arrives, not when a wait ends: a thread that reads,
 * answers and waits again (an echo, a request loop) keeps its fd watched
 * without two epoll_ctl calls per message. */
static void rewatch(int fd)
{
	struct fdstate *s = &table[fd];
	int want = (gr_first_waiter(key(fd, GR_FD_READ)) ? UV_READABLE : 0) |
		   (gr_first_waiter(key(fd, GR_FD_WRITE)) ? UV_WRITABLE : 0);

	if (!s->poll || want == s->watching)
		return;
	s->watching = want;
	if (want)
		uv_poll_start(s->poll, want, on_ready);
	else
		uv_poll_stop(s->poll);
}

static void on_ready(uv_poll_t *h, int status, int events)
{
	int fd = (int)(intptr_t)h->data;

	/* An error counts as ready for both: the retried call reports it. */
	if (status < 0 || (events & (UV_READABLE | UV_DISCONNECT)))
		gr_wake_addr(key(fd, GR_FD_READ), GR_WAKE_ALL, GR_BITSET_ANY);
	if (status < 0 || (events & UV_WRITABLE))
		gr_wake_addr(key(fd, GR_FD_WRITE), GR_WAKE_ALL, GR_BITSET_ANY);
	rewatch(fd);
}

int gr_fd_wait(int fd, int what, int64_t deadline)
{
	struct fdstate *s;
	int ev = what == GR_FD_READ ? UV_READABLE : UV_WRITABLE;
	int r;

	if (fd < 0 || fd >= MAX_FDS)
		return -EBADF;
	s = state_of(fd);
	if (!s)
		return -ENOMEM;
	if (!s->poll) {
		uv_poll_t *p = malloc(sizeof(*p));
		if (!p)
			return -ENOMEM;
		/* uv_poll_init makes the fd non-blocking; the program must
		 * keep seeing (and other processes sharing the file keep
		 * getting) the flags it had, and polling does not need it. */
		int fl = gr_real.fcntl(fd, F_GETFL);
		gr_rt.inside = 1;
		r = uv_poll_init(&gr_rt.loop, p, fd);
		gr_rt.inside = 0;
		if (r == 0 && fl >= 0 && !(fl & O_NONBLOCK))
			gr_real.fcntl(fd, F_SETFL, fl);
		if (r < 0) {
			free(p);
			return r; /* -EPERM for a regular file, -EBADF */
		}
		p->data = (void *)(intptr_t)fd;
		s->poll = p;
		s->watching = 0;
	}
	if (!(s->watching & ev)) {
		s->watching |= ev;
		uv_poll_start(s->poll, s->watching, on_ready);
	}
	gr_fd_waiters++;
	r = gr_wait_addr(key(fd, what), GR_BITSET_ANY, GR_WAIT_FD, (void *)(intptr_t)fd, deadline);
	gr_fd_waiters--;
	return r;
}

static int64_t timeo_ns(int fd, int opt)
{
	struct timeval tv;
	socklen_t len = sizeof(tv);

	if (getsockopt(fd, SOL_SOCKET, opt, &tv, &len) < 0)
		return 0;
	return tv.tv_sec < 0 || tv.tv_usec < 0 ? 0 : gr_ns_of(tv.tv_sec, tv.tv_usec, GR_USEC);
}

int gr_fd_socket_facts(int fd, int *nonblock, int64_t *rcvtimeo, int64_t *sndtimeo)
{
	struct fdstate *s = fd >= 0 && fd < MAX_FDS ? state_of(fd) : NULL;

	if (!s || !s->known) {
		int fl = gr_real.fcntl(fd, F_GETFL);
		struct fdstate tmp;
		if (fl < 0)
			return -errno;
		if (!s)
			s = &tmp;
		s->nonblock = (fl & O_NONBLOCK) != 0;
		s->timeo[0] = timeo_ns(fd, SO_RCVTIMEO);
		s->timeo[1] = timeo_ns(fd, SO_SNDTIMEO);
		s->known = s != &tmp;
		*nonblock = s->nonblock;
		*rcvtimeo = s->timeo[0];
		*sndtimeo = s->timeo[1];
		return 0;
	}
	*nonblock = s->nonblock;
	*rcvtimeo = s->timeo[0];
	*sndtimeo = s->timeo[1];
	return 0;
}

void gr_fd_forget(int fd)
{
	if (fd >= 0 && fd < table_len)
		table[fd].known = 0;
}

void gr_fd_closing(int fd)
{
	struct fdstate *s;
	struct gr_thread *t;

	if (fd < 0 || fd >= table_len)
		return;
	s = &table[fd];
	s->known = 0;
	s->own = NULL;
	if (!s->poll)
		return;
	while ((t = gr_first_waiter(key(fd, GR_FD_READ))))
		gr_wake_waiter(t, -EBADF);
	while ((t = gr_first_waiter(key(fd, GR_FD_WRITE))))
		gr_wake_waiter(t, -EBADF);
	gr_rt.inside = 1;
	uv_poll_stop(s->poll);
	uv_close((uv_handle_t *)s->poll, close_cb);
	gr_rt.inside = 0;
	s->poll = NULL;
	s->watching = 0;
}

void gr_fd_wait_abandoned(int fd)
{
	gr_fd_waiters--;
	if (fd >= 0 && fd < table_len && table[fd].own == gr_rt.cur) {
		gr_fd_closing(fd);
		gr_real.close(fd);
	}
}

void gr_fd_own(int fd)
{
	struct fdstate *s = fd >= 0 && fd < MAX_FDS ? state_of(fd) : NULL;

	if (s)
		s->own = gr_rt.cur;
}

void gr_fd_after_fork(void)
{
	/* No thread waits on an fd any more. Forget every poll (the loop
	 * already has its own epoll set, so stopping one changes nothing for
	 * the parent), and close what dead threads opened for their waits. */
	for (int fd = 0; fd < table_len; fd++) {
		struct fdstate *s = &table[fd];
		if (s->poll) {
			uv_poll_stop(s->poll);
			uv_close((uv_handle_t *)s->poll, close_cb);
			s->poll = NULL;
			s->watching = 0;
		}
		if (s->own && s->own != gr_rt.cur) {
			gr_real.close(fd);
			s->own = NULL;
			s->known = 0;
		}
	}
	gr_fd_waiters = 0;
}

int gr_fd_wait_any(const struct pollfd *fds, unsigned long n, int64_t deadline)
{
	int ep, r = 0;

	/* One fd, one direction: wait on it directly. */
	if (n == 1 && fds[0].fd >= 0 &&
	    ((fds[0].events & (POLLIN | POLLOUT)) == POLLIN ||
	     (fds[0].events & (POLLIN | POLLOUT)) == POLLOUT)) {
		r = gr_fd_wait(fds[0].fd, (fds[0].events & POLLIN) ? GR_FD_READ : GR_FD_WRITE,
			       deadline);
		return r == -EPERM || r == -EBADF ? 0 : r; /* poll reports those */
	}
	/* Several: an epoll set of them is readable when one is ready, and is
	 * itself an fd the loop can wait on. */
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return -errno;
	for (unsigned long i = 0; i < n; i++) {
		struct epoll_event ev = {0};
		if (fds[i].fd < 0)
			continue;
		ev.events = (uint32_t)(fds[i].events & (POLLIN | POLLOUT | POLLPRI | POLLRDHUP));
		ev.data.fd = fds[i].fd;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i].fd, &ev) < 0 && errno != EEXIST) {
			r = 0; /* not pollable (a regular file is always ready): look again */
			goto out;
		}
	}
	gr_fd_own(ep);
	r = gr_fd_wait(ep, GR_FD_READ, deadline);
	gr_fd_closing(ep);
out:
	gr_real.close(ep);
	return r;
}
