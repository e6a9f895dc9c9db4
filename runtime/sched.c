/* The scheduler: run queue, switches, parking, the hub and its loop. */
#include "sched.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "real.h"
#include "fdwait.h"
#include "fork.h"
#include "pool.h"
#include "signal.h"
#include "tls.h"

struct gr_runtime gr_rt;
unsigned gr_slot_colours = 7;
struct gr_thread gr_main_thread;
__thread int gr_tls_runtime __attribute__((tls_model("initial-exec")));

#define HUB_STACK (256 * 1024)

static struct gr_thread hub;  /* runs the loop; not a program thread */
static ucontext_t main_uc;    /* main's saved state in ucontext mode */
static uv_poll_t timer_poll;  /* readiness of timer_fd */
static int timer_fd = -1;     /* fires at the earliest deadline */
static int deadlock_reported; /* the current stall was reported */

void gr_runq_push(struct gr_thread *t)
{
	t->state = GR_RUNNABLE;
	t->next = NULL;
	if (gr_rt.runq_tail)
		gr_rt.runq_tail->next = t;
	else
		gr_rt.runq_head = t;
	gr_rt.runq_tail = t;
}

static struct gr_thread *runq_pop(void)
{
	struct gr_thread *t = gr_rt.runq_head;

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

/* Runs first in every context after a switch lands: frees the detached
 * thread that switched away for the last time (it could not free the stack
 * it was running on). */
void gr_sched_entered(void)
{
	struct gr_thread *z = gr_rt.zombie;

	if (z) {
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
		if (__builtin_expect(self->sig_pending != 0, 0) && self != &hub)
			gr_signal_run();
		return;
	}
	if (__builtin_expect(self->canary, 0) && *(uint64_t *)self->stack.lo != GR_CANARY)
		gr_report_overflow(self);
	self->saved_errno = *gr_rt.errno_loc;
	next->state = GR_RUNNING;
	gr_rt.cur = next;
	gr_rt.switches++;
	if (__builtin_expect(gr_ctx_ucontext, 0))
		gr_signal_carry_mask(next->ctx.uc); /* the OS thread's mask stays */
	if (next->ctx.tp)
		gr_tls_before_run(next->ctx.tp);
	gr_rt.green_stack = 0;
	gr_ctx_switch(&self->ctx, &next->ctx);
	gr_rt.green_stack = self->green_stack; /* the line of sig_pending */
	gr_sched_entered();
	*gr_rt.errno_loc = self->saved_errno;
	if (__builtin_expect(self->sig_pending != 0, 0) && self != &hub)
		gr_signal_run();
}

void gr_signal_safe_point(void)
{
	if (gr_rt.sig_pending)
		gr_signal_dispatch();
	if (gr_rt.cur->sig_pending && gr_rt.cur != &hub)
		gr_signal_run();
}

/* Whether the hub should poll the loop before the next thread runs: timers
 * may be due or I/O ready although threads are still runnable. The clock is
 * read only every 128th switch: a switch costs a few ns, the clock ~20, and
 * 128 switches take microseconds. */
static int poll_due(void)
{
	return (++gr_rt.ticks & 127) == 0 && gr_now() >= gr_rt.poll_at;
}

void gr_schedule(void)
{
	struct gr_thread *next = NULL;

	if (__builtin_expect(gr_rt.sig_pending, 0))
		gr_signal_dispatch(); /* may make a parked target runnable */
	if (!poll_due())
		next = runq_pop();
	switch_to(next ? next : &hub);
}

int gr_park(enum gr_wait why, void *obj, int64_t deadline)
{
	struct gr_thread *self = gr_rt.cur;

	self->state = GR_PARKED;
	self->wait = (unsigned char)why;
	self->wait_obj = obj;
	if (deadline) {
		if (gr_timers_add(&gr_rt.timers, deadline, self) < 0)
			gr_die("out of memory for %zu timers", gr_rt.timers.n);
		self->deadline = deadline;
		self->in_heap = 1;
		gr_rt.live_timers++;
		if (deadline < gr_rt.poll_at)
			gr_rt.poll_at = deadline;
	}
	gr_schedule();
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
			gr_timers_filter(&gr_rt.timers, timer_live);
	}
	t->wake_result = result;
	__builtin_prefetch(t->ctx.sp); /* where the switch to t will read */
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
	gr_rt.slice_owner = NULL;
	/* Make the next gr_schedule() read the clock, so the hub runs the
	 * timers and I/O that are due before this thread runs again. */
	gr_rt.ticks |= 127;
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
				continue; /* abandoned: its thread woke earlier */
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

/* Points the timerfd at the earliest deadline; a system call only when
 * that deadline changed. */
static void arm_timer(void)
{
	const struct gr_tentry *e = timers_top();
	int64_t want = e ? e->deadline : 0;
	struct itimerspec its = {0};

	if (want == gr_rt.armed)
		return;
	its.it_value.tv_sec = want / GR_NSEC;
	its.it_value.tv_nsec = want % GR_NSEC;
	if (timerfd_settime(timer_fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		gr_die("timerfd_settime: %s", strerror(errno));
	gr_rt.armed = want;
}

static void on_timer(uv_poll_t *h, int status, int events)
{
	uint64_t expirations;

	(void)h;
	(void)status;
	(void)events;
	/* Non-blocking: a stale readiness report just finds EAGAIN. */
	if (gr_real.read(timer_fd, &expirations, sizeof(expirations)) > 0)
		gr_rt.armed = 0;
}

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

/* "held by thread 3 "name"" for the holder of a lock, if still alive. */
static void describe_holder(char *buf, size_t cap, int owner_id)
{
	const struct gr_thread *o = thread_by_owner_id(owner_id);

	if (o)
		snprintf(buf, cap, " held by thread %llu \"%s\"", (unsigned long long)o->id,
			 o->name);
	else if (owner_id)
		snprintf(buf, cap, " held by a thread that has finished");
	else
		buf[0] = '\0';
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
	case GR_WAIT_MUTEX: {
		const pthread_mutex_t *m = o;
		int owner = (m->__data.__kind & 16) ? (m->__data.__lock & 0x3fffffff)
						    : m->__data.__owner;
		describe_holder(held, sizeof(held), owner);
		gr_log(GR_LOG_WARN, "  thread %llu \"%s\" waits for mutex %p%s",
		       (unsigned long long)t->id, t->name, o, held);
		return;
	}
	case GR_WAIT_RWLOCK: {
		const pthread_rwlock_t *rw = o;
		if (rw->__data.__readers & 2)
			describe_holder(held, sizeof(held), rw->__data.__cur_writer);
		else
			snprintf(held, sizeof(held), " held by %u readers",
				 rw->__data.__readers >> 3);
		gr_log(GR_LOG_WARN, "  thread %llu \"%s\" waits for rwlock %p%s",
		       (unsigned long long)t->id, t->name, o, held);
		return;
	}
	default:
		if (o)
			gr_log(GR_LOG_WARN, "  thread %llu \"%s\" %s %p", (unsigned long long)t->id,
			       t->name, wait_name(t), o);
		else
			gr_log(GR_LOG_WARN, "  thread %llu \"%s\" %s", (unsigned long long)t->id,
			       t->name, wait_name(t));
	}
}

/* Nothing is runnable and nothing pending can make a thread runnable: the
 * native program would hang here too. Say who waits for what, once per
 * stall, then hang like it (or abort, with GREENIFY_DEADLOCK=abort). */
static void report_deadlock(void)
{
	if (deadlock_reported)
		return;
	deadlock_reported = 1;
	gr_log(GR_LOG_ERROR,
	       "deadlock: every green thread is blocked and nothing pending can wake one:");
	for (struct gr_thread *t = gr_rt.all; t; t = t->all_next)
		report_thread(t);
	if (gr_config.deadlock_abort) {
		gr_log(GR_LOG_ERROR, "aborting (GREENIFY_DEADLOCK=abort)");
		abort();
	}
}

static void hub_main(void *arg)
{
	(void)arg;
	gr_sched_entered();
	for (;;) {
		int block = gr_rt.runq_head == NULL;
		if (block) {
			arm_timer();
			/* With a handler of the program's installed, or a
			 * sigwait parked, a signal may still wake someone: not
			 * a deadlock we can prove. */
			if (gr_rt.live_timers == 0 && gr_fd_waiters == 0 && gr_pool_jobs == 0 &&
			    !gr_signal_can_wake())
				report_deadlock();
		}
		gr_rt.inside = 1;
		uv_run(&gr_rt.loop, block ? UV_RUN_ONCE : UV_RUN_NOWAIT);
		gr_rt.inside = 0;
		if (gr_rt.sig_pending)
			gr_signal_dispatch();
		expire(gr_now());
		struct gr_thread *next = runq_pop();
		if (next) {
			deadlock_reported = 0;
			switch_to(next);
		}
	}
}

static int start_loop(void)
{
	int err;

	gr_rt.inside = 1;
	err = uv_loop_init(&gr_rt.loop);
	if (err < 0)
		goto out;
	timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (timer_fd < 0) {
		err = -errno;
		goto out_loop;
	}
	err = uv_poll_init(&gr_rt.loop, &timer_poll, timer_fd);
	if (err < 0)
		goto out_fd;
	err = uv_poll_start(&timer_poll, UV_READABLE, on_timer);
	if (err < 0)
		goto out_fd;
	err = gr_signal_init(&gr_rt.loop);
	if (err < 0)
		goto out_fd;
	err = gr_fd_init(&gr_rt.loop);
	if (err < 0)
		goto out_fd;
	gr_rt.inside = 0;
	return 0;
out_fd:
	close(timer_fd);
	timer_fd = -1;
out_loop:
	uv_loop_close(&gr_rt.loop);
out:
	gr_rt.inside = 0;
	return err;
}

int gr_start(void)
{
	static int starting;
	struct gr_thread *m = &gr_main_thread;
	struct gr_stack hs;
	int err;

	if (__atomic_exchange_n(&starting, 1, __ATOMIC_ACQ_REL))
		return gr_tls_runtime ? 0 : -EALREADY;
	gr_real_init();
	gr_config_load();
	err = gr_ctx_select(gr_config.ucontext || !gr_ctx_have_asm);
	if (err < 0)
		return err;

	m->handle = (uint64_t)gr_real.pthread_self();
	m->id = 1;
	gr_rt.os_tid = (int)gettid();
	/* glibc wrote this tid into the locks main took before we started. */
	m->owner_id = gr_rt.os_tid;
	m->magic = GR_MAGIC;
	m->state = GR_RUNNING;
	prctl(PR_GET_NAME, m->name);
	gr_ctx_init_current(&m->ctx, &main_uc);
	gr_rt.cur = m;
	gr_rt.all = m;
	gr_rt.errno_loc = &errno; /* saves a libc call per switch, twice */
	gr_rt.live = gr_rt.peak_live = 1;
	gr_rt.next_id = 2;
	gr_rt.poll_at = INT64_MAX;

	err = start_loop();
	if (err < 0) {
		gr_log(GR_LOG_ERROR, "cannot start the event loop: %s", strerror(-err));
		return err;
	}
	err = gr_stack_alloc(HUB_STACK, &hs);
	if (err < 0)
		return err;
	hub.stack = hs;
	hub.canary = hs.guard == GR_GUARD_CANARY;
	hub.id = 0;
	hub.state = GR_RUNNABLE;
	strcpy(hub.name, "greenify-hub");
	gr_ctx_make(&hub.ctx, hs.lo, hs.size, hub_main, NULL);
	/* Main and the hub keep the OS thread's TLS; green threads get their
	 * own unless TLS is shared (then every thread pointer is NULL). */
	if (!gr_config.tls_shared && gr_tls_init() == 0) {
		m->ctx.tp = hub.ctx.tp = gr_tls_base();
		gr_slot_colours = 3;
		/* The block, TLS and the first frames of a thread that sleeps. */
		gr_stack_set_prefault(sizeof(struct gr_thread) + gr_tls_room() + 1024);
	}

	gr_guard_init();
	gr_fork_init();
	gr_tls_runtime = 1;
	gr_rt.started = 1;
	gr_log(GR_LOG_DEBUG, "runtime started on OS thread %d (%s switch)", gr_rt.os_tid,
	       gr_ctx_ucontext ? "ucontext" : "asm");
	return 0;
}

/* In the child of fork (fork.c), running the thread that forked: the other
 * threads are gone, and the loop's kernel objects are the parent's too. An
 * epoll set is shared through fork (a change by one process is a change for
 * both), and so are the timerfd (one process would re-arm, or read away, the
 * other's deadline) and the eventfds: each process needs its own. */
int gr_rt_after_fork_child(void)
{
	struct gr_thread *self = gr_rt.cur;
	int err, fd;

	/* A new epoll set with every started watcher in it, and new eventfds
	 * for libuv's own wake-ups. */
	err = uv_loop_fork(&gr_rt.loop);
	if (err < 0)
		return err;
	/* libuv's pool may have signalled a completion just before the fork:
	 * its flag, still set, would swallow every later wake-up, since the
	 * eventfd that carried it is not the child's (uv_loop_fork leaves the
	 * flag as it was). The completions themselves are the parent's jobs,
	 * which pool.c ignores. */
	gr_rt.loop.wq_async.pending = 0;
	/* A new timerfd under the old number: timer_poll watches that number. */
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (gr_real.dup3(fd, timer_fd, O_CLOEXEC) < 0) {
		err = -errno;
		gr_real.close(fd);
		return err;
	}
	gr_real.close(fd);
	gr_rt.armed = 0;

	gr_rt.runq_head = gr_rt.runq_tail = NULL;
	gr_rt.timers.n = 0;
	gr_rt.live_timers = 0;
	gr_rt.poll_at = INT64_MAX;
	gr_rt.zombie = NULL;
	gr_rt.slice_owner = NULL;
	gr_rt.sig_pending = 0; /* a child starts with no signal pending */
	self->sig_pending = 0;
	self->joiner = NULL; /* a thread of the parent's */
	self->all_prev = self->all_next = NULL;
	gr_rt.all = self;
	gr_rt.live = gr_rt.peak_live = 1;
	/* The child's statistics are its own. */
	gr_rt.created = 0;
	gr_rt.switches = 0;
	gr_rt.foreign_runs = 0;
	gr_rt.os_tid = (int)gettid();
	deadlock_reported = 0;
	return 0;
}

/* The process is exiting (our library's destructors run before libuv's):
 * from now on every hook calls libc. libuv's own destructor joins its pool
 * threads through pthread mutexes and conditions that those threads wait
 * on for real; green versions would never wake them. */
__attribute__((destructor)) static void pass_through_at_exit(void)
{
	gr_rt.inside = 1;
}
