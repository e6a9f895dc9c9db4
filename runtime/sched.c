/* The scheduler: the run queue, the switch, parking and waking, time
 * slices, and the deadlines of parked threads. The hub (hub.c) runs the
 * event loop when nothing here is runnable. */
#include "sched.h"

#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <string.h>

#include "clock.h"
#include "cancel.h"
#include "config.h"
#include "cpuclock.h"
#include "dump.h"
#include "guard.h"
#include "schedattr.h"
#include "log.h"
#include "signal.h"
#include "sud.h"
#include "tls.h"
#include "wait.h"

struct gr_runtime gr_rt;
struct gr_thread gr_main_thread;
struct gr_thread gr_hub;
__thread int gr_tls_runtime __attribute__((tls_model("initial-exec")));

/* Runnable real-time threads: a FIFO per priority and a bitmap of the
 * non-empty ones. Only threads with a real-time policy come here, so a
 * program without any keeps the plain queue's cost (one flag tested). */
static struct {
	struct gr_thread *head, *tail;
} rtq[GR_RT_PRIOS];
static uint64_t rt_bits[2];
static int64_t rt_starved_since;   /* since when a plain thread waits behind them, or 0 */
static int64_t rt_throttled_until; /* till then plain threads go first (rt_throttled) */

static int rt_top(void)
{
	return rt_bits[1] ? 64 + 63 - __builtin_clzll(rt_bits[1])
			  : 63 - __builtin_clzll(rt_bits[0]);
}

static int cur_prio(void)
{
	return gr_rt.cur->realtime ? gr_rt.cur->rt_prio : 0;
}

static void rt_push(struct gr_thread *t, int at_head)
{
	int p = t->rt_prio;

	if (at_head) {
		t->next = rtq[p].head;
		rtq[p].head = t;
		if (!rtq[p].tail)
			rtq[p].tail = t;
	} else {
		if (rtq[p].tail)
			rtq[p].tail->next = t;
		else
			rtq[p].head = t;
		rtq[p].tail = t;
	}
	rt_bits[p / 64] |= (uint64_t)1 << (p % 64);
	gr_rt.rt_runnable++;
	/* Natively it would preempt a lower-priority thread at once: here
	 * the running thread gives way at its next hook. */
	if (p > cur_prio())
		gr_rt.rt_preempt = 1;
}

static struct gr_thread *rt_pop(void)
{
	int p = rt_top();
	struct gr_thread *t = rtq[p].head;

	rtq[p].head = t->next;
	if (!rtq[p].head) {
		rtq[p].tail = NULL;
		rt_bits[p / 64] &= ~((uint64_t)1 << (p % 64));
	}
	gr_rt.rt_runnable--;
	__builtin_prefetch(t->ctx.sp);
	return t;
}

/* Puts t first in its queue: a thread that was only made to give way (a
 * time slice ended, a higher priority came) runs before its equals. */
static void runq_push_head(struct gr_thread *t)
{
	GR_ASSERT(t->state != GR_RUNNABLE);
	t->state = GR_RUNNABLE;
	if (t->realtime) {
		rt_push(t, 1);
		return;
	}
	t->next = gr_rt.runq_head;
	gr_rt.runq_head = t;
	if (!gr_rt.runq_tail)
		gr_rt.runq_tail = t;
}

/* The fresh thread (gr_sched_start_new) runs next: first in the queue. */
static void fresh_flush(void)
{
	struct gr_thread *t = gr_rt.fresh;

	gr_rt.fresh = NULL;
	runq_push_head(t);
}

/* Takes runnable t out of whichever queue holds it. */
static void runq_remove(struct gr_thread *t)
{
	struct gr_thread **head, **tail, *prev = NULL;
	int p = t->rt_prio;

	if (t->realtime) {
		head = &rtq[p].head;
		tail = &rtq[p].tail;
	} else {
		head = &gr_rt.runq_head;
		tail = &gr_rt.runq_tail;
	}
	for (struct gr_thread *q = *head; q; prev = q, q = q->next)
		if (q == t) {
			if (prev)
				prev->next = t->next;
			else
				*head = t->next;
			if (*tail == t)
				*tail = prev;
			break;
		}
	if (t->realtime) {
		gr_rt.rt_runnable--;
		if (!rtq[p].head)
			rt_bits[p / 64] &= ~((uint64_t)1 << (p % 64));
	}
}

