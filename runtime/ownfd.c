/* The runtime's own file descriptors: libuv's loop (its epoll set and
 * eventfd), the hub's timerfd, the signal eventfd and signalfd, fd waits'
 * epoll set and the private dups that keep a closed fd's waiters on its
 * file, the dump's and monitor's. They are numbers of the process that the
 * program never opened: natively they would be free. A program that closes
 * numbers it did not open (closefrom(3), close_range(3, ~0U, 0), a loop of
 * close over every number, as daemons and spawners do) must not close
 * them, or the runtime's next use of one fails for good; the close hooks
 * (preload/fd.c) ask here and leave them alone: close answers EBADF, as it
 * would natively for a free number, and a range is closed around them.
 *
 * A few (a dozen and the private dups, each of which lives only while
 * green threads wait on a closed fd), set and cleared by the runtime
 * thread; a close on another OS thread reads them as they are. The pidfd
 * a green waitpid makes for the length of its wait is not among them.
 *
 * libuv's signal lock pipe is process-wide and libuv's own pthread_atfork
 * child handler (uv__signal_global_reinit) closes it in a fork child, by a
 * raw close no hook sees, and makes another: that handler runs wrapped
 * (gr_own_fd_atfork_child), which moves the two numbers, or the child's
 * program finds its own new fds under the old numbers refused (EBADF on
 * the close of a pipe of its own: CPython's multiprocessing pool worker
 * forked from a forked process). */
#include "ownfd.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <uv.h>

#include "real.h"
#include "sched.h"

#define MAX_OWN 256

int gr_own_fd_capture;
static int own[MAX_OWN];
static void (*movers[MAX_OWN])(int from, int to); /* gr_own_fd_mover's */
static int own_n;
static int own_max = -1;	   /* no fd of ours is above */
static int lock_fds[2] = {-1, -1}; /* libuv's signal lock pipe */
static int lock_next;		   /* the next captured pipe is that lock */
static void (*lock_child)(void);   /* libuv's child handler, which remakes it */

void gr_own_fd_add(int fd)
{
	if (fd < 0 || gr_own_fd(fd) || own_n == MAX_OWN)
		return;
	own[own_n] = fd;
	movers[own_n] = NULL;
	__atomic_store_n(&own_n, own_n + 1, __ATOMIC_RELEASE);
	if (fd > own_max)
		__atomic_store_n(&own_max, fd, __ATOMIC_RELEASE);
}

void gr_own_fd_del(int fd)
{
	for (int i = 0; i < own_n; i++)
		if (own[i] == fd) {
			own[i] = own[own_n - 1];
			movers[i] = movers[own_n - 1];
			__atomic_store_n(&own_n, own_n - 1, __ATOMIC_RELEASE);
			return;
		}
}

int gr_own_fd(int fd)
{
	int n;

	if (fd > __atomic_load_n(&own_max, __ATOMIC_ACQUIRE))
		return 0;
	n = __atomic_load_n(&own_n, __ATOMIC_ACQUIRE);
	for (int i = 0; i < n; i++)
		if (own[i] == fd)
			return 1;
	return 0;
}

int gr_own_fd_in(unsigned lo, unsigned hi)
{
	int n = __atomic_load_n(&own_n, __ATOMIC_ACQUIRE), best = -1;

	for (int i = 0; i < n; i++) {
		unsigned fd = (unsigned)own[i];
		if (fd >= lo && fd <= hi && (best < 0 || fd < (unsigned)best))
			best = (int)fd;
	}
	return best;
}

void gr_own_fd_captured(const int fds[2])
{
	gr_own_fd_add(fds[0]);
	gr_own_fd_add(fds[1]);
	if (lock_next) {
		lock_fds[0] = fds[0];
		lock_fds[1] = fds[1];
		lock_next = 0;
	}
}

/* In a fork child: libuv closes its lock pipe and makes another. */
static void remake_lock(void)
{
	int capture = gr_own_fd_capture;

	gr_own_fd_del(lock_fds[0]);
	gr_own_fd_del(lock_fds[1]);
	lock_fds[0] = lock_fds[1] = -1;
	lock_next = 1;
	gr_own_fd_capture = 1;
	lock_child();
	gr_own_fd_capture = capture;
	lock_next = 0;
}

void (*gr_own_fd_atfork_child(void (*child)(void)))(void)
{
	/* While capturing, the only registration is libuv's for that pipe,
	 * which it makes just after registering. */
	if (!gr_own_fd_capture || !child || lock_child)
		return child;
	lock_child = child;
	lock_next = 1;
	return remake_lock;
}

/* ---- Numbers out of the program's way ---- */

/* How far above the soft limit ours may go: the limit is raised this much
 * for the moment of the dup. */
