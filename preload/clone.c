/* clone: a thread the program makes itself, sharing our memory (CLONE_VM)
 * without pthread_create, is an OS thread greenify did not make green; from
 * before it exists, private locks work the atomic way (foreign.h), so that
 * it may wake green threads, even with a futex system call of its own that
 * no hook sees. The call itself is glibc's, unchanged. A clone without
 * CLONE_VM is a new process and changes nothing here.
 *
 * Such a thread must have TLS of its own (CLONE_SETTLS) to call hooked
 * functions: without, it shares the TLS of the thread that made it, as it
 * would with glibc's functions too. */
#include "hook.h"

#include <sched.h>
#include <stdarg.h>

#include "../runtime/foreign.h"

GR_EXPORT int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...)
{
	va_list ap;
	void *parent_tid, *tls, *child_tid;

	/* Like glibc's clone, read the three optional arguments whatever the
	 * flags say. */
	va_start(ap, arg);
	parent_tid = va_arg(ap, void *);
	tls = va_arg(ap, void *);
	child_tid = va_arg(ap, void *);
	va_end(ap);
	if ((flags & CLONE_VM) && gr_green())
		gr_foreign_on();
	return GR_REAL(clone)(fn, stack, flags, arg, parent_tid, tls, child_tid);
}
