/* The deadlock report: nothing is runnable and nothing pending can make a
 * thread runnable, so the native program would hang here too. Says who
 * waits for what, once per stall, then hangs like it (or aborts, with
 * GREENIFY_DEADLOCK=abort). */
#include "deadlock.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "fdwait.h"
#include "foreign.h"
#include "kwait.h"
#include "libio.h"
#include "lock.h"
#include "log.h"
#include "pool.h"
#include "sched.h"
#include "signal.h"

static int reported; /* the current stall was reported */

static const char *wait_name(const struct gr_thread *t)
{
	switch (t->wait) {
	case GR_WAIT_SLEEP: return "sleeps";
	case GR_WAIT_YIELD: return "yields";
	case GR_WAIT_COND: return "waits on condition";
	case GR_WAIT_SEM: return "waits on semaphore";
	case GR_WAIT_BARRIER: return "waits at barrier";
	case GR_WAIT_ONCE: return "waits for pthread_once";
	case GR_WAIT_FUTEX: return "waits on futex";
	case GR_WAIT_FD: return "waits on fd";
	case GR_WAIT_POOL: return "waits for a pool job";
	case GR_WAIT_WORK: return "waits for a call on a worker";
	case GR_WAIT_SIGNAL: return "waits for a signal";
	default: return "waits";
	}
}

static const struct gr_thread *thread_by_owner_id(int id)
{
	for (const struct gr_thread *t = gr_rt.all; t; t = t->all_next)
		if (t->owner_id == id)
			return t;
	return NULL;
}

/* " held by thread 3 "name"" for the holder of a lock, if still alive. */
static void describe_owner(char *buf, size_t cap, const struct gr_thread *o, int held)
{
	if (o)
		snprintf(buf, cap, " held by thread %llu \"%s\"", (unsigned long long)o->id,
			 o->name);
	else if (held)
		snprintf(buf, cap, " held by a thread that has finished");
	else
		buf[0] = '\0';
}

void gr_deadlock_holder(const struct gr_thread *t, char *buf, size_t cap)
{
	const void *o = t->wait_obj;

	buf[0] = '\0';
	switch (t->wait) {
	case GR_WAIT_MUTEX: {
		int id = gr_mutex_holder(o);
		describe_owner(buf, cap, thread_by_owner_id(id), id);
		return;
	}
	case GR_WAIT_RWLOCK: {
		int writer;
		unsigned readers;
		if (gr_rwlock_holder(o, &writer, &readers))
			describe_owner(buf, cap, thread_by_owner_id(writer), writer);
		else
			snprintf(buf, cap, " held by %u readers", readers);
		return;
	}
	case GR_WAIT_FILE: {
		uint64_t h = gr_file_owner(o);
		const struct gr_thread *w = gr_rt.all;
		while (w && w->handle != h)
			w = w->all_next;
		describe_owner(buf, cap, w, h != 0);
		return;
	}
	default: return;
	}
}

static void report_thread(const struct gr_thread *t)
{
	char held[96] = "";
	const void *o = t->wait_obj;

	switch (t->wait) {
	case GR_WAIT_JOIN: {
		const struct gr_thread *j = o;
		gr_log(GR_LOG_WARN, "  thread %llu \"%s\" joins thread %llu \"%s\"",
		       (unsigned long long)t->id, t->name, (unsigned long long)j->id, j->name);
		return;
	}
	case GR_WAIT_MUTEX:
		gr_deadlock_holder(t, held, sizeof(held));
		gr_log(GR_LOG_WARN, "  thread %llu \"%s\" waits for mutex %p%s",
		       (unsigned long long)t->id, t->name, o, held);
		return;
	case GR_WAIT_RWLOCK:
		gr_deadlock_holder(t, held, sizeof(held));
		gr_log(GR_LOG_WARN, "  thread %llu \"%s\" waits for rwlock %p%s",
		       (unsigned long long)t->id, t->name, o, held);
		return;
	case GR_WAIT_FILE:
		gr_deadlock_holder(t, held, sizeof(held));
		gr_log(GR_LOG_WARN, "  thread %llu \"%s\" waits for the lock of FILE %p%s",
		       (unsigned long long)t->id, t->name, o, held);
		return;
	default:
		if (o)
			gr_log(GR_LOG_WARN, "  thread %llu \"%s\" %s %p", (unsigned long long)t->id,
			       t->name, wait_name(t), o);
		else
			gr_log(GR_LOG_WARN, "  thread %llu \"%s\" %s", (unsigned long long)t->id,
			       t->name, wait_name(t));
	}
}

static void report(void)
{
	reported = 1;
	gr_log(GR_LOG_ERROR,
	       "deadlock: every green thread is blocked and nothing pending can wake one:");
	for (struct gr_thread *t = gr_rt.all; t; t = t->all_next)
		report_thread(t);
	if (gr_config.deadlock_abort) {
		gr_log(GR_LOG_ERROR, "aborting (GREENIFY_DEADLOCK=abort)");
		abort();
	}
}

void gr_deadlock_check(void)
{
	if (reported)
		return;
	/* With a handler of the program's installed, or a sigwait parked, a
	 * signal may still wake someone: not a deadlock we can prove. */
	/* Nor while another process or a foreign OS thread may still wake
	 * one. */
	if (gr_rt.live_timers == 0 && gr_fd_waiters == 0 && gr_pool_jobs == 0 && gr_kwaiters == 0 &&
	    !gr_foreign && !gr_signal_can_wake())
		report();
}

void gr_deadlock_reset(void)
{
	reported = 0;
}
