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

#include <stddef.h>

#define MAX_OWN 256

int gr_own_fd_capture;
static int own[MAX_OWN];
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
	__atomic_store_n(&own_n, own_n + 1, __ATOMIC_RELEASE);
	if (fd > own_max)
		__atomic_store_n(&own_max, fd, __ATOMIC_RELEASE);
}

void gr_own_fd_del(int fd)
{
	for (int i = 0; i < own_n; i++)
		if (own[i] == fd) {
			own[i] = own[own_n - 1];
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
