#include "fdwait.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>

#include "clock.h"
#include "fork.h"
#include "log.h"
#include "ownfd.h"
#include "real.h"
#include "sched.h"
#include "signal.h"

/* One parked wait: of a read or write (one node), or of a poll (a node per
 * entry). The thread's wait_obj points at it while it is parked, so an
 * event for a wait the thread is no longer in (it timed out, or a signal
 * handler runs in it and waits itself) wakes nothing. */
struct waiter {
	struct gr_thread *t;
	int active;	     /* still waiting: nobody woke it yet */
	struct node *nodes;  /* its nodes */
	unsigned long count; /* how many */
};

/* One fd a wait is for, on that fd's list. */
struct node {
	struct node *next, *prev; /* the fd's list, oldest first */
	struct waiter *w;	  /* the wait it belongs to */
	int fd;			  /* the list it is on: the program's fd, or
				     the private dup its waiters moved to */
	uint32_t events;	  /* EPOLLIN, EPOLLOUT, ... it waits for */
	unsigned char excl;	  /* a read's or write's wait: readiness goes
				     to one such waiter at a time */
	unsigned char linked;	  /* on the fd's list */
};

/* One per fd number ever waited on; the table grows with the largest. */
struct fdstate {
	struct node *head, *tail; /* waiters, oldest first */
	uint32_t gen;		  /* stamped into the number's epoll entry */
	uint32_t armed;		  /* events the entry is armed with; 0 once
				     they fired (EPOLLONESHOT) */
	int refs;		  /* holds on this number while priv */
	unsigned char added;	  /* an entry stamped gen is in the set */
	unsigned char priv;	  /* a private dup made by gr_fd_closing */
	unsigned char kind;	  /* enum gr_fd_kind */
	unsigned char notry;	  /* the file refused RWF_NOWAIT (gr_fd_notry) */
	struct gr_thread *own;	  /* the thread that made this fd to wait on
				     (gr_fd_own), until gr_fd_closing */
};

/* Numbers above this are refused (the kernel's nr_open is at most 2^30). */
#define MAX_FDS (1 << 30)
/* A poll of up to this many fds keeps its nodes on the stack. */
#define STACK_NODES 16
/* How often a wait that has no epoll entry (the set refused the fd) looks
 * again: the kernel's limit on entries was reached, or the fd is an epoll
 * set nested too deep. */
#define RETRY_NS (2 * 1000000LL)

static struct fdstate *table;
static int table_len;
static int ep = -1;	  /* the runtime's epoll set */
static uv_poll_t ep_poll; /* the loop's watcher of ep */
unsigned gr_fd_waiters;

