/* fd bookkeeping shared with the other hook files (fd.c). */
#ifndef GR_PRELOAD_FD_H
#define GR_PRELOAD_FD_H

/* A raw system call of the program's (syscall()) is about to run: one
 * that closes or replaces fds (SYS_close, SYS_dup2, SYS_dup3,
 * SYS_close_range) tells runtime/fdwait.c as the libc calls do. a: its
 * six arguments. */
void gr_fd_syscall(long number, const long *a);

/* Fds that came in an SCM_RIGHTS message of msg (what recvmsg wrote
 * back): new numbers, whose facts go. */
struct msghdr;
void gr_fd_received(const struct msghdr *msg);

#endif