void gr_runq_requeue(struct gr_thread *t, int policy, int prio)
{
	int queued;

	if (t == gr_rt.fresh)
		fresh_flush(); /* queued by its new policy below */
	queued = t->state == GR_RUNNABLE;

	if (queued)
		runq_remove(t);
	t->policy = (unsigned char)policy;
	t->realtime = policy == SCHED_FIFO || policy == SCHED_RR;
	t->rt_prio = t->realtime ? (unsigned char)prio : 0;
	if (queued) {
		t->state = GR_NEW;
		gr_runq_push(t);
	} else if (t == gr_rt.cur && gr_rt.rt_runnable && rt_top() > cur_prio()) {
		gr_rt.rt_preempt = 1; /* it lowered itself below a runnable thread */
	}
}

void gr_runq_reset(void)
{
	gr_rt.fresh = NULL;
	gr_rt.runq_head = gr_rt.runq_tail = NULL;
	memset(rtq, 0, sizeof(rtq));
	rt_bits[0] = rt_bits[1] = 0;
	gr_rt.rt_runnable = 0;
	gr_rt.rt_preempt = 0;
	rt_starved_since = rt_throttled_until = 0;
}

void gr_sched_preempt(void)
{
	struct gr_thread *self = gr_rt.cur;

	gr_rt.rt_preempt = 0;
	if (!gr_rt.rt_runnable || rt_top() <= cur_prio() || self == &gr_hub)
		return;
	/* A preempted thread stays first among its equals, as the kernel
	 * keeps a preempted real-time thread at the head of its list. */
	runq_push_head(self);
	gr_schedule();
}

void gr_runq_push(struct gr_thread *t)
{
	GR_ASSERT(t->state != GR_RUNNABLE); /* queued twice would loop the queue */
	t->state = GR_RUNNABLE;
	t->next = NULL;
	if (__builtin_expect(gr_dump_on, 0))
		t->since = gr_dump_stamp();
	if (__builtin_expect(t->realtime, 0)) {
		rt_push(t, 0);
		return;
	}
	if (gr_rt.runq_tail)
		gr_rt.runq_tail->next = t;
	else
		gr_rt.runq_head = t;
	gr_rt.runq_tail = t;
}

/* The kernel's real-time throttling (sched_rt_runtime_us and
 * sched_rt_period_us, at their defaults): real-time threads that keep the
 * CPU from the others for RT_RUNTIME let them have the rest of the period.
 * A SCHED_FIFO thread spinning on sched_yield while the thread it waits
 * for has the plain policy (stress-ng's mutex stressor, whose main would
 * never run to take the signal that stops it) gets on natively, even on
 * one CPU, and so must here, where every thread shares one. */
#define RT_RUNTIME (950 * GR_MSEC)
#define RT_PERIOD  (1000 * GR_MSEC)

/* Whether the next thread comes from the plain queue although a
 * real-time one is runnable. */
static int rt_throttled(void)
{
	int64_t now;

	if (!gr_rt.runq_head) {
		rt_starved_since = 0; /* nobody waits */
		return 0;
	}
	now = gr_now();
	if (now < rt_throttled_until)
		return 1;
	if (!rt_starved_since)
		rt_starved_since = now;
	if (now - rt_starved_since < RT_RUNTIME)
		return 0;
	rt_starved_since = 0;
	rt_throttled_until = now + (RT_PERIOD - RT_RUNTIME);
	return 1;
}

static struct gr_thread *runq_pop(void)
{
	struct gr_thread *t;

