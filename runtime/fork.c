/* The child of fork(): what survives, what is dropped, what is remade.
 *
 * glibc runs pthread_atfork handlers in its fork(): prepare handlers in the
 * parent, last registered first; child handlers in the child, first
 * registered first, once glibc's own state (malloc, stdio, the thread list)
 * is reset. Ours is registered before any other (fork.h), so in the child it
 * runs first: the program's child handlers, and everything after fork
 * returns, find a working runtime, while the program's prepare handlers run
 * in the parent as green code like any other. A fork that runs no handlers
 * (_Fork, vfork) or a child of an OS thread that is not the runtime's is
 * left as it is: the hooks there call libc (preload/proc.c). */
#include "preempt.h"
#include "fork.h"

#include <stdlib.h>
#include <string.h>

#include "dump.h"
#include "monitor.h"
#include "foreign.h"
#include "kwait.h"
#include "lock.h"
#include "log.h"
#include "real.h"
#include "sched.h"
#include "signal.h"
#include "sud.h"
#include "tls.h"
#include "zombie.h"

/* Ours, so that glibc knows whose handler it is. */
extern void *__dso_handle __attribute__((visibility("hidden")));

/* A thread that did not survive the fork. Its code never runs again and
 * nothing waits for it: in glibc's child a join of it returns 0 at once,
 * with a NULL return value, and so does ours, through a zombie record. Its
 * stack is a private copy and goes back to the pool. */
static void drop(struct gr_thread *t)
{
	if (!t->detached && gr_zombie_add(t->handle, NULL) < 0) {
		t->state = GR_DONE; /* no memory for the record: join finds this */
		t->retval = NULL;
		t->joiner = NULL;
		return;
	}
	t->state = GR_DONE;
	if (t == &gr_main_thread) {
		/* Its handle stays: it is also the OS thread's (gr_os_thread). */
		t->magic = 0;
		return;
	}
	if (t->wait == GR_WAIT_POOL) {
		/* Its pool job lives on its stack, and libuv may still hand in
		 * the result the parent's pool posted before the fork (pool.c
		 * then ignores it): keep the stack. */
		t->magic = 0;
		t->handle = 0;
		return;
	}
	gr_thread_release(t);
}

void gr_fork_child_stands_down(void)
{
	if (gr_rt.started)
		gr_rt.inside = 1;
}

/* Per OS thread, and so also the vfork child's, which runs on the
 * parent's thread pointer in the parent's memory (the parent is suspended
 * meanwhile; another OS thread of the program's never sees it set). */
static __thread int in_vfork __attribute__((tls_model("initial-exec")));

int gr_vfork_enter(void)
{
	int was = gr_rt.inside;

	in_vfork = 1;
	if (gr_tls_runtime) { /* not a foreign OS thread: its hooks pass anyway */
		gr_rt.inside = 1;
		/* The hook's system call is made outside libc: let through
		 * (sud.h), not dispatched to be made again in place with
		 * dispatch off until the next switch, which a libgomp wait
		 * right after would never reach. */
		gr_sud_allow();
	}
	return was;
}

void gr_vfork_leave(int was)
{
	in_vfork = 0;
	gr_rt.inside = was;
	if (gr_tls_runtime)
		gr_sud_rearm();
}

int gr_vfork_child(void)
{
	return in_vfork;
}

static void after_fork_child(void)
{
	struct gr_thread *self = gr_rt.cur, *t, *next;
	int err;

	/* No runtime (not started, GREENIFY_DISABLE), forked by an OS thread
	 * of the runtime's own, or while the runtime is inside: nothing to
	 * remake. */
	if (!gr_green())
		return;
	gr_rt.inside = 1;
	gr_tls_fork_child();
	for (t = gr_rt.all; t; t = next) {
		next = t->all_next;
		if (t != self) {
			t->sig_pending = 0; /* a thread's own signals end with it */
			drop(t);
		}
	}
	/* The child's OS thread has the forking thread's mask, as natively,
	 * and the masks' bookkeeping starts again from that thread alone: not
	 * thread by thread as the others go, which would weigh their masks
	 * against the parent's count of live threads and change the OS
	 * thread's mask in passing. */
	gr_signal_forked();
	/* The loop first: only once the child has its own epoll instance may
	 * fd watchers be stopped (uv_poll_stop deletes from the epoll set,
	 * which is still the parent's before). */
	err = gr_rt_after_fork_child();
	if (err == 0)
		err = gr_signal_after_fork();
	if (err < 0) {
		/* The child still runs, single-threaded, with every hook
		 * calling libc (the runtime stays "inside"). */
		gr_log(GR_LOG_ERROR,
		       "fork: the child cannot rebuild its event loop (%s); its hooks call libc",
		       strerror(-err));
		return;
	}
	/* glibc's child code brought the running thread's control block up
	 * to date (its tid); the OS thread's own block (main's and the
	 * hub's, when a green thread forked) and blocks made from now on need
	 * the same (gr_rt.os_tid is the child's now). */
	gr_tls_after_fork();
	gr_fd_after_fork();
	gr_wait_after_fork();
	gr_kwait_after_fork();
	gr_mutex_shared_after_fork();
	gr_mutex_after_fork();
	gr_foreign_after_fork();
	gr_pool_after_fork();
	gr_stack_after_fork();
	gr_once_after_fork();
	gr_preempt_after_fork();
	gr_sud_after_fork();
	gr_dump_fork_child();
	gr_monitor_fork_child();
	gr_rt.inside = 0;
}

void gr_fork_init(void)
{
	static int registered;

	if (__atomic_exchange_n(&registered, 1, __ATOMIC_ACQ_REL))
		return;
	gr_real_init();
	if (gr_real.__register_atfork(NULL, NULL, after_fork_child, &__dso_handle) != 0)
		gr_log(GR_LOG_ERROR, "cannot register the fork child handler: out of memory");
}
