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

#include "../arch/ctx.h"
#include "stack.h"
#include "timer.h"
#include "tls.h"

enum gr_state {
	GR_RUNNABLE, /* in the run queue */
	GR_RUNNING,  /* gr_rt.cur */
	GR_PARKED,   /* waiting for gr_wake() or its deadline */
	GR_DONE,     /* finished; its stack waits for a join (or is freed) */
};

#define GR_MAGIC 0x67726e74u /* "grnt": a live control block */

/* What a parked thread waits for, for the deadlock report. */
enum gr_wait {
	GR_WAIT_NONE,
	GR_WAIT_SLEEP,
	GR_WAIT_JOIN,
	GR_WAIT_YIELD,
	GR_WAIT_MUTEX,
	GR_WAIT_COND,
	GR_WAIT_RWLOCK,
	GR_WAIT_SEM,
	GR_WAIT_BARRIER,
	GR_WAIT_ONCE,
	GR_WAIT_FUTEX,
	GR_WAIT_FD,
	GR_WAIT_POOL,
	GR_WAIT_SIGNAL, /* sigsuspend; sigwait when wait_obj (its set) is set */
};

/* A green thread's control block. It lives at the top of the thread's own
 * stack, so a sleeping thread costs the one page its stack top touches. */
struct gr_thread {
	/* First cache line: what a switch, a park and a wake-up touch. With
	 * thousands of threads every block is cold, so keep it to one line. */
	struct gr_ctx ctx;	  /* saved registers while not running */
	struct gr_thread *next;	  /* run-queue link */
	const void *q_addr;	  /* address whose wait queue holds us */
	struct gr_thread *q_next; /* wait-queue links */
	struct gr_thread *q_prev;
	unsigned char state;   /* enum gr_state */
	unsigned char wait;    /* enum gr_wait while parked */
	unsigned char in_heap; /* parked with a deadline in gr_rt.timers */
	unsigned char canary;  /* the stack has a canary, not a guard page */
	int wake_result;       /* what gr_wake() passed, or -ETIMEDOUT */
	int saved_errno;       /* errno while switched out */
	int owner_id;	       /* what this thread writes as a lock's owner:
				  the OS tid for main, as glibc does */
	/* The rest. */
	int64_t deadline;	       /* monotonic ns, while in_heap */
	uint32_t q_bitset;	       /* FUTEX_WAIT_BITSET mask (all ones otherwise) */
	uint32_t magic;		       /* GR_MAGIC while the handle is valid */
	void *wait_obj;		       /* object waited on (joined thread, ...) */
	uint64_t handle;	       /* the pthread_t the program sees */
	uint64_t id;		       /* 1 for main, then 2, 3, ... in creation order */
	unsigned char detached;	       /* no join will come: free at exit */
	void *(*start)(void *);	       /* thread function */
	void *arg;		       /* its argument */
	void *retval;		       /* what main passed to pthread_exit (other
					  threads hand theirs over at exit) */
	void *join_ret;		       /* return value handed to this thread, the
					  joiner, by the thread it joins */
	struct gr_thread *joiner;      /* thread parked in join on this one */
	struct specific *specific;     /* pthread_setspecific values (key.c) */
	void *robust;		       /* robust mutexes held (mutex.c), newest first */
	struct gr_stack stack;	       /* where this block and the stack live */
	uint64_t sig_pending;	       /* signals pending on this thread (bit sig - 1) */
	uint64_t sig_mask;	       /* signals this thread blocks (signal.h) */
	unsigned char in_handler;      /* running a signal handler now */
	unsigned char sig_restart;     /* the last handlers all had SA_RESTART */
	unsigned char join_done;       /* the thread we join handed its value over */
	unsigned char interrupted;     /* made runnable by a signal while parked;
					  still on its wait queue */
	unsigned char cancel_pending;  /* pthread_cancel asked; acted on at a
					  cancellation point when enabled */
	unsigned char cancel_disabled; /* PTHREAD_CANCEL_DISABLE */
	unsigned char cancel_async;    /* PTHREAD_CANCEL_ASYNCHRONOUS */
	unsigned char cancel_point;    /* parked inside a cancellation point */
	unsigned char cancel_kicked;   /* a cancel interrupted that wait */
	struct gr_thread *all_prev;    /* list of unfinished threads, for the */
	struct gr_thread *all_next;    /* deadlock report */
	char name[16];		       /* pthread_setname_np name, NUL-terminated */
	unsigned handled;	       /* signal handlers run in this thread: a wait
					  tells from it that one ran while it was
					  parked, also when it ended otherwise */
	uintptr_t green_stack;	       /* gr_rt.green_stack while this runs */
};