	if (__builtin_expect(gr_rt.rt_runnable != 0, 0) && !rt_throttled())
		return rt_pop();
	t = gr_rt.runq_head;
	if (t) {
		gr_rt.runq_head = t->next;
		if (!gr_rt.runq_head)
			gr_rt.runq_tail = NULL;
		/* Every control block is on a page of its own and went cold
		 * while its thread waited: fetch the one after this now, and
		 * this one's saved registers, while other work goes on. With
		 * 100,000 threads these misses were most of a switch. */
		else
			__builtin_prefetch(gr_rt.runq_head);
		__builtin_prefetch(t->ctx.sp);
	}
	return t;
}

/* Runs first in every context after a switch lands: frees the thread that
 * switched away for the last time (it could not free the stack it was
 * running on). Not in the hub, which leaves it to the next green thread
 * that runs (none can end before one has run): freeing its TLS calls the
 * program's free (glibc's _dl_deallocate_tls), which may take a mutex of
 * the program's (jemalloc's), and the hub is no thread that may hold or
 * wait for one (as the holder "0" it left the mutex looking free but
 * locked for good, which the atomic way then waited on for ever). */
void gr_sched_entered(void)
{
	struct gr_thread *z = gr_rt.zombie;

	if (z && gr_rt.cur != &gr_hub) {
		gr_rt.zombie = NULL;
		gr_thread_release(z);
	}
}

static void switch_to(struct gr_thread *next)
{
	struct gr_thread *self = gr_rt.cur;

	if (next == self) {
		/* A signal made this thread runnable while it parked. */
		self->state = GR_RUNNING;
		if (__builtin_expect(self->sig_pending != 0, 0) && self != &gr_hub)
			gr_signal_run();
		return;
	}
	if (__builtin_expect(self->canary, 0) && *(uint64_t *)self->stack.lo != GR_CANARY)
		gr_report_overflow(self);
	if (__builtin_expect(gr_own_held, 0))
		gr_signal_own_release(); /* switching away inside GR_SIG_OWN's handler */
	self->saved_errno = *gr_rt.errno_loc;
	if (__builtin_expect(gr_sigmask_split, 0))
		gr_sigmask_switch(next); /* SIGPIPE blocked as next blocks it */
	next->state = GR_RUNNING;
	gr_rt.cur = next;
	gr_rt.switches++;
	if (__builtin_expect(gr_ctx_ucontext, 0))
		gr_signal_carry_mask(next->ctx.uc); /* the OS thread's mask stays */
	if (next->ctx.tp)
		gr_tls_before_run(next->ctx.tp);
	if (__builtin_expect(gr_rt.cpu_on, 0))
		gr_cpuclock_switch(self);
	gr_rt.green_stack = 0;
	gr_sud_rearm();
	gr_ctx_switch(&self->ctx, &next->ctx);
	gr_rt.green_stack = self->green_stack; /* the line of sig_pending */
	gr_sched_entered();
	*gr_rt.errno_loc = self->saved_errno;
	if (__builtin_expect(self->sig_pending != 0, 0) && self != &gr_hub)
		gr_signal_run();
}

/* A new thread waits in gr_rt.fresh, queued nowhere, until its creator
 * switches or creates the next thread; then it runs first. Its pages were
 * written a moment ago and are still in cache: queued at the back, it ran
 * after every thread made in the same slice, and with thousands of them
 * each started on pages gone cold (Prog 1 at 1M threads: 2.4 s queued, 1.7
 * s this way). The creator's code up to that point (pthread_setname_np,
 * pthread_detach, storing the handle) runs before the new thread, as it
 * usually does natively, where the new thread starts on another CPU some
 * microseconds later. */
void gr_sched_start_new(struct gr_thread *t)
{
	struct gr_thread *self = gr_rt.cur;

	GR_ASSERT(t->state == GR_NEW && !gr_rt.fresh);
	if (self == &gr_hub || self->realtime || t->realtime) {
		gr_runq_push(t);
		return;
	}
	if (__builtin_expect(gr_dump_on, 0))
		t->since = gr_dump_stamp();
	gr_rt.fresh = t;
}

static void give_way(int64_t now);

/* Every how many runs of a fresh thread its creator's slice is looked at
 * (a power of two): a clock read each time would be a tenth of a create. */
