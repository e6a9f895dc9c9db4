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
 * a green waitpid makes for the length of its wait is not among them. */
#include "ownfd.h"

#include <stddef.h>

#define MAX_OWN 256

int gr_own_fd_capture;
static int own[MAX_OWN];
static int own_n;
static int own_max = -1; /* no fd of ours is above */

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
