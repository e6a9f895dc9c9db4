/* fd bookkeeping shared with the other hook files (fd.c). */
#ifndef GR_PRELOAD_FD_H
#define GR_PRELOAD_FD_H

/* A raw system call of the program's (syscall()) is about to run: one
 * that closes or replaces fds (SYS_close, SYS_dup2, SYS_dup3,
 * SYS_close_range) tells runtime/fdwait.c as the libc calls do. a: its
 * six arguments. A close of one of the runtime's own fds (ownfd.h) is
 * answered as close() and close_range() answer: 1 with *ret the call's
 * return (errno set), else 0 and the call is to be made. */
int gr_fd_syscall(long number, const long *a, long *ret);

/* Fds that came in an SCM_RIGHTS message of msg (what recvmsg wrote
 * back): new numbers, whose facts go. */
struct msghdr;
void gr_fd_received(const struct msghdr *msg);

#endif