#define FRESH_CHECK_EVERY 16

void gr_sched_run_fresh(void)
{
	struct gr_thread *t = gr_rt.fresh, *self = gr_rt.cur;
	int64_t start, now = 0;

	if (!t)
		return;
	/* A real-time thread keeps the CPU (a real-time creator, or one
	 * runnable that outranks the creator, whose hooks give way to it): the
	 * new thread only goes first among the plain ones. */
	if (self->realtime || gr_rt.rt_runnable) {
		fresh_flush();
		return;
	}
	/* Its run counts against its creator's time slice, timed here: the
	 * slice checks every GR_SLICE_CHECK_EVERY-th hook may all land in the
	 * new threads (a creator and its threads making the same hooks each
	 * time), and a creator that makes short-lived threads one after the
	 * other must still give way to the queued threads, and let the hub
	 * poll, once its slice is over or a deadline passed. */
	if (gr_rt.slice_owner != self) {
		now = gr_now();
		gr_rt.slice_owner = self;
		gr_rt.slice_start = now;
	}
	/* Due sleepers are looked for every FRESH_CHECK_EVERY-th run, also
	 * when the creator's slice has just begun: in small batches they run
	 * while the pages of the threads they free are in cache (Prog 1 at
	 * 1M: 1.6 s; 1.7-1.95 s when only a slice's end looked). */
	if ((++gr_rt.fresh_runs & (FRESH_CHECK_EVERY - 1)) == 0) {
		if (!now)
			now = gr_now();
		if (now >= gr_rt.poll_at || now - gr_rt.slice_start >= gr_config.slice_ns) {
			/* As at a preemption, the new thread first. */
			fresh_flush();
			give_way(now);
			return;
		}
	}
	start = gr_rt.slice_start;
	gr_rt.fresh = NULL;
	runq_push_head(self);
	switch_to(t);
	/* A slice that ended meanwhile (the new thread's, preempted or
	 * yielding) was charged already: the creator starts a new one. */
	if (gr_rt.slice_owner) {
		gr_rt.slice_owner = self;
		gr_rt.slice_start = start;
	}
}

void gr_signal_safe_point(void)
{
	if (gr_rt.sig_pending)
		gr_signal_dispatch();
	if (gr_rt.cur->sig_pending && gr_rt.cur != &gr_hub)
		gr_signal_run();
}

/* Whether the hub should poll the loop before the next thread runs: timers
 * may be due or I/O ready although threads are still runnable. The clock is
 * read only every POLL_EVERY-th switch (a power of two): a switch costs a
 * few ns, the clock ~20, and 128 switches take microseconds. */
#define POLL_EVERY 128

static int poll_due(void)
{
	return (++gr_rt.ticks & (POLL_EVERY - 1)) == 0 && gr_now() >= gr_rt.poll_at;
}

void gr_schedule(void)
{
	struct gr_thread *next = NULL;

	if (gr_rt.fresh)
		fresh_flush();
	if (__builtin_expect(gr_rt.sig_pending, 0))
		gr_signal_dispatch(); /* may make a parked target runnable */
	if (!poll_due())
		next = runq_pop();
	switch_to(next ? next : &gr_hub);
}

/* An asynchronously cancellable thread with a request pending is
 * cancelled where it parks (cancel.c), on the way in or when the request
 * interrupted the wait (a real wake-up that came first wins: the thread
 * got what it waited for, and acts at its next cancellation point). */
static int cancel_now(const struct gr_thread *self)
{
	return self->cancel_async && self->cancel_pending && !self->cancel_disabled &&
	       !self->cancel_point && !self->in_handler;
}

static void timers_compact(void);