#define ROOM 4096
/* A limit above this is not gone over: the kernel's table of fds, libuv's
 * watchers and fd waits' states are arrays as long as the highest number,
 * and a limit of a million would cost megabytes of each. Ours then go as
 * high as they can below it. */
#define HIGHEST (1 << 16)

static int limit_lock; /* our raise of the limit against a setrlimit's */

void gr_own_fd_limit_lock(void)
{
	while (__atomic_exchange_n(&limit_lock, 1, __ATOMIC_ACQUIRE)) {
#if defined(__x86_64__)
		__builtin_ia32_pause();
#endif
	}
}

void gr_own_fd_limit_unlock(void)
{
	__atomic_store_n(&limit_lock, 0, __ATOMIC_RELEASE);
}

static int get_limit(struct rlimit *rl)
{
	return (int)gr_real.syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, rl);
}

static int set_limit(const struct rlimit *rl)
{
	return (int)gr_real.syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, rl, NULL);
}

/* Numbers below top allowed for the moment (the hard limit raised too
 * when the process may): 1 when raised (*saved to restore), 0 when they
 * were, -1 when they cannot be. */
static int make_room(struct rlimit *saved, rlim_t top)
{
	struct rlimit up;

	if (get_limit(saved) < 0)
		return -1;
	if (saved->rlim_cur >= top)
		return 0;
	up = *saved;
	up.rlim_cur = top;
	if (up.rlim_max < top)
		up.rlim_max = top; /* CAP_SYS_RESOURCE, up to fs.nr_open */
	if (set_limit(&up) < 0) {
		if (saved->rlim_max <= saved->rlim_cur)
			return -1;
		up.rlim_cur = up.rlim_max = saved->rlim_max; /* what there is */
		if (set_limit(&up) < 0)
			return -1;
	}
	return 1;
}

/* A dup of fd, close-on-exec, as high as it may go below top and above
 * floor, or -1. */
static int highest_below(int fd, int floor, int top)
{
	for (int n = top - 1, tries = 0; n > floor; tries++) {
		int m = (int)gr_real.syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, n);
		if (m >= 0)
			return m;
		if (errno != EMFILE && errno != EINVAL)
			return -1;
		n -= tries < 64 ? 1 : n / 8 + 1; /* past a crowd of ours */
	}
	return -1;
}

/* Between gr_own_fd_begin and gr_own_fd_end (the lock held): the limit
 * as it was, and whether it is raised for the moment. */
static struct rlimit before;
static int raised;

void gr_own_fd_begin(void)
{
	gr_own_fd_limit_lock();
	raised = -1;
	if (get_limit(&before) < 0)
		return;
	raised = before.rlim_cur < HIGHEST ? make_room(&before, before.rlim_cur + ROOM) : -1;
}

void gr_own_fd_end(void)
{
	int saved = errno;

	if (raised > 0)
		set_limit(&before);
	raised = 0;
	gr_own_fd_limit_unlock();
	errno = saved;
}

/* A dup of fd out of the program's numbering, or -1 (inside begin/end):
 * from the soft limit on, else as high as may be below it. */
static int dup_high(int fd, int floor)
{
	rlim_t soft = before.rlim_cur;
	int m = -1;

	if (raised >= 0 && soft < HIGHEST)
		m = (int)gr_real.syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, (long)soft);
	if (m < 0)
		m = highest_below(fd, floor, soft < HIGHEST ? (int)soft : HIGHEST);
	return m;
}

/* A number the program is taking (gr_own_fd_move_away's), which the
 * runtime's next fd must not be, or -1. */
static int avoid = -1;

int gr_own_fd_put(int fd)
{
	int saved = errno, m;

	if (fd < 0 || (fd != avoid && raised >= 0 && (rlim_t)fd >= before.rlim_cur))
		return fd; /* made high already (the limit raised) */
	m = dup_high(fd, fd);
	if (m >= 0 && m == avoid) {
		/* Held meanwhile, so that the next try goes past it. */
		int other = dup_high(fd, -1);
		gr_real.syscall(SYS_close, m);
		m = other;
	}
	if (m >= 0)
		gr_real.syscall(SYS_close, fd);
	errno = saved;
	return m >= 0 ? m : fd;
}

int gr_own_fd_high(int fd)
{
	gr_own_fd_begin();
	fd = gr_own_fd_put(fd);
	gr_own_fd_end();
	return fd;
}

int gr_own_fd_dup(int fd)
{
	int saved = errno, m;

	gr_own_fd_begin();
	m = dup_high(fd, -1);
	if (m < 0) /* no number above the program's: any */
		m = (int)gr_real.syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 0);
	gr_own_fd_end();
	errno = saved;
	return m;
}

