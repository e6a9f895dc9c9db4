/* Cancellation (cancel.c), pthread_cancel's contract for green threads.
 *
 * gr_cancel asks t to cancel (0 or -ESRCH for a finished thread, which glibc
 * accepts too: 0). Cancellation points call gr_cancel_begin on the way in
 * and gr_cancel_end on the way out: a request pending on the way in, or one
 * that interrupted the wait (the wait returns -EINTR), unwinds the thread
 * with PTHREAD_CANCELED, once the call's own state is clean (a condition
 * wait has its mutex back). */
#ifndef GR_CANCEL_H
#define GR_CANCEL_H

#include "sched.h"

int gr_cancel(struct gr_thread *t);
int gr_cancel_setstate(int state, int *old);
int gr_cancel_settype(int type, int *old);
void gr_cancel_test(void);
/* In gr_park, for an asynchronously cancellable thread with a request
 * that acts: leaves the wait it is in, if it may, and unwinds. */
void gr_cancel_parked(void);

static inline void gr_cancel_begin(void)
{
	struct gr_thread *self = gr_rt.cur;

	/* The way into a blocking call is a safe point too: a signal that
	 * came before the call (a kill() of the caller's own process) runs
	 * its handler first, as the kernel does on the way out of kill, and
	 * then does not interrupt the call. */
	if (__builtin_expect(gr_rt.sig_pending || self->sig_pending, 0))
		gr_signal_safe_point();
	if (__builtin_expect(self->cancel_pending, 0))
		gr_cancel_test();
	self->cancel_point = 1;
}

/* For a cancellation point with a cleanup of its own (system kills its
 * child first): gr_cancel_hold marks the point without acting on a request
 * (handlers of pending signals run); gr_cancel_due says whether one should
 * act now; gr_cancel_release ends the point and says whether one should:
 * the caller then cleans up and calls gr_cancel_test. */
void gr_cancel_hold(void);
int gr_cancel_due(void);
int gr_cancel_release(void);

/* interrupted: the call failed with EINTR, or may end early on a cancel
 * anyway (a condition wait, a join). */
static inline void gr_cancel_end(int interrupted)
{
	struct gr_thread *self = gr_rt.cur;

	self->cancel_point = 0;
	if (__builtin_expect(self->cancel_kicked, 0)) {
		self->cancel_kicked = 0;
		if (interrupted)
			gr_cancel_test();
	}
	/* The way out is a safe point too: a signal the call itself raised
	 * (a write's SIGPIPE) runs its handler before the call returns, as
	 * the kernel delivers it on the way out of the system call. */
	if (__builtin_expect(gr_rt.sig_pending || self->sig_pending, 0))
		gr_signal_safe_point();
}

#endif