int gr_park(enum gr_wait why, void *obj, int64_t deadline)
{
	struct gr_thread *self = gr_rt.cur;

	GR_ASSERT(self->state == GR_RUNNING);
	self->wait = (unsigned char)why;
	self->wait_obj = obj;
	if (__builtin_expect(gr_dump_on, 0))
		self->since = gr_dump_stamp();
	if (__builtin_expect(self->cancel_async, 0) && cancel_now(self))
		gr_cancel_parked(); /* returns only for a wait it may not leave */
	self->state = GR_PARKED;
	if (deadline) {
		GR_ASSERT(!self->in_heap); /* a running thread has no live deadline */
		/* Room is reserved for every live thread (gr_timers_room):
		 * once abandoned entries are dropped, this one fits. */
		if (gr_rt.timers.n == gr_rt.timers.cap)
			timers_compact();
		GR_ASSERT(gr_rt.timers.n < gr_rt.timers.cap);
		gr_timers_add(&gr_rt.timers, deadline, self);
		self->deadline = deadline;
		self->in_heap = 1;
		gr_rt.live_timers++;
		if (deadline < gr_rt.poll_at)
			gr_rt.poll_at = deadline;
	}
	gr_schedule();
	if (__builtin_expect(self->cancel_kicked, 0) && self->wake_result == -EINTR &&
	    cancel_now(self))
		gr_cancel_parked();
	self->wait = GR_WAIT_NONE;
	self->wait_obj = NULL;
	self->interrupted = 0;
	return self->wake_result;
}

/* Whether a heap entry still stands for a parked thread's deadline; the
 * others were abandoned by an earlier wake-up. */
static int timer_live(const struct gr_tentry *e)
{
	const struct gr_thread *t = e->owner;

	return t->in_heap && t->deadline == e->deadline && t->state == GR_PARKED;
}

/* Keeps one live entry per thread: a thread woken and parked again with
 * the same deadline (a lock retried) has two that both look live. */
static int timer_live_once(const struct gr_tentry *e)
{
	struct gr_thread *t = e->owner;

	if (!timer_live(e) || t->in_heap == 2)
		return 0;
	t->in_heap = 2;
	return 1;
}

static void timer_mark(const struct gr_tentry *e)
{
	((struct gr_thread *)e->owner)->in_heap = 1;
}

/* Drops every abandoned entry: afterwards there are no more entries than
 * parked threads with a deadline. */
static void timers_compact(void)
{
	gr_timers_filter(&gr_rt.timers, timer_live_once);
	gr_timers_each(&gr_rt.timers, timer_mark);
}

int gr_timers_room(uint64_t threads)
{
	return gr_timers_reserve(&gr_rt.timers, threads);
}

/* The earliest live entry, dropping abandoned ones on the way. */
static const struct gr_tentry *timers_top(void)
{
	const struct gr_tentry *e;

	while ((e = gr_timers_top(&gr_rt.timers)) && !timer_live(e))
		gr_timers_pop(&gr_rt.timers);
	return e;
}

void gr_wake(struct gr_thread *t, int result)
{
	if (t->state != GR_PARKED) {
		/* A signal made it runnable first: a real wake-up wins, so the
		 * wait completes as if the signal had come just after. */
		GR_ASSERT(t->interrupted && t->state == GR_RUNNABLE);
		t->wake_result = result;
		t->interrupted = 0;
		return;
	}
	if (t->in_heap) {
		t->in_heap = 0;
		gr_rt.live_timers--;
		/* Abandoned entries are dropped lazily; do not let them
		 * outgrow the live ones. */
		if (gr_rt.timers.n > 2 * gr_rt.live_timers + 1024)
			timers_compact();
	}
	t->wake_result = result;
	__builtin_prefetch(t->ctx.sp); /* where the switch to t will read */
	gr_rt.wakes++;
	gr_runq_push(t);
}

void gr_interrupt(struct gr_thread *t)
{
	if (t->state != GR_PARKED)
		return;
	if (t->in_heap) {
		t->in_heap = 0;
		gr_rt.live_timers--;
	}
	t->wake_result = -EINTR;
	t->interrupted = 1;
	gr_runq_push(t);
}

void gr_yield(void)
{
	gr_runq_push(gr_rt.cur);
	gr_schedule();
}

static void slice_over(int64_t now);

