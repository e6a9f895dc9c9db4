/* Waiting for child processes in a green thread (child.c).
 *
 * A wait parks only the calling green thread. For one child that is to end
 * (pid > 0, P_PID, P_PIDFD, without WUNTRACED/WSTOPPED/WCONTINUED) the
 * thread waits on a pidfd, which becomes readable when the child ends; for
 * "any child", a process group, or stopped and continued children, there is
 * no fd, and the thread asks again with WNOHANG on a timer that backs off
 * from 1 ms to 20 ms. A signal handler that runs meanwhile ends the wait
 * with -EINTR, unless every handler had SA_RESTART (the kernel restarts
 * wait4 and waitid then). Cancellation points are the caller's business. */
#ifndef GR_CHILD_H
#define GR_CHILD_H

#include <signal.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

/* wait4: the child's pid, 0 (WNOHANG and none ready), or -errno. */
int gr_child_wait4(pid_t pid, int *status, int options, struct rusage *ru);

/* waitid: 0 (info filled; si_pid 0 for WNOHANG and none ready), or -errno. */
int gr_child_waitid(idtype_t type, id_t id, siginfo_t *info, int options);

/* For pclose: fd is the caller's end of a pipe to child pid. Makes fd name
 * another file (so that the child sees the pipe closed and can end) and
 * parks until pid has ended, leaving it to be reaped: the caller's close
 * of fd and wait then return at once. Handlers that run meanwhile do not
 * end it (pclose retries its wait after EINTR). 0, or -errno when fd could
 * not be replaced (nothing was done: the caller waits as it would have). */
int gr_child_await_exit(pid_t pid, int fd);

#endif
