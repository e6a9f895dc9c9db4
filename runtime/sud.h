/* System calls made by the program's own instructions (syscall user
 * dispatch).
 *
 * A library may issue a system call with its own instruction instead of
 * through libc: GNU libgomp does so for its futex waits and wakes on
 * x86_64 (every OpenMP barrier, lock and idle worker), as do some
 * runtimes and hand-written assembly. No hook sees such a call: a futex
 * wait for a green thread on the same OS thread would block the OS thread
 * for good. With Linux's syscall user dispatch (5.11) the runtime thread
 * asks the kernel to deliver SIGSYS for every system call made outside
 * libc's code; the handler makes the call the way the syscall() hook does
 * (a futex wait parks only the calling green thread) and puts the result
 * where the instruction expects it. Calls from libc itself, which is where
 * nearly all come from, run as before. x86_64 only: elsewhere libgomp
 * goes through libc's syscall(). */
#ifndef GR_SUD_H
#define GR_SUD_H

#include <signal.h>

/* Whether the runtime thread's system calls outside libc are dispatched. */
extern int gr_sud_on;
/* The kernel's switch for it (SYSCALL_DISPATCH_FILTER_BLOCK or _ALLOW). */
extern volatile char gr_sud_selector;

/* Makes a system call as the syscall() hook does (preload/futex.c sets it;
 * -1 and errno on failure); dispatch stays off while it is unset. */
extern long (*gr_sud_call)(long nr, const long *a);

/* Turns it on for the calling (runtime) thread, unless GREENIFY_SYSCALL_
 * DISPATCH is off or the kernel or architecture cannot. */
void gr_sud_start(void);

/* In a fork child: the kernel does not carry the setting over. */
void gr_sud_after_fork(void);

/* Blocks calls outside libc again after one was let run in place (a
 * sigreturn or a clone of the program's own); at every switch. One store,
 * whether dispatch is on or not: the kernel reads the selector only for a
 * thread that turned dispatch on (a test of gr_sud_on first cost 0.3 ns
 * of a 10.5 ns switch). */
static inline void gr_sud_rearm(void)
{
	gr_sud_selector = 1; /* SYSCALL_DISPATCH_FILTER_BLOCK */
}

/* Lets the runtime thread's calls outside libc through until the next
 * gr_sud_rearm (the vfork hook's own system call). */
static inline void gr_sud_allow(void)
{
	if (__builtin_expect(gr_sud_on, 0))
		gr_sud_selector = 0; /* SYSCALL_DISPATCH_FILTER_ALLOW */
}

/* In a fork child that does not turn dispatch on again (_Fork's, whose
 * runtime stands down): SIGSYS is the program's to block again. */
static inline void gr_sud_forget(void)
{
	gr_sud_on = 0;
}

/* Whether a SIGSYS is a system call the kernel dispatched to us (not
 * seccomp's, nor one sent). */
int gr_sud_is_ours(const siginfo_t *info);

#endif