void gr_slice_check(void)
{
	int64_t now = gr_now();

	if (now < gr_rt.poll_at) {
		if (gr_rt.slice_owner != gr_rt.cur) {
			gr_rt.slice_owner = gr_rt.cur;
			gr_rt.slice_start = now;
			return;
		}
		if (now - gr_rt.slice_start < gr_config.slice_ns)
			return;
	}
	slice_over(now);
}

static void expire(int64_t now);

/* The running thread goes to the back, after the threads queued. */
static void give_way(int64_t now)
{
	/* Threads whose sleep ended while this one computed go first, as
	 * the kernel favours a thread that slept over one that computed. */
	expire(now);
	/* And the hub polls before the next thread runs (slice_over): I/O, a
	 * child's exit, whatever the loop has, which expire alone does not see. */
	slice_over(now);
}

void gr_sched_preempted(void)
{
	give_way(gr_now());
}

/* The running thread used up its slice. */
static void slice_over(int64_t now)
{
	gr_rt.slice_owner = NULL;
	/* Make the next gr_schedule() visit the hub, so it runs the timers
	 * and I/O that are due before this thread runs again: a slice is the
	 * longest the loop goes unpolled (poll_at may be far, or never set
	 * while no thread parked with a deadline). */
	gr_rt.ticks |= POLL_EVERY - 1;
	if (gr_rt.poll_at > now)
		gr_rt.poll_at = now;
	if (__builtin_expect(gr_rt.cur->realtime, 0)) {
		/* SCHED_FIFO runs until it blocks or yields, SCHED_RR for its
		 * round-robin slice: the hub only polls, then it goes on. */
		struct gr_thread *self = gr_rt.cur;
		if (self->policy == SCHED_RR) {
			if (gr_rt.rr_owner != self) {
				gr_rt.rr_owner = self;
				gr_rt.rr_start = now;
			} else if (now - gr_rt.rr_start >= gr_schedattr_rr_slice()) {
				gr_rt.rr_owner = NULL; /* to the end of its priority's queue */
				gr_yield();
				return;
			}
		}
		runq_push_head(self);
		gr_schedule();
		return;
	}
	gr_yield();
}

/* Makes every thread whose deadline has passed runnable. Due entries are
 * taken off the heap in batches first, prefetching their threads, and only
 * then checked and woken: each thread is a cache miss on a page of its own,
 * and this way the misses overlap instead of queueing. */
static void expire(int64_t now)
{
	enum { BATCH = 32 };
	struct gr_tentry due[BATCH];
	const struct gr_tentry *e;

	for (;;) {
		int n = 0;
		while (n < BATCH && (e = gr_timers_top(&gr_rt.timers)) && e->deadline <= now) {
			due[n] = *e;
			__builtin_prefetch(e->owner, 1);
			gr_timers_pop(&gr_rt.timers);
			n++;
		}
		for (int i = 0; i < n; i++) {
			struct gr_thread *t = due[i].owner;
			if (!timer_live(&due[i]))
				continue;		  /* abandoned: its thread woke earlier */
			GR_ASSERT(gr_rt.live_timers > 0); /* counts the in_heap flags */
			t->in_heap = 0;
			gr_rt.live_timers--;
			if (t->q_addr)
				gr_wait_cancel(t); /* no wake-up may pick it any more */
			t->wake_result = -ETIMEDOUT;
			gr_runq_push(t);
		}
		if (n < BATCH)
			break;
	}
	e = timers_top();
	gr_rt.poll_at = now + gr_config.slice_ns;
	if (e && e->deadline < gr_rt.poll_at)
		gr_rt.poll_at = e->deadline;
}

int64_t gr_sched_next_deadline(void)
{
	const struct gr_tentry *e = timers_top();

	return e ? e->deadline : 0;
}

int gr_sched_run_from_hub(int64_t now)
{
	struct gr_thread *next;

	/* Every switch to the hub went through gr_schedule, which queued it. */
	GR_ASSERT(!gr_rt.fresh);
	expire(now);
	next = runq_pop();
	if (!next)
		return 0;
	switch_to(next);
	return 1;
}
