/* Deferred cancellation of green threads (pthread_cancel).
 *
 * A request is noted in the target; the target acts on it at its next
 * cancellation point (the hooks of the calls POSIX names: sleeps, reads
 * and writes, waits for readiness, condition waits, joins, semaphore and
 * child waits, pthread_testcancel), or at once if it is parked in one: it
 * is made runnable with -EINTR, as a signal would, so that the call undoes
 * what it started (leaves its wait queue, takes a condition's mutex back)
 * before it unwinds. Acting means pthread_exit(PTHREAD_CANCELED): with TLS
 * of its own the thread unwinds through its cleanup handlers and C++
 * destructors. PTHREAD_CANCEL_ASYNCHRONOUS acts at once where the thread
 * waits, in any wait whose only trace is its place on a wait queue, a join
 * or a sleep (gr_cancel_parked: a mutex, a condition, a barrier, a raw
 * futex... not only at cancellation points), and otherwise at its next
 * cancellation point or wait: a green thread only stops in our code. */
#include "cancel.h"

#include <pthread.h>
#include <stdint.h>

#include "sched.h"
#include "signal.h"
#include "wait.h"

/* Waits a thread may leave at any moment: all they hold is a place on a
 * wait queue (which gr_wait_cancel takes back), a join's claim, or nothing.
 * An fd wait, a pool job and a signal wait keep state elsewhere; they are
 * cancellation points, where deferred cancellation acts anyway. */
static int abandonable(unsigned char why)
{
	switch (why) {
	case GR_WAIT_SLEEP:
	case GR_WAIT_JOIN:
	case GR_WAIT_YIELD:
	case GR_WAIT_MUTEX:
	case GR_WAIT_COND:
	case GR_WAIT_RWLOCK:
	case GR_WAIT_SEM:
	case GR_WAIT_BARRIER:
	case GR_WAIT_ONCE:
	case GR_WAIT_FUTEX: return 1;
	default: return 0;
	}
}

int gr_cancel(struct gr_thread *t)
{
	t->cancel_pending = 1;
	if (t->cancel_disabled || t->state == GR_DONE)
		return 0;
	if (t == gr_rt.cur) {
		if (t->cancel_async)
			gr_cancel_test();
		return 0;
	}
	if (t->state == GR_PARKED &&
	    (t->cancel_point || (t->cancel_async && abandonable(t->wait)))) {
		t->cancel_kicked = 1;
		t->sig_restart = 0; /* an interrupted call must not restart */
		gr_interrupt(t);
	}
	return 0;
}

void gr_cancel_parked(void)
{
	struct gr_thread *self = gr_rt.cur;

	if (!abandonable(self->wait) || self->in_handler)
		return;
	/* What the wait left behind: its place on a wait queue, its claim on
	 * the thread it joins. Then it unwinds from here, as glibc's
	 * asynchronous cancellation unwinds from inside the futex wait. */
	self->cancel_kicked = 0;
	gr_wait_cancel(self);
	if (self->wait == GR_WAIT_JOIN && self->wait_obj)
		((struct gr_thread *)self->wait_obj)->joiner = NULL;
	self->wait = GR_WAIT_NONE;
	self->wait_obj = NULL;
	self->interrupted = 0;
	gr_cancel_test();
}

int gr_cancel_due(void)
{
	const struct gr_thread *self = gr_rt.cur;

	return self->cancel_pending && !self->cancel_disabled;
}

void gr_cancel_hold(void)
{
	struct gr_thread *self = gr_rt.cur;

	if (gr_rt.sig_pending || self->sig_pending)
		gr_signal_safe_point();
	self->cancel_point = 1;
}

int gr_cancel_release(void)
{
	struct gr_thread *self = gr_rt.cur;

	self->cancel_point = 0;
	self->cancel_kicked = 0;
	return gr_cancel_due();
}

void gr_cancel_test(void)
{
	struct gr_thread *self = gr_rt.cur;

	if (!gr_cancel_due())
		return;
	/* Once: cleanup handlers may call cancellation points themselves. */
	self->cancel_disabled = 1;
	self->cancel_point = 0;
	/* At a cancellation point inside a signal handler, glibc unwinds
	 * through the handler's frames into the interrupted code's (its
	 * cleanup handlers first): none of the handler levels is returned
	 * to, as after a longjmp out of them. */
	if (self->sig_level)
		gr_signal_escape(UINTPTR_MAX);
	gr_thread_unwind(PTHREAD_CANCELED);
}

int gr_cancel_setstate(int state, int *old)
{
	struct gr_thread *self = gr_rt.cur;

	if (state != PTHREAD_CANCEL_ENABLE && state != PTHREAD_CANCEL_DISABLE)
		return -EINVAL;
	if (old)
		*old = self->cancel_disabled ? PTHREAD_CANCEL_DISABLE : PTHREAD_CANCEL_ENABLE;
	self->cancel_disabled = state == PTHREAD_CANCEL_DISABLE;
	/* glibc: enabling with a request pending in asynchronous mode acts. */
	if (!self->cancel_disabled && self->cancel_async)
		gr_cancel_test();
	return 0;
}

int gr_cancel_settype(int type, int *old)
{
	struct gr_thread *self = gr_rt.cur;

	if (type != PTHREAD_CANCEL_DEFERRED && type != PTHREAD_CANCEL_ASYNCHRONOUS)
		return -EINVAL;
	if (old)
		*old = self->cancel_async ? PTHREAD_CANCEL_ASYNCHRONOUS : PTHREAD_CANCEL_DEFERRED;
	self->cancel_async = type == PTHREAD_CANCEL_ASYNCHRONOUS;
	if (self->cancel_async)
		gr_cancel_test();
	return 0;
}