int gr_own_fd_onto(int fd, int target)
{
	struct rlimit saved;
	int r, up;

	gr_own_fd_limit_lock();
	up = make_room(&saved, (rlim_t)target + 1);
	r = (int)gr_real.syscall(SYS_dup3, fd, target, O_CLOEXEC);
	if (up > 0) {
		int e = errno;
		set_limit(&saved);
		errno = e;
	}
	gr_own_fd_limit_unlock();
	return r;
}

int gr_own_fd_renew(int target, int (*make)(void))
{
	int fd, r;

	gr_own_fd_begin(); /* a number even when the program's table is full */
	fd = make();
	gr_own_fd_end();
	if (fd < 0 && errno == EMFILE) {
		/* None (the limit could not be raised): the old number is one. */
		gr_real.syscall(SYS_close, target);
		fd = make();
		if (fd == target)
			return 0;
	}
	if (fd < 0)
		return -errno;
	r = gr_own_fd_onto(fd, target) < 0 ? -errno : 0;
	gr_real.syscall(SYS_close, fd);
	return r;
}

/* libuv's own fds: its source calls these under the names of libc's
 * (the Makefile's -D for libuv), so that every fd it makes for the loop
 * is made high and is the runtime's. */
int gr_uv_epoll_create1(int flags)
{
	int fd;

	gr_own_fd_begin();
	fd = gr_own_fd_put(epoll_create1(flags));
	gr_own_fd_end();
	gr_own_fd_add(fd);
	return fd;
}

int gr_uv_epoll_create(int size)
{
	(void)size;
	return gr_uv_epoll_create1(0);
}

int gr_uv_eventfd(unsigned count, int flags)
{
	int fd;

	gr_own_fd_begin();
	fd = gr_own_fd_put((int)gr_real.syscall(SYS_eventfd2, count, flags));
	gr_own_fd_end();
	gr_own_fd_add(fd);
	return fd;
}

int gr_uv_pipe2(int fds[2], int flags)
{
	int r;

	gr_own_fd_begin();
	r = gr_real.pipe2(fds, flags);
	if (r == 0) {
		fds[0] = gr_own_fd_put(fds[0]);
		fds[1] = gr_own_fd_put(fds[1]);
	}
	gr_own_fd_end();
	if (r == 0)
		gr_own_fd_captured(fds);
	return r;
}

/* ---- Moving ours out of the program's way ---- */

/* libuv's own (src/unix/internal.h), linked in with it. */
void uv__io_start(uv_loop_t *loop, uv__io_t *w, unsigned int events);
void uv__io_stop(uv_loop_t *loop, uv__io_t *w, unsigned int events);
void uv__platform_invalidate_fd(uv_loop_t *loop, int fd);

void gr_own_fd_mover(int fd, void (*moved)(int from, int to))
{
	for (int i = 0; i < own_n; i++)
		if (own[i] == fd)
			movers[i] = moved;
}

void gr_own_fd_rewatch(uv_loop_t *loop, uv__io_t *w, int to)
{
	unsigned ev = w->pevents;

	if (ev)
		uv__io_stop(loop, w, ev);
	uv__platform_invalidate_fd(loop, w->fd); /* its entry in the set */
	w->fd = to;
	if (ev)
		uv__io_start(loop, w, ev);
}

/* In the parent: libuv's lock pipe closed and made again, high, by its own
 * fork handler's code, which leaves the lock free, as no thread of the
 * runtime's holds it between libuv calls. */
static int remake_lock_here(int fd)
{
	if (!lock_child)
		return -1;
	avoid = fd;	  /* closed by libuv first: free, but the program's */
	gr_rt.inside = 1; /* libuv's code, on the runtime's behalf */
	remake_lock();
	gr_rt.inside = 0;
	avoid = -1;
	return 0;
}

int gr_own_fd_move_away(int fd)
{
	void (*moved)(int, int) = NULL;
	int m, i, saved = errno;

	/* On the runtime's thread outside libuv only: the movers change
	 * libuv's watchers. */
	if (!gr_green())
		return -1;
	if (fd == lock_fds[0] || fd == lock_fds[1])
		return remake_lock_here(fd);
	for (i = 0; i < own_n && own[i] != fd; i++)
		;
	if (i == own_n || !(moved = movers[i]))
		return -1;
	m = gr_own_fd_dup(fd);
	if (m < 0)
		return -1;
	own[i] = m;
	if (m > own_max)
		__atomic_store_n(&own_max, m, __ATOMIC_RELEASE);
	moved(fd, m);
	gr_real.syscall(SYS_close, fd);
	errno = saved;
	return 0;
}