/* Where a pool stack's control block sits: at its top, cache-line aligned,
 * and "coloured": slots are a whole number of pages apart, so without an
 * offset every thread's block, TLS and first frames would sit at the same
 * offset in a page and compete for the same few cache sets (L1 sets are
 * picked by the offset in the page). gr_slot_colours + 1 colours of 64
 * bytes, from the slot's address: 8, or 4 with TLS of its own per thread,
 * whose block and first frames share the second page with the end of the
 * TLS, and a Python thread's deepest frames still fit there with 4
 * (among 1,000 and 10,000 threads, 4 were as fast as 8 or faster:
 * bench/RESULTS.md, 2026-11-26). */
extern unsigned gr_slot_colours;

static inline char *gr_slot_top(const struct gr_stack *s)
{
	return s->lo + s->size - ((uintptr_t)s->lo >> 12 & gr_slot_colours) * 64;
}

/* With TLS of its own the block sits below the TLS (tls.h). */
static inline struct gr_thread *gr_thread_at(const struct gr_stack *s)
{
	char *hi = gr_slot_top(s);

	if (gr_tls_private)
		hi = gr_tls_stack_top(hi);
	return (struct gr_thread *)(((uintptr_t)hi - sizeof(struct gr_thread)) & ~(uintptr_t)63);
}

