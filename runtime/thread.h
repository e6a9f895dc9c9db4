/* A green thread: its control block, its states, and its lifecycle
 * (thread.c): create, join, detach, exit, and finding a thread from the
 * pthread_t the program holds. The scheduler that runs these (sched.h)
 * includes this header. */
#ifndef GR_THREAD_H
#define GR_THREAD_H

#include <stddef.h>
#include <stdint.h>

#include "../arch/ctx.h"
#include "stack.h"
#include "tls.h"

enum gr_state {
	GR_RUNNABLE, /* in the run queue */
	GR_RUNNING,  /* gr_rt.cur */
	GR_PARKED,   /* waiting for gr_wake() or its deadline */
	GR_DONE,     /* finished; its stack waits for a join (or is freed) */
	GR_NEW,	     /* created, not yet in the run queue */
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
	GR_WAIT_POOL,	/* a pool job no signal interrupts (libuv's, a lookup) */
	GR_WAIT_WORK,	/* a call on a worker that a handler interrupts (worker.c) */
	GR_WAIT_SIGNAL, /* sigsuspend; sigwait when wait_obj (its set) is set */
	GR_WAIT_FILE,	/* a FILE another green thread holds (libio.c) */
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
	unsigned char state;	    /* enum gr_state */
	unsigned char wait;	    /* enum gr_wait while parked */
	unsigned char in_heap;	    /* parked with a deadline in gr_rt.timers */
	unsigned char canary : 1;   /* the stack has a canary, not a guard page */
	unsigned char realtime : 1; /* SCHED_FIFO or SCHED_RR (rt_prio) */
	int wake_result;	    /* what gr_wake() passed, or -ETIMEDOUT */
	int saved_errno;	    /* errno while switched out */
	int owner_id;		    /* what this thread writes as a lock's owner:
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
	void *onces;		       /* pthread_once routines running (once.c),
					  innermost first */
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
	unsigned char unwound;	       /* a forced unwind wrote struct pthread's
					  cold end (tls.h) */
	struct gr_thread *all_prev;    /* list of unfinished threads, for the */
	struct gr_thread *all_next;    /* deadlock report */
	char name[16];		       /* pthread_setname_np name, NUL-terminated */
	uintptr_t green_stack;	       /* gr_rt.green_stack while this runs */
	size_t guard_asked;	       /* the attr's guard size, as glibc reports it */
	unsigned char policy;	       /* SCHED_OTHER, SCHED_FIFO, ... (schedattr.h) */
	unsigned char rt_prio;	       /* its priority: 1..99 when realtime, else 0 */
	unsigned char reset_on_fork;   /* SCHED_RESET_ON_FORK was given */
	uint64_t cpu_units;	       /* time it ran, while accounted (cpuclock.h) */
	struct gr_thread *user_next;   /* threads on the program's own stack */
	struct gr_thread *user_prev;   /* memory (thread.c) */
	/* The innermost signal delivery running in this thread (signal.h). */
	struct gr_sig_level *sig_level;
	unsigned handled; /* signal handlers run in this thread: an fd wait
			     tells from it that one ran while it was parked,
			     also when it ended otherwise */
	uint32_t since;	  /* when it last parked or became runnable, as
			     gr_dump_stamp(), while dumps are on
			     (GREENIFY_DUMP): the dump's "for how long"
			     (32 bits: the hole before the end) */
};

/* With TLS of its own the block sits below the TLS (tls.h). */
static inline struct gr_thread *gr_thread_at(const struct gr_stack *s)
{
	char *hi = gr_slot_top(s);

	if (gr_tls_private)
		hi = gr_tls_stack_top(hi);
	return (struct gr_thread *)(((uintptr_t)hi - sizeof(struct gr_thread)) & ~(uintptr_t)63);
}

/* One word for "the stack of the green thread running now": the 4 KiB
 * boundary at or above its control block (still in its slot), with the
 * number of 4 KiB blocks below it that are its stack (at most 4,095) in the
 * low bits. 0 for main and the hub, and between switches. One word, so
 * that another OS thread never reads half of one thread's and half of
 * another's. */
#define GR_STACK_BLOCK_SHIFT 12 /* 4 KiB blocks */
#define GR_STACK_BLOCK_MASK  (((uintptr_t)1 << GR_STACK_BLOCK_SHIFT) - 1)
uintptr_t gr_green_stack_of(const struct gr_thread *t);

/* Owner id written into locks by thread number id (1 is main). */
int gr_owner_id_for(uint64_t id);

/* What gr_thread_create makes. */
struct gr_create {
	void *(*start)(void *); /* thread function */
	void *arg;		/* its argument */
	size_t stack_size;	/* 0: the default (attr.h) */
	size_t guard_size;	/* guard below the stack (rounded up to pages) */
	void *stack_addr;	/* the program's own memory (pthread_attr_setstack,
				   stack_size bytes), or NULL for a slot */
	int detached;		/* starts detached */
	int explicit_sched;	/* PTHREAD_EXPLICIT_SCHED: policy and priority */
	int policy;		/* from here, else the creator's */
	int priority;
	int unstarted; /* not queued: the caller starts it */
};
/* Makes a thread and queues it, or with c->unstarted leaves it to the
 * caller to finish (its signal mask) and start (gr_sched_start_new). 0, or
 * -EAGAIN (no memory), -EINVAL (a stack glibc would refuse, a bad policy),
 * -EPERM (a real-time policy without the privilege). */
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
/* pthread_setname_np's name (at most 15 bytes are kept) for the deadlock
 * report and pthread_getname_np. */
void gr_thread_set_name(struct gr_thread *t, const char *name);

/* Frees a finished thread's stack (and TLS), or a dropped one's. */
void gr_thread_release(struct gr_thread *t);

#endif
