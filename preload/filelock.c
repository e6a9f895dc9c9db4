/* File locks: flock, lockf (and lockf64), and fcntl's F_SETLKW and
 * F_OFD_SETLKW (fd.c hands those two commands here). A lock held by
 * another process, or by another thread's open file description, has no
 * readiness event to wait for: each is first tried without waiting
 * (LOCK_NB, F_TLOCK, F_SETLK, F_OFD_SETLK: a failed try changes nothing,
 * and a flock conversion drops the old lock whether or not it waits), and
 * only a lock that must be waited for goes to a worker thread, which makes
 * the blocking call while the green thread parks. POSIX locks belong to
 * the process and OFD and flock locks to the open file description, so
 * the lock the worker gets is the caller's.
 *
 * As natively: a signal handler that runs in the waiting thread ends the
 * wait with EINTR, unless every handler had SA_RESTART; fcntl(F_SETLKW)
 * and lockf(F_LOCK) are cancellation points, flock is not (glibc's is a
 * plain system call). Left to libc: every other lockf and fcntl command,
 * LOCK_NB, unlocking, and calls of threads that are not green. */
#include "filelock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "work.h"

struct lockjob {
	int fd;
	int cmd; /* flock's operation, lockf's or fcntl's command */
	off_t len;
	void *arg; /* fcntl's struct flock */
};

static long run_flock(void *p)
{
	struct lockjob *a = p;

	return gr_neg_errno(GR_REAL(flock)(a->fd, a->cmd));
}

static long run_lockf(void *p)
{
	struct lockjob *a = p;

	return gr_neg_errno(GR_REAL(lockf)(a->fd, a->cmd, a->len));
}

static long run_fcntl(void *p)
{
	struct lockjob *a = p;

	return gr_neg_errno(GR_REAL(fcntl)(a->fd, a->cmd, a->arg));
}

GR_EXPORT int flock(int fd, int op)
{
	struct lockjob a = {.fd = fd, .cmd = op};
	int saved = errno;
	long r;

	if (!gr_green() || (op & LOCK_NB) || (op & ~LOCK_NB) == LOCK_UN)
		return GR_REAL(flock)(fd, op);
	if (GR_REAL(flock)(fd, op | LOCK_NB) == 0) {
		errno = saved;
		return 0;
	}
	if (errno != EWOULDBLOCK)
		return -1;
	if (gr_work(run_flock, &a, GR_WORK_KICK | GR_WORK_RESTART, &r) < 0)
		return GR_REAL(flock)(fd, op);
	return (int)gr_work_ret(r, saved);
}

GR_EXPORT int lockf(int fd, int cmd, off_t len)
{
	struct lockjob a = {.fd = fd, .cmd = cmd, .len = len};
	int saved = errno;
	long r;

	if (!gr_green() || cmd != F_LOCK)
		return GR_REAL(lockf)(fd, cmd, len);
	gr_cancel_begin(); /* a cancellation point even when not waiting */
	gr_cancel_end(0);
	if (GR_REAL(lockf)(fd, F_TLOCK, len) == 0) {
		errno = saved;
		return 0;
	}
	if (errno != EACCES && errno != EAGAIN)
		return -1;
	if (gr_work(run_lockf, &a, GR_WORK_KICK | GR_WORK_RESTART | GR_WORK_CANCEL, &r) < 0)
		return GR_REAL(lockf)(fd, cmd, len);
	return (int)gr_work_ret(r, saved);
}

/* off_t is 64 bits on the 64-bit targets: the same call. */
GR_EXPORT int gr_lockf64(int fd, int cmd, off_t len) __asm__("lockf64");
GR_EXPORT int gr_lockf64(int fd, int cmd, off_t len)
{
	return lockf(fd, cmd, len);
}

int gr_fcntl_lock_wait(int fd, int cmd, void *arg)
{
	struct lockjob a = {.fd = fd, .cmd = cmd, .arg = arg};
	int saved = errno;
	long r;

	gr_cancel_begin();
	gr_cancel_end(0);
	if (GR_REAL(fcntl)(fd, cmd == F_SETLKW ? F_SETLK : F_OFD_SETLK, arg) == 0) {
		errno = saved;
		return 0;
	}
	if (errno != EACCES && errno != EAGAIN)
		return -1;
	if (gr_work(run_fcntl, &a, GR_WORK_KICK | GR_WORK_RESTART | GR_WORK_CANCEL, &r) < 0)
		return GR_REAL(fcntl)(fd, cmd, arg);
	return (int)gr_work_ret(r, saved);
}
