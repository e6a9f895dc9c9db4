/* For the syscall() hook (futex.c): the system calls that take or give a
 * thread id, for a green caller (tid.c). Returns 1 and sets *ret (what
 * syscall() returns, errno set) when it handled nr, else 0. */
#ifndef GR_PRELOAD_TID_H
#define GR_PRELOAD_TID_H

int gr_tid_syscall(long nr, const long *a, long *ret);

#endif
