/* Green threads and the scheduler.
 *
 * M:1: every green thread runs on the runtime thread, the OS thread that
 * started the runtime (normally main's). A thread that must wait parks:
 * it records what wakes it and switches directly to the next runnable
 * thread (FIFO). Only when nothing is runnable does it switch to the hub, a
 * context with its own stack that runs the libuv loop until something
 * becomes runnable. Scheduler state lives in ordinary globals, not TLS: there
 * is one runtime thread, and once each green thread has TLS of its own a
 * __thread variable would change under our feet at every switch. */
#ifndef GR_SCHED_H
#define GR_SCHED_H

#include <errno.h>
#include <stdint.h>
#include <uv.h>

#include "thread.h"
#include "timer.h"

/* The scheduler: one runtime thread, so plain globals. */
struct gr_runtime {
	struct gr_thread *cur;	     /* running green thread (or &hub) */
	uintptr_t green_stack;	     /* the stack cur runs on, or 0 (see
					gr_green) */
	struct gr_thread *runq_head; /* FIFO of runnable threads */
	struct gr_thread *runq_tail;
	struct gr_thread *fresh;  /* made, not yet run nor queued (sched.c) */
	unsigned fresh_runs;	  /* fresh threads run by their creators */
	struct gr_thread *zombie; /* detached thread to free after its
				     last switch */
	int started;		  /* the runtime thread exists */
	int inside;		  /* runtime or libuv code is running: hooks
				     must call libc */
	/* Still the first cache line, which a switch and a hook touch. */
	unsigned char cpu_on;	       /* CPU time is accounted (cpuclock.h) */
	unsigned char rt_preempt;      /* a runnable real-time thread outranks
					  the running one */
	unsigned rt_runnable;	       /* runnable real-time threads (sched.c) */
	struct gr_timers timers;       /* deadlines of parked threads */
	size_t live_timers;	       /* threads with in_heap set */
	int64_t poll_at;	       /* visit the hub when now reaches this */
	int64_t armed;		       /* deadline the timerfd is set to, or 0 */
	unsigned ticks;		       /* switches since the clock was read */
	unsigned hook_ticks;	       /* hook calls since the clock was read */
	struct gr_thread *slice_owner; /* thread whose slice is being timed */
	int64_t slice_start;	       /* when slice_owner was first seen running */
	uint64_t next_id;	       /* id of the next thread created */
	uint64_t live;		       /* green threads not yet finished */
	uint64_t peak_live;	       /* maximum of live */
	uint64_t created;	       /* green threads created */
	uint64_t switches;	       /* context switches */
	int os_tid;		       /* kernel tid of the runtime thread */
	int foreign_runs;	       /* green threads seen on another OS thread */
	struct gr_thread *all;	       /* unfinished threads (all_next list) */
	int *errno_loc; /* the runtime thread's errno: TLS is shared, so one location for all */
	volatile int sig_pending;   /* a signal arrived: dispatch at a safe point */
	uv_loop_t loop;		    /* the event loop the hub runs */
	struct gr_thread *rr_owner; /* SCHED_RR thread whose slice is timed */
	int64_t rr_start;	    /* when its slice began */
	uint64_t wakes;		    /* gr_wake calls: threads that waited and
				       were woken (preempt.c) */
};

extern struct gr_runtime gr_rt;
extern struct gr_thread gr_main_thread;

/* Set on the runtime OS thread only: the cheap "could I be green?" test. */
extern __thread int gr_tls_runtime __attribute__((tls_model("initial-exec")));

/* The caller's stack pointer. */
static inline uintptr_t gr_sp(void)
{
	uintptr_t sp;

#if defined(__x86_64__)
	__asm__("movq %%rsp, %0" : "=r"(sp));
#elif defined(__aarch64__)
	__asm__("mov %0, sp" : "=r"(sp));
#else
	sp = (uintptr_t)__builtin_frame_address(0);
#endif
	return sp;
}

/* True when the caller is a green thread running program code: hooks then
 * take the green path; otherwise they call libc and nothing else.
 *
 * "Is this the runtime's OS thread?" Only that thread runs on a green
 * thread's stack, so a stack pointer inside the running thread's stack
 * answers yes without touching memory of the thread's own; everything
 * else (main, the hub, a deep or foreign stack) asks the TLS flag. With TLS
 * of its own per green thread, that flag is one more cold cache line, on
 * the page above the thread's block, after every switch among thousands
 * of threads (bench/RESULTS.md, "the switch among 10,000 threads"). */