static struct fdstate *state_of(int fd)
{
	if (fd < 0 || fd >= MAX_FDS)
		return NULL;
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

static struct fdstate *known(int fd)
{
	return fd >= 0 && fd < table_len ? &table[fd] : NULL;
}

/* What a call learnt about the file under the number: gone with it. */
static void forget_facts(struct fdstate *s)
{
	s->kind = GR_FD_KIND_UNKNOWN;
	s->notry = 0;
}

/* epoll_ctl with errno kept as it was: 0 or -errno. */
static int ctl(int op, int fd, uint32_t events, uint32_t gen)
{
	struct epoll_event ev = {.events = events, .data.u64 = (uint64_t)gen << 32 | (uint32_t)fd};
	int saved = errno, r = 0;

	if (epoll_ctl(ep, op, fd, &ev) < 0)
		r = -errno;
	errno = saved;
	return r;
}

/* The events the fd's entry must be armed with: those of its active
 * waiters, leaving out the exclusive ones of the directions in skip. */
static uint32_t wanted(const struct fdstate *s, uint32_t skip)
{
	uint32_t u = 0;

	for (const struct node *n = s->head; n; n = n->next)
		if (n->w->active && !(n->excl && (n->events & skip)))
			u |= n->events;
	return u;
}

/* Arms fd's entry for its waiters. force: with a system call even when
 * the entry looks armed already, which is what finds out that the number
 * names another file now (a wait calls it so on its way in). 0 or -errno
 * (-EPERM: fd cannot be polled; -EBADF). */
static int arm(int fd, int force, uint32_t skip)
{
	struct fdstate *s = &table[fd];
	uint32_t want = wanted(s, skip);
	int r;

	if (!want || (!force && (s->armed & want) == want))
		return 0;
	if (s->added) {
		r = ctl(EPOLL_CTL_MOD, fd, want | EPOLLONESHOT, s->gen);
		if (r != -ENOENT) {
			s->armed = r == 0 ? want : 0;
			return r;
		}
		/* Another file under the number: events of the old file's
		 * entry, if it lives on elsewhere, are dropped from now on. */
		s->added = 0;
		s->gen++;
	}
	r = ctl(EPOLL_CTL_ADD, fd, want | EPOLLONESHOT, s->gen);
	if (r == -EEXIST) /* this file's entry, added before a close we saw */
		r = ctl(EPOLL_CTL_MOD, fd, want | EPOLLONESHOT, s->gen);
	s->added = r == 0;
	s->armed = r == 0 ? want : 0;
	return r;
}

static void link_node(struct node *n)
{
	struct fdstate *s = &table[n->fd];

	n->linked = 1;
	n->next = NULL;
	n->prev = s->tail;
	if (s->tail)
		s->tail->next = n;
	else
		s->head = n;
	s->tail = n;
}

static void unlink_node(struct node *n)
{
	struct fdstate *s = &table[n->fd];

	if (!n->linked)
		return;
	n->linked = 0;
	if (n->prev)
		n->prev->next = n->next;
	else
		s->head = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else
		s->tail = n->prev;
	n->next = n->prev = NULL;
}

/* Whether w's thread is in that wait now, so that waking it ends it. */
static int in_wait(const struct waiter *w)
{
	const struct gr_thread *t = w->t;

	return t->wait_obj == w &&
	       (t->state == GR_PARKED || (t->state == GR_RUNNABLE && t->interrupted));
}

static void wake(struct waiter *w, int result)
{
	w->active = 0;
	gr_wake(w->t, result);
}

/* A cancel or a signal that came while the thread ran between two tries
 * of its call ends the wait before it starts (the kernel looks for them
 * before it sleeps): -EINTR, else 0. */
static int interrupted_before(void)
{
	struct gr_thread *self = gr_rt.cur;

	if (self->cancel_point && self->cancel_pending && !self->cancel_disabled) {
		self->cancel_kicked = 1; /* as gr_cancel does to a parked thread */
		self->sig_restart = 0;
		return -EINTR;
	}
	return gr_signal_interrupted() > 0 ? -EINTR : 0;
}

/* Parks in the wait w. -EINTR also when a handler ran in the thread as the
 * wait ended otherwise (it runs on the thread's way back, and the wait's
 * own result would hide it); a real wake-up with data is then retried or
 * not as after any signal. */
static int park(struct waiter *w, enum gr_wait why, int64_t deadline)
{
	struct gr_thread *self = gr_rt.cur;
	unsigned handled = self->handled;
	int r;

	gr_fd_waiters += why == GR_WAIT_FD;
	r = gr_park(why, w, deadline);
	gr_fd_waiters -= why == GR_WAIT_FD;
	if (self->handled != handled && (r == 0 || (r == -ETIMEDOUT && why == GR_WAIT_SLEEP)))
		r = -EINTR;
	if (w)
		w->active = 0;
	return r;
}

int gr_fd_nap(int64_t until)
{
	int r = interrupted_before();

	if (r == 0)
		r = park(NULL, GR_WAIT_SLEEP, until);
	return r == -ETIMEDOUT ? 0 : r;
}

/* The fd's entry fired with events (and is disarmed now). */
static void dispatch(int fd, uint32_t events)
{
	struct fdstate *s = &table[fd];
	uint32_t woke = 0; /* directions whose first exclusive waiter woke */
	int err = (events & (EPOLLERR | EPOLLHUP)) != 0;

	s->armed = 0;
	for (struct node *n = s->head; n; n = n->next) {
		struct waiter *w = n->w;
		if (!w->active || !(events & (n->events | EPOLLERR | EPOLLHUP)))
			continue;
		if (n->excl && !err && (n->events & woke))
			continue; /* the one woken takes it; it arms for us */
		if (!in_wait(w)) {
			if (w->t->wait_obj == w)
				w->active = 0; /* timed out: leaving anyway */
			continue;
		}
		wake(w, 0);
		if (n->excl)
			woke |= n->events;
	}
	arm(fd, 0, woke);
}

static void on_ready(uv_poll_t *h, int status, int events)
{
	struct epoll_event ev[64];
	int saved = errno, n;

	(void)h;
	(void)status;
	(void)events;
	/* One batch per loop turn: an entry armed again for waiters that
	 * were not woken is looked at on the next turn, after the woken ones
	 * ran (and took what made it ready). */
	n = gr_real.epoll_wait(ep, ev, 64, 0);
	for (int i = 0; i < n; i++) {
		int fd = (int)(uint32_t)ev[i].data.u64;
		struct fdstate *s = known(fd);
		if (s && s->added && s->gen == (uint32_t)(ev[i].data.u64 >> 32))
			dispatch(fd, ev[i].events);
	}
	errno = saved;
}

static void moved_ep(int from, int to)
{
	(void)from;
	ep = to;
	gr_own_fd_rewatch(ep_poll.loop, &ep_poll.io_watcher, to);
}

int gr_fd_init(struct uv_loop_s *loop)
{
	int r;

	ep = gr_own_fd_high(epoll_create1(EPOLL_CLOEXEC));
	if (ep < 0)
		return -errno;
	gr_own_fd_add(ep);
	gr_own_fd_mover(ep, moved_ep);
	r = uv_poll_init(loop, &ep_poll, ep);
	if (r == 0)
		r = uv_poll_start(&ep_poll, UV_READABLE, on_ready);
	/* The timerfd keeps the loop alive; this watcher must not count
	 * as a handle the loop watches, or the hub would never wait on
	 * futex words itself (hub_may_wait_itself): gr_fd_waiters says
	 * whether a thread waits for the set. */
	if (r == 0)
		uv_unref((uv_handle_t *)&ep_poll);
	if (r < 0) {
		gr_own_fd_del(ep);
		gr_real.close(ep);
		ep = -1;
	}
	return r;
}

/* The set refused fd for a reason that has nothing to do with the fd
 * (its limit on entries, memory, nesting): a deadline soon, so that the
 * caller looks again. */
static int64_t retry_deadline(int64_t deadline)
{
	int64_t soon = gr_now() + RETRY_NS;

	return deadline && deadline < soon ? deadline : soon;
}

/* What a wait cut short by retry_deadline answers: 0 (look again) unless
 * the caller's own deadline has come. */
static int retried(int r, int64_t deadline)
{
	return r == -ETIMEDOUT && (!deadline || gr_now() < deadline) ? 0 : r;
}

static int refused_for_the_fd(int r)
{
	return r == -EPERM || r == -EBADF;
}

int gr_fd_wait_hold(int *fd, int what, int64_t deadline)
{
	struct node n = {.fd = *fd, .excl = 1};
	struct waiter w = {gr_rt.cur, 1, &n, 1};
	int64_t until = deadline;
	int r;

	n.w = &w;
	n.events = what == GR_FD_READ ? EPOLLIN : EPOLLOUT;
	if (*fd < 0 || *fd >= MAX_FDS)
		return -EBADF;
	if ((r = interrupted_before()) < 0)
		return r;     /* (before any node is linked: a handler may not return) */
	if (!state_of(*fd)) { /* no memory for its state: look again soon */
		r = park(NULL, GR_WAIT_SLEEP, retry_deadline(deadline));
		return r == -EINTR ? r : retried(r, deadline);
	}
	link_node(&n);
	r = arm(*fd, 1, 0);
	if (refused_for_the_fd(r)) {
		unlink_node(&n);
		return r;
	}
	if (r < 0)
		until = retry_deadline(deadline);
	r = park(&w, GR_WAIT_FD, until);
	unlink_node(&n);
	if (table[n.fd].head)
		arm(n.fd, 0, 0); /* the next waiter's turn */
	if (n.fd != *fd) {
		gr_fd_release(*fd); /* a hold we had, on a dup now replaced */
		*fd = n.fd;
	}
	return until != deadline ? retried(r, deadline) : r;
}

int gr_fd_wait(int fd, int what, int64_t deadline)
{
	int f = fd, r = gr_fd_wait_hold(&f, what, deadline);

	if (f != fd)
		gr_fd_release(f);
	return r;
}

void gr_fd_wait_cancel(void *wait_obj)
{
	struct waiter *w = wait_obj;

	w->active = 0;
	for (unsigned long i = 0; i < w->count; i++) {
		struct node *n = &w->nodes[i];
		if (!n->linked)
			continue;
		unlink_node(n);
		if (table[n->fd].head)
			arm(n->fd, 0, 0);
	}
}

void gr_fd_release(int fd)
{
	struct fdstate *s = known(fd);

	if (!s || !s->priv || --s->refs > 0)
		return;
	if (s->added)
		ctl(EPOLL_CTL_DEL, fd, 0, 0);
	s->priv = 0;
	s->added = 0;
	s->armed = 0;
	s->gen++;
	forget_facts(s);
	gr_own_fd_del(fd);
	gr_real.close(fd);
}

/* The events of a pollfd that epoll can watch (the same bits). */
#define POLL_EVENTS                                                                                \
	(POLLIN | POLLPRI | POLLOUT | POLLRDNORM | POLLRDBAND | POLLWRNORM | POLLWRBAND |          \
	 POLLMSG | POLLRDHUP)

int gr_fd_wait_any(const struct pollfd *fds, unsigned long n, int64_t deadline)
{
	struct waiter w = {gr_rt.cur, 1, NULL, n};
	struct node local[STACK_NODES], *nodes = local;
	unsigned long i;
	int r, retry = 0;

	if ((r = interrupted_before()) < 0)
		return r;
	if (n > STACK_NODES) {
		nodes = malloc(n * sizeof(*nodes));
		if (!nodes)
			return -ENOMEM;
	}
	w.nodes = nodes;
	for (i = 0; i < n; i++) {
		nodes[i] = (struct node){.fd = -1};
		if (fds[i].fd < 0 || !state_of(fds[i].fd)) {
			retry |= fds[i].fd >= 0; /* no memory for its state */
			continue;
		}
		/* An entry with no events still waits for an error or a
		 * hang-up (which epoll reports unasked). */
		uint32_t ev = ((uint32_t)fds[i].events & POLL_EVENTS) | EPOLLERR | EPOLLHUP;
		nodes[i] = (struct node){.w = &w, .fd = fds[i].fd, .events = ev};
		link_node(&nodes[i]);
	}
	for (i = 0; i < n; i++) {
		if (nodes[i].fd < 0)
			continue;
		r = arm(nodes[i].fd, 1, 0);
		if (r < 0) {
			/* Not pollable (poll said what it had to say about
			 * it), or refused by the set for its own reasons. */
			retry |= !refused_for_the_fd(r);
			unlink_node(&nodes[i]);
			nodes[i].fd = -1;
		}
	}
	r = park(&w, GR_WAIT_FD, retry ? retry_deadline(deadline) : deadline);
	for (i = 0; i < n; i++) {
		if (nodes[i].fd < 0)
			continue;
		unlink_node(&nodes[i]);
		if (table[nodes[i].fd].head)
			arm(nodes[i].fd, 0, 0);
		if (nodes[i].fd != fds[i].fd)
			gr_fd_release(nodes[i].fd);
	}
	if (nodes != local)
		free(nodes);
	if (retry)
		r = retried(r, deadline);
	return r == -EBADF ? 0 : r; /* closed and no dup: poll says POLLNVAL */
}

/* A dup of fd for its waiters, out of the program's numbering (ownfd.h),
 * or -1. */
static int private_dup(int fd)
{
	int m = gr_own_fd_dup(fd);

	gr_own_fd_add(m);
	return m;
}

/* fd goes away with waiters on it: they go on waiting on the same file,
 * under a private dup. Without one (no free number), they end with EBADF,
 * as if the file were gone. */
static void move_waiters(int fd)
{
	int saved = errno, m = private_dup(fd);
	struct fdstate *s, *d = m >= 0 ? state_of(m) : NULL;
	struct node *n, *next;

	errno = saved;
	s = &table[fd]; /* after state_of, which may move the table */
	if (!d) {
		if (m >= 0) {
			gr_own_fd_del(m);
			gr_real.close(m);
		}
		for (n = s->head; n; n = n->next)
			if (n->w->active && in_wait(n->w))
				wake(n->w, -EBADF);
		return;
	}
	/* The entry would outlive the number: the dup keeps the file. */
	if (s->added)
		ctl(EPOLL_CTL_DEL, fd, 0, 0);
	d->priv = 1;
	d->refs = 0;
	d->added = 0; /* whatever the number held before is gone */
	d->armed = 0;
	d->gen++;
	d->kind = s->kind;
	d->notry = s->notry;
	for (n = s->head; n; n = next) {
		next = n->next;
		n->fd = m;
		link_node(n);
		d->refs++;
	}
	s->head = s->tail = NULL;
	arm(m, 1, 0);
}

void gr_fd_closing(int fd)
{
	struct fdstate *s = known(fd);

	if (!s)
		return;
	if (s->head)
		move_waiters(fd);
	s = &table[fd];
	s->added = 0;
	s->armed = 0;
	s->gen++;
	forget_facts(s);
	s->own = NULL;
	/* The program replaces a private dup it never knew of (dup2 onto a
	 * number it thinks free): the number is the program's now. */
	if (s->priv)
		gr_own_fd_del(fd);
	s->priv = 0;
	s->refs = 0;
}

void gr_fd_forget(int fd)
{
	struct fdstate *s = known(fd);

	if (s && !s->head) {
		s->added = 0;
		s->armed = 0;
		s->gen++;
	}
	if (s)
		forget_facts(s); /* also under waiters: they hold the old file */
}

/* Closes made off the green threads (a foreign OS thread's), counted
 * there and noticed here: every number's facts go. */
static unsigned outside_seen;
static _Atomic unsigned outside;

void gr_fd_forget_all(void)
{
	outside++;
}

static void forget_all_if_outside(void)
{
	unsigned now = outside;

	if (__builtin_expect(now == outside_seen, 1))
		return;
	outside_seen = now;
	for (int fd = 0; fd < table_len; fd++)
		forget_facts(&table[fd]);
}

enum gr_fd_kind gr_fd_kind(int fd)
{
	const struct fdstate *s;

