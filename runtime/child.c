/* Waiting for child processes (child.h). */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clock.h"
#include "fdwait.h"
#include "ownfd.h"
#include "real.h"
#include "sched.h"

/* The timer's first period and the one it backs off to, for waits with no
 * fd to park on. */
#define NAP_FIRST (1 * GR_MSEC)
#define NAP_LAST  (20 * GR_MSEC)

/* A pidfd of the runtime's own, out of the program's numbering (ownfd.h):
 * closed by pidfd_close. */
static int pidfd_open(pid_t pid)
{
	int saved = errno, fd = (int)gr_real.syscall(SYS_pidfd_open, pid, 0);

	if (fd < 0) {
		fd = -errno;
		errno = saved;
		return fd;
	}
	fd = gr_own_fd_high(fd);
	gr_own_fd_add(fd);
	return fd;
}

static void pidfd_close(int fd)
{
	gr_fd_closing(fd);
	gr_own_fd_del(fd);
	gr_real.close(fd);
}

/* Parks on pidfd fd until it is readable (the child ended): 0 or -EINTR;
 * another error (the fd cannot be polled) makes the caller nap instead. */
static int park_on(int fd)
{
	return gr_fd_wait(fd, GR_FD_READ, 0);
}

/* Parks until pid (> 0) may have ended, on a pidfd of its own: 0,
 * -EINTR, or -errno when there is no pidfd for it. */
static int park_on_pid(pid_t pid)
{
	int fd = pidfd_open(pid), r;

	if (fd < 0)
		return fd;
	gr_fd_own(fd);
	r = park_on(fd);
	pidfd_close(fd);
	return r;
}

/* Sleeps *ns before asking again, then backs off: 0 or -EINTR. */
static int nap(int64_t *ns)
{
	int r = gr_park(GR_WAIT_SLEEP, NULL, gr_deadline_in(*ns));

	if (*ns < NAP_LAST)
		*ns *= 2;
	return r == -EINTR ? -EINTR : 0;
}

/* After a wait step w: -EINTR when a handler ran and the call does not
 * restart (every handler had SA_RESTART: the kernel restarts wait4 and
 * waitid), else 0 to ask again; a park that could not be set up naps
 * instead. */
static int step_done(int w, int64_t *backoff)
{
	if (w < 0 && w != -EINTR)
		w = nap(backoff);
	if (w == -EINTR && !gr_rt.cur->sig_restart)
		return -EINTR;
	return 0;
}

/* Whether waiting for options can park on the child's pidfd: the pidfd
 * reports its end only. */
static int ends_only(int options)
{
	return !(options & (WUNTRACED | WCONTINUED));
}

int gr_child_wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
	int64_t backoff = NAP_FIRST;

	for (;;) {
		int saved = errno;
		pid_t r = gr_real.wait4(pid, status, options | WNOHANG, ru);
		if (r < 0) {
			r = -errno;
			errno = saved;
			return r;
		}
		if (r != 0 || (options & WNOHANG))
			return r;
		int w = pid > 0 && ends_only(options) ? park_on_pid(pid) : nap(&backoff);
		if (step_done(w, &backoff) < 0)
			return -EINTR;
	}
}

/* One waitid step: 0 when it has an answer, 1 to wait, or -errno. */
static int waitid_once(idtype_t type, id_t id, siginfo_t *info, int options)
{
	int saved = errno;

	info->si_pid = 0;
	if (gr_real.waitid(type, id, info, options | WNOHANG) < 0) {
		int err = -errno;
		errno = saved;
		return err;
	}
	return info->si_pid == 0 && !(options & WNOHANG);
}

int gr_child_waitid(idtype_t type, id_t id, siginfo_t *info, int options)
{
	int64_t backoff = NAP_FIRST;

	for (;;) {
		int r = waitid_once(type, id, info, options), w;
		if (r <= 0)
			return r;
		if (type == P_PIDFD && (options & WEXITED) && !(options & (WSTOPPED | WCONTINUED)))
			w = park_on((int)id);
		else if (type == P_PID && (options & WEXITED) &&
			 !(options & (WSTOPPED | WCONTINUED)))
			w = park_on_pid((pid_t)id);
		else
			w = nap(&backoff);
		if (step_done(w, &backoff) < 0)
			return -EINTR;
	}
}

int gr_child_await_exit(pid_t pid, int fd)
{
	int pidfd = pidfd_open(pid), r;
	siginfo_t info;

	if (pidfd < 0)
		return pidfd;
	/* Closing the pipe end the way close() does: its waiters wake. */
	gr_fd_closing(fd);
	int saved = errno;
	if (gr_real.dup3(pidfd, fd, O_CLOEXEC) < 0) {
		r = -errno;
		pidfd_close(pidfd);
		errno = saved;
		return r;
	}
	gr_fd_own(pidfd);
	do
		r = gr_child_waitid(P_PIDFD, (id_t)pidfd, &info, WEXITED | WNOWAIT);
	while (r == -EINTR);
	pidfd_close(pidfd);
	return 0;
}