/* The scheduler: one runtime thread, so plain globals. */
struct gr_runtime {
	struct gr_thread *cur;	     /* running green thread (or &hub) */
	uintptr_t green_stack;	     /* the stack cur runs on, or 0 (see
					gr_green) */
	struct gr_thread *runq_head; /* FIFO of runnable threads */
	struct gr_thread *runq_tail;
	struct gr_thread *zombie;      /* detached thread to free after its
					  last switch */
	int started;		       /* the runtime thread exists */
	int inside;		       /* runtime or libuv code is running: hooks
					  must call libc */
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
	volatile int sig_pending; /* a signal arrived: dispatch at a safe point */
	uv_loop_t loop;		  /* the event loop the hub runs */
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

/* One word for "the stack of the green thread running now": the 4 KiB
 * boundary at or above its control block (still in its slot), with the
 * number of 4 KiB blocks below it that are its stack (at most 4,095) in the
 * low bits. 0 for main and the hub, and between switches. One word, so
 * that another OS thread never reads half of one thread's and half of
 * another's. */
uintptr_t gr_green_stack_of(const struct gr_thread *t);

/* True when the caller is a green thread running program code: hooks then
 * take the green path; otherwise they call libc and nothing else.
 *
 * "Is this the runtime's OS thread?" Only that thread runs on a green
 * thread's stack, so a stack pointer inside the running thread's stack
 * answers yes without touching memory of the thread's own; everything
 * else (main, the hub, a deep or foreign stack) asks the TLS flag. With TLS
 * of its own per green thread, that flag is one more cold cache line, on
 * the page above the thread's block, after every switch among thousands
 * of threads: 11 ns a switch among 10,000 (bench/RESULTS.md, 2026-11-26). */
static inline int gr_green(void)
{
	uintptr_t w = gr_rt.green_stack, hi = w & ~(uintptr_t)4095;

	if (hi - gr_sp() <= (w & 4095) << 12)
		return !gr_rt.inside;
	return gr_tls_runtime && !gr_rt.inside;
}

/* Starts the runtime on the calling OS thread, which becomes green thread 1.
 * Returns 0, -EALREADY when another OS thread runs it, or -errno. */
int gr_start(void);

/* Parks the current thread until gr_wake() or, if deadline (monotonic ns) is
 * not 0, until then. Returns gr_wake()'s result or -ETIMEDOUT. */
int gr_park(enum gr_wait why, void *obj, int64_t deadline);
/* Makes a parked thread runnable; its gr_park() returns result. */
void gr_wake(struct gr_thread *t, int result);
/* Makes a parked thread runnable with -EINTR, as a signal does, leaving it
 * on its wait queue: a real wake-up before it runs still counts (gr_wake),
 * and the wait it returns to decides whether to restart. No-op unless t is
 * parked. */
void gr_interrupt(struct gr_thread *t);
/* Takes a parked thread off the wait queue it is on (wait.c), if any. */
void gr_wait_cancel(struct gr_thread *t);
/* Owner id written into locks by thread number id (1 is main). */
int gr_owner_id_for(uint64_t id);
/* Lets every other runnable thread run once, then continues. */
void gr_yield(void);
/* Called by hooks that did not block: yields once the current thread has
 * run a whole time slice, so busy threads cannot starve the others. */
void gr_slice_check(void);

void gr_signal_safe_point(void);

static inline void gr_maybe_yield(void)
{
	if (__builtin_expect(gr_rt.sig_pending || gr_rt.cur->sig_pending, 0))
		gr_signal_safe_point();
	if (__builtin_expect((++gr_rt.hook_ticks & 255) == 0, 0))
		gr_slice_check();
}

/* Lifecycle (thread.c). */
struct gr_create {
	void *(*start)(void *);
	void *arg;
	size_t stack_size; /* 0: GREENIFY_STACK_SIZE */
	int detached;
};
int gr_thread_create(const struct gr_create *c, struct gr_thread **out);
/* Joins the thread behind handle. deadline: 0 waits forever, -1 does not
 * wait (tryjoin), else a monotonic deadline. 0 or -ESRCH, -EINVAL,
 * -EDEADLK, -EBUSY, -ETIMEDOUT as pthread_join and its variants. */
int gr_thread_join(uint64_t handle, int64_t deadline, void **retval);
int gr_thread_detach(uint64_t handle);
/* 1 when the thread has finished (not yet joined), 0 when it runs or waits,
 * -ESRCH when handle names no thread. */
int gr_thread_done(uint64_t handle);
void gr_thread_exit(void *retval) __attribute__((noreturn));
/* pthread_exit: with TLS of its own, the thread unwinds its stack first
 * (cleanup handlers, C++ destructors), as glibc's threads do; then, and
 * for main or with shared TLS, gr_thread_exit. */
void gr_thread_unwind(void *retval) __attribute__((noreturn));
/* Whether handle could name a green thread (live, finished, or stale), as
 * opposed to an OS thread the runtime itself started (libuv's pool), which
 * the real pthread functions handle. */
int gr_thread_is_green_handle(uint64_t handle);
/* The unfinished thread behind a handle (or main, finished or not), or NULL. */
struct gr_thread *gr_thread_find(uint64_t handle);

/* Cancellation (cancel.c). gr_cancel asks t to cancel (0 or -ESRCH for a
 * finished thread, which glibc accepts too: 0). Cancellation points call
 * gr_cancel_begin on the way in and gr_cancel_end on the way out: a
 * request pending on the way in, or one that interrupted the wait (the
 * wait returns -EINTR), unwinds the thread with PTHREAD_CANCELED, once
 * the call's own state is clean (a condition wait has its mutex back). */
int gr_cancel(struct gr_thread *t);
int gr_cancel_setstate(int state, int *old);
int gr_cancel_settype(int type, int *old);
void gr_cancel_test(void);

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
}

/* Internal to the runtime: used by thread.c and guard.c. */
void gr_schedule(void);
void gr_sched_entered(void);
void gr_guard_init(void);
void gr_report_overflow(const struct gr_thread *t) __attribute__((noreturn));
void gr_runq_push(struct gr_thread *t);
void gr_thread_release(struct gr_thread *t);

#endif