static inline int gr_green(void)
{
	uintptr_t w = gr_rt.green_stack, hi = w & ~GR_STACK_BLOCK_MASK;

	if (hi - gr_sp() <= (w & GR_STACK_BLOCK_MASK) << GR_STACK_BLOCK_SHIFT)
		return !gr_rt.inside;
	return gr_tls_runtime && !gr_rt.inside;
}

/* Starts the runtime on the calling OS thread, which becomes green thread 1.
 * Returns 0, -EALREADY when another OS thread runs it, or -errno. */
int gr_start(void);

/* Parks the current thread until gr_wake() or, if deadline (monotonic ns) is
 * not 0, until then. Returns gr_wake()'s result or -ETIMEDOUT. */
int gr_park(enum gr_wait why, void *obj, int64_t deadline);
/* Makes room in the deadline heap for threads live threads, so that no
 * park ever allocates: 0, or -ENOMEM (no thread can be created). */
int gr_timers_room(uint64_t threads);
/* Makes a parked thread runnable; its gr_park() returns result. */
void gr_wake(struct gr_thread *t, int result);
/* Makes a parked thread runnable with -EINTR, as a signal does, leaving it
 * on its wait queue: a real wake-up before it runs still counts (gr_wake),
 * and the wait it returns to decides whether to restart. No-op unless t is
 * parked. */
void gr_interrupt(struct gr_thread *t);
/* Lets every other runnable thread run once, then continues. */
void gr_yield(void);
/* Called by hooks that did not block: yields once the current thread has
 * run a whole time slice, so busy threads cannot starve the others. */
void gr_slice_check(void);
/* The running thread was preempted at a safe point (preempt.c): it goes
 * to the back of the run queue (a real-time one as its policy says, as at
 * the end of a slice) and the hub polls before it runs again. */
void gr_sched_preempted(void);

void gr_signal_safe_point(void);

/* Hooks that did not block call this: a safe point for signals, and every
 * GR_SLICE_CHECK_EVERY-th call (a power of two) the time slice check, which
 * reads the clock: a hook that does not block costs tens of ns, the clock
 * ~20, so reading it every time would nearly double the cheapest hooks. */
#define GR_SLICE_CHECK_EVERY 256

/* A real-time thread became runnable that outranks the running one: the
 * running one gives way now. */
void gr_sched_preempt(void);

static inline void gr_maybe_yield(void)
{
	if (__builtin_expect(gr_rt.sig_pending || gr_rt.cur->sig_pending, 0))
		gr_signal_safe_point();
	if (__builtin_expect(gr_rt.rt_preempt, 0))
		gr_sched_preempt();
	if (__builtin_expect((++gr_rt.hook_ticks & (GR_SLICE_CHECK_EVERY - 1)) == 0, 0))
		gr_slice_check();
}

/* Internal to the runtime (thread.c, the hub). */
extern struct gr_thread gr_hub; /* runs the loop (hub.c); not a program thread */
/* Switches to the next runnable thread, or the hub; the caller has set its
 * own state. */
void gr_schedule(void);
/* Runs first in every context after a switch lands (frees the zombie). */
void gr_sched_entered(void);
/* Makes t runnable: appends it to the run queue (its priority's, for a
 * real-time thread). */
void gr_runq_push(struct gr_thread *t);
/* Starts new thread t: it runs at its creator's next switch or next
 * pthread_create, whichever comes first, before the threads queued; a
 * real-time creator or thread queues it as its policy says. */
void gr_sched_start_new(struct gr_thread *t);
/* The creator's next pthread_create: the thread it made before runs now,
 * and the creator goes on after it. */
void gr_sched_run_fresh(void);
/* Whether a thread other than the running one could run now: queued, or
 * made and not yet started (gr_rt.fresh). */
static inline int gr_sched_others_runnable(void)
{
	return gr_rt.runq_head || gr_rt.fresh || gr_rt.rt_runnable;
}
/* Gives t policy and prio (checked by the caller), moving it in the run
 * queue if it is there. */
void gr_runq_requeue(struct gr_thread *t, int policy, int prio);
/* In a fork child: no thread is runnable. */
void gr_runq_reset(void);
/* The earliest deadline of a parked thread (monotonic ns), or 0 if none. */
int64_t gr_sched_next_deadline(void);
/* The hub's turn: makes the threads whose deadline is at or before now
 * runnable, then runs the first runnable thread until the hub is switched
 * to again. 1 if a thread ran, 0 if none was runnable. */
int gr_sched_run_from_hub(int64_t now);

#endif