	forget_all_if_outside();
	s = known(fd);
	return s ? (enum gr_fd_kind)s->kind : GR_FD_KIND_UNKNOWN;
}

int gr_fd_notry(int fd)
{
	const struct fdstate *s = known(fd);

	return s && s->notry;
}

void gr_fd_set_notry(int fd)
{
	struct fdstate *s = state_of(fd);

	if (s)
		s->notry = 1;
}

void gr_fd_copy_facts(int from, int to)
{
	const struct fdstate *f = known(from);
	struct fdstate *t = f ? state_of(to) : NULL;

	if (t) {
		f = &table[from]; /* state_of may move the table */
		t->kind = f->kind;
		t->notry = f->notry;
	}
}

void gr_fd_closing_range(unsigned lo, unsigned hi)
{
	for (unsigned fd = lo; fd <= hi && fd < (unsigned)table_len; fd++)
		gr_fd_closing((int)fd);
}

void gr_fd_set_kind(int fd, enum gr_fd_kind kind)
{
	struct fdstate *s = state_of(fd);

	if (s)
		s->kind = (unsigned char)kind;
}

void gr_fd_wait_abandoned(void *wait_obj)
{
	struct waiter *w = wait_obj;

	gr_fd_waiters--;
	/* Its nodes left their lists as the handler began (gr_fd_wait_cancel);
	 * an fd the thread made only to wait on (a pidfd) goes with the wait,
	 * and so does a hold on a private dup the wait had moved to. */
	for (unsigned long i = 0; i < w->count; i++) {
		int fd = w->nodes[i].fd;
		struct fdstate *s = known(fd);
		if (!s)
			continue;
		if (s->own == gr_rt.cur) {
			gr_fd_closing(fd);
			gr_own_fd_del(fd);
			gr_real.close(fd);
		} else if (s->priv) {
			gr_fd_release(fd);
		}
	}
	if (w->count > STACK_NODES)
		free(w->nodes); /* gr_fd_wait_any's, for a large set */
}

void gr_fd_own(int fd)
{
	struct fdstate *s = state_of(fd);

	if (s)
		s->own = gr_rt.cur;
}

static int make_ep(void)
{
	return epoll_create1(EPOLL_CLOEXEC);
}

void gr_fd_after_fork(void)
{
	/* The set is the parent's too (a change by one process would be the
	 * other's): a new one under the same number, which the loop's
	 * watcher, re-added by uv_loop_fork at the next turn, then watches.
	 * No thread waits on an fd any more: close what only the dead held
	 * (private dups, what they opened for their waits). */
	if (gr_own_fd_renew(ep, make_ep) < 0)
		gr_log(GR_LOG_ERROR, "fork: no epoll set of the child's own for fd waits");
	for (int fd = 0; fd < table_len; fd++) {
		struct fdstate *s = &table[fd];
		if (s->priv || (s->own && s->own != gr_rt.cur)) {
			gr_own_fd_del(fd);
			gr_real.close(fd);
		}
		memset(s, 0, sizeof(*s));
	}
	gr_fd_waiters = 0;
}

void gr_fd_wait_describe(const void *wait_obj, char *buf, size_t cap)
{
	const struct waiter *w = wait_obj;
	size_t len = 0;
	unsigned long shown = 0;

	buf[0] = '\0';
	if (!w || !w->nodes)
		return;
	for (unsigned long i = 0; i < w->count && len < cap; i++) {
		const struct node *n = &w->nodes[i];
		uint32_t rw = n->events & (EPOLLIN | EPOLLOUT);
		if (n->fd < 0)
			continue;
		if (shown++ == 4) {
			snprintf(buf + len, cap - len, ", ...");
			return;
		}
		len += (size_t)snprintf(buf + len, cap - len, "%sfd %d%s", shown > 1 ? ", " : "",
					n->fd,
					rw == (EPOLLIN | EPOLLOUT) ? " for reading and writing"
					: rw == EPOLLIN		   ? " for reading"
					: rw == EPOLLOUT	   ? " for writing"
								   : " for an error or hang-up");
	}
}
