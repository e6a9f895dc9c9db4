/* Waiting for file descriptors to become ready (fdwait.c): the piece under
 * every green read, write, accept, connect, poll, select and epoll_wait.
 *
 * One epoll set of the runtime's own holds every fd a green thread waits
 * on; the loop watches that one set (a single uv_poll on its fd). So no fd
 * flag is ever changed (uv_poll_init would make each fd non-blocking), no
 * fd is allocated to wait (a poll works with a full fd table), and a wait
 * costs one epoll_ctl: every entry is EPOLLONESHOT and is armed again by
 * each wait, with a MOD that fails (ENOENT) when the number now names
 * another file than the one added, which is then added. That is how a
 * number that glibc closed and reused where no hook saw it (fclose) is
 * found out; each entry carries a generation, so events of an entry of an
 * older file under the number are dropped.
 *
 * A waiter is a node on the fd's list, on the waiting thread's stack (no
 * allocation to wait or to wake). Waits of a read or a write take the
 * file's readiness one at a time (the first waiter is woken, and arms the
 * entry for the next as it leaves); waits of poll see it all at once.
 *
 * close, dup2 and dup3 of an fd that threads wait on (gr_fd_closing): as
 * in Linux, whose blocked calls hold the file, they go on waiting on the
 * same file, through a private dup of it that the runtime closes when the
 * last of them is done. */
#ifndef GR_FDWAIT_H
#define GR_FDWAIT_H

#include <stddef.h>
#include <stdint.h>

#define GR_FD_READ  1 /* readable, or a peer hung up, or an error */
#define GR_FD_WRITE 2 /* writable, or an error */

/* Starts the runtime's epoll set and its watcher in loop (hub start-up).
 * Returns 0 or -errno. */
struct uv_loop_s;
int gr_fd_init(struct uv_loop_s *loop);

/* Parks the current thread until fd is ready for what (GR_FD_READ or
 * GR_FD_WRITE), or deadline (monotonic ns, 0 = none). Returns 0 (ready, or
 * may be: retry the call), -ETIMEDOUT, -EINTR (a signal handler ran, or a
 * cancel came), -EPERM when fd cannot be polled (a regular file or a
 * directory: the caller makes the plain call, which does not wait for
 * readiness), -EBADF for a bad fd. */
int gr_fd_wait(int fd, int what, int64_t deadline);

/* As gr_fd_wait, for a call that goes on with the file: when a close or a
 * dup2 took the number away during the wait, *fd becomes the private dup
 * the call now holds (and goes on with), which it gives back with
 * gr_fd_release once it is done. -EBADF only when no dup could be made
 * (a full fd table). */
int gr_fd_wait_hold(int *fd, int what, int64_t deadline);

/* Sleeps until until (monotonic ns) in a loop that looks again, having no
 * event to wait for (a unix connect waiting for room in a backlog).
 * Returns 0 when the time is up, -EINTR when a signal handler ran in the
 * thread (or a cancel came) before or during the sleep, also one that ran
 * as it ended. */
int gr_fd_nap(int64_t until);

/* Gives back a hold that gr_fd_wait_hold handed out (no-op for any other
 * fd): the last one closes the private dup. */
void gr_fd_release(int fd);

/* Parks the current thread until one of the n pollfds may be ready (its
 * events, or an error or hang-up), or deadline. Returns 0 (call poll
 * again to see), -ETIMEDOUT, -EINTR, or -ENOMEM (no room for the waiter
 * records of a large set). */
/* For the dump: "fd 5 for reading" (or the fds and events of a poll)
 * for the wait_obj of a thread parked in GR_WAIT_FD, into buf. */
void gr_fd_wait_describe(const void *wait_obj, char *buf, size_t cap);
struct pollfd;
int gr_fd_wait_any(const struct pollfd *fds, unsigned long n, int64_t deadline);

/* Takes the parked wait wait_obj (a thread's, whose wait is GR_WAIT_FD)
 * off every fd it waits on: a signal handler is about to run in the
 * thread, and may leave the wait's frame for good (siglongjmp). */
void gr_fd_wait_cancel(void *wait_obj);

/* The parked wait wait_obj (GR_WAIT_FD) was left for good: a signal
 * handler that ran in it left by longjmp. It no longer counts, an fd the
 * thread made only to wait on (gr_fd_own) is closed, and a private dup the
 * wait held is given back. */
void gr_fd_wait_abandoned(void *wait_obj);

/* fd is about to be closed, or replaced by dup2/dup3: its waiters move to
 * a private dup of the file, the number's epoll entry goes, and what was
 * known about the number is forgotten. */
void gr_fd_closing(int fd);

/* fd now names a file this process just made (socket, accept, dup...):
 * forget what was known about the number. */
void gr_fd_forget(int fd);

/* What a call learnt about the file under fd, kept per number until the
 * number may name another file: gr_fd_closing (close, dup2, dup3,
 * close_range, closefrom, closedir, fclose, the raw system calls), or
 * gr_fd_forget (socket, accept, pipe, open, dup, fds received with
 * SCM_RIGHTS...), or a close on an OS thread that is not green
 * (gr_fd_forget_all: every number's facts go). A regular file is read
 * and written with the plain call on the strength of it, so it must be
 * exact; a stale socket kind shows itself (ENOTSOCK) and is learnt again.
 * The program's flags are not kept: they belong to the open file
 * description, which another process can change. GR_FD_KIND_UNKNOWN:
 * never looked. */
enum gr_fd_kind {
	GR_FD_KIND_UNKNOWN,
	GR_FD_KIND_OTHER,   /* not a regular file nor a block device (a tty, a
			       char device...): a short read is the file's
			       answer, not a page missing from the cache */
	GR_FD_KIND_FIFO,    /* a pipe or FIFO */
	GR_FD_KIND_SOCKET,  /* a socket */
	GR_FD_KIND_REGULAR, /* a regular file, a block device or a directory:
			       never waits for readiness, the plain call */
};
enum gr_fd_kind gr_fd_kind(int fd);
void gr_fd_set_kind(int fd, enum gr_fd_kind kind);

/* Whether the file under fd refused RWF_NOWAIT (an older kernel's pipe or
 * socket, qemu-user): its calls are polled first, or made with
 * MSG_DONTWAIT, without asking again. Kept and forgotten as the kind. */
int gr_fd_notry(int fd);
void gr_fd_set_notry(int fd);

/* to is a dup of from (dup, dup2, dup3, F_DUPFD): the same file, the same
 * facts. */
void gr_fd_copy_facts(int from, int to);

/* close_range(lo, hi) or closefrom(lo) is about to close those numbers:
 * gr_fd_closing for each that was ever waited on or looked at. */
void gr_fd_closing_range(unsigned lo, unsigned hi);

/* Numbers may name other files now, which ones unknown: an OS thread that
 * is not green (a foreign one) closed or replaced an fd, which the table,
 * the runtime's alone, cannot be told of there, or fcloseall closed
 * streams inside glibc. The next green call forgets every number's
 * facts. Any thread may call it. */
void gr_fd_forget_all(void);

/* fd was opened by the current thread only to wait on it (a pidfd), and
 * is closed by that thread: a fork child in which the thread does not
 * survive closes it instead (fork.c). gr_fd_closing ends it. */
void gr_fd_own(int fd);

/* How many threads wait on fds now (the deadlock check counts them). */
extern unsigned gr_fd_waiters;

#endif
