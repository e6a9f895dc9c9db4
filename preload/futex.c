/* syscall(): SYS_futex from a green thread goes to the green futex table
 * (runtime/futex.c), as Rust's std, parking_lot and others lock with raw
 * futexes; waits for kernel AIO and io_uring completions go to aio.c (a
 * worker thread); the calls that take or give a thread id go to tid.c
 * (CPython's get_native_id is syscall(SYS_gettid)); the ones that close
 * or replace fds tell fd.c's bookkeeping first; pause (a wait only a
 * signal ends) goes to its green hook. Every other system
 * call number, and every call of a thread that is not green, passes
 * through unchanged; a foreign OS thread's futex call also tells green
 * waiters it may have woken (foreign.h). A green thread's call returns
 * through a safe point for signals, as the kernel's does. Like glibc's
 * syscall(), we read six arguments whatever the caller passed. */
#include "hook.h"

#include "../runtime/foreign.h"

#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../runtime/lock.h"
#include "../runtime/sud.h"
#include "aio.h"
#include "fd.h"
#include "tid.h"

/* A new task returns from the call too, in our memory (CLONE_VM) or with
 * a copy of the parent's runtime that no atfork handler rebuilt: it must
 * run nothing of ours on the way out. */
static int makes_task(long number)
{
#ifdef SYS_fork
	if (number == SYS_fork || number == SYS_vfork)
		return 1;
#endif
	return number == SYS_clone || number == SYS_clone3;
}

/* The way out of a system call is a safe point, as the kernel delivers
 * pending signals there: one the call raised (a raw write's SIGPIPE, which
 * the kernel gives the caller) runs its handler before syscall() returns. */
static void way_out(void)
{
	if (__builtin_expect(gr_rt.sig_pending || gr_rt.cur->sig_pending, 0)) {
		int saved = errno;
		gr_signal_safe_point();
		errno = saved;
	}
}

/* A wait with no end of its own, made through syscall() by a green
 * thread (glibc's tst-cancel30 waits in syscall(SYS_pause), or on aarch64,
 * which has no pause, in a ppoll of no fds, no timeout and no mask): only
 * a signal ends it, which the real call, stopping the one OS thread, would
 * wait for from another process alone. pause()'s hook parks the caller
 * instead (a cancellation point, -1 and EINTR after a handler, as the
 * kernel's). A wait that ends by itself (nanosleep, poll with a timeout)
 * stays a plain call: it only stalls the others for a while, as the
 * monitor names. 1 when *ret holds the answer. */
static int endless_wait(long number, const long *a, long *ret)
{
#ifdef SYS_pause
	if (number == SYS_pause) {
		*ret = pause();
		return 1;
	}
#endif
	if (number == SYS_ppoll && a[1] == 0 && !a[2] && !a[3]) {
		*ret = pause();
		return 1;
	}
	return 0;
}

/* The call with its six arguments: syscall()'s, and the SIGSYS handler's
 * of a call made outside libc (runtime/sud.h: gr_sud_call). Inlined into
 * syscall(): the monitor tells a raw call by libc's syscall() called from
 * the hook named syscall. */
static inline __attribute__((always_inline)) long syscall6(long number, const long *a)
{
	if (number == SYS_futex && gr_green()) {
		long r = gr_futex((uint32_t *)a[0], (int)a[1], (uint32_t)a[2],
				  (const struct timespec *)a[3], (uint32_t *)a[4], (uint32_t)a[5]);
		return gr_ret(r);
	}
	if (number == SYS_futex && gr_foreign_thread()) {
		gr_foreign_enter();
		long r = GR_REAL(syscall)(number, a[0], a[1], a[2], a[3], a[4], a[5]);
		gr_futex_foreign_woke((uint32_t *)a[0], (int)a[1], (uint32_t)a[2],
				      (uint32_t *)a[4]);
		return r;
	}
	/* A thread of the program's own made with the system call: as clone. */
	if (((number == SYS_clone && (a[0] & CLONE_VM)) || number == SYS_clone3) && gr_green())
		gr_foreign_on();
	if (gr_aio_syscall_waits(number, a) && gr_green())
		return gr_aio_syscall(number, a);
	{
		long r;
		if (gr_fd_syscall(number, a, &r)) /* closes and replaces fds */
			return r;
	}
	if (number != SYS_futex && gr_green()) {
		long r;
		if (gr_tid_syscall(number, a, &r) || endless_wait(number, a, &r))
			return r;
		r = GR_REAL(syscall)(number, a[0], a[1], a[2], a[3], a[4], a[5]);
		if (!makes_task(number))
			way_out();
		return r;
	}
	return GR_REAL(syscall)(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}

GR_EXPORT long syscall(long number, ...)
{
	long a[6];
	va_list ap;

	va_start(ap, number);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	return syscall6(number, a);
}

__attribute__((constructor)) static void futex_init(void)
{
	gr_sud_call = syscall6;
}
