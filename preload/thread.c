/* Thread lifecycle hooks: pthread_create, join and its timed and non-blocking
 * variants, detach, exit, self, equal, yield, getattr_np, names (the C11
 * thrd_* functions are c11.c's). A new thread takes its creator's signal
 * mask, or the attr's (pthread_attr_setsigmask_np), as natively.
 *
 * A green pthread_t is not a glibc struct pthread, so every pthread function
 * that takes one must be hooked: scheduling, the CPU clock and the affinity
 * are osthread.c's, signals signal.c's.
 *
 * Left to libc: pthread_attr_* (plain data), and everything a foreign OS
 * thread calls. Cancellation is osthread.c's and runtime/cancel.c's;
 * pthread_exit unwinds through cleanup handlers (runtime/thread.c). */
#include "hook.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/single_threaded.h>

#include "../runtime/attr.h"
#include "../runtime/cancel.h"
#include "../runtime/clock.h"
#include "../runtime/signal.h"
#include "../runtime/fork.h"
#include "../runtime/pool.h"
#include "../runtime/schedattr.h"
#include "../runtime/foreign.h"
#include "../runtime/timeout.h"
#include "../runtime/tls.h"

/* glibc's struct pthread_attr, for the one thing no getter tells: whether
 * a stack address was set (pthread_attr_getstack answers with an address
 * either way). Its layout has not changed since 2.x. */
struct glibc_attr {
	struct sched_param schedparam;
	int schedpolicy;
	int flags;
	size_t guardsize;
	void *stackaddr; /* the top of the stack, or NULL when not set */
	size_t stacksize;
};
_Static_assert(sizeof(struct glibc_attr) <= sizeof(pthread_attr_t), "attr layout");
/* Its flags: which scheduling fields were set. */
#define ATTR_FLAG_SCHED_SET  0x0020
#define ATTR_FLAG_POLICY_SET 0x0040

/* What glibc's pthread_create takes from attr (or, for NULL, from its
 * default attr, as glibc does): detach state, stack size, guard, the
 * program's own stack. A stack size left unset reads as glibc's default,
 * which is the one greenify uses (runtime/attr.h). */
static void read_attr(const pthread_attr_t *attr, struct gr_create *c)
{
	const struct glibc_attr *g = (const struct glibc_attr *)(const void *)attr;
	size_t size;
	int state;

	if (!attr) {
		c->detached = gr_thread_defaults.detached;
		c->guard_size = gr_thread_defaults.guard_size;
		if (gr_thread_defaults.explicit_sched) {
			c->explicit_sched = 1;
			c->policy = gr_thread_defaults.policy;
			c->priority = gr_thread_defaults.priority;
		}
		return;
	}
	/* PTHREAD_EXPLICIT_SCHED takes what the attr set (glibc's flags say
	 * which), the rest from the creator. */
	if (pthread_attr_getinheritsched(attr, &state) == 0 && state == PTHREAD_EXPLICIT_SCHED &&
	    (g->flags & (ATTR_FLAG_SCHED_SET | ATTR_FLAG_POLICY_SET))) {
		gr_schedattr_get(gr_rt.cur, &c->policy, &c->priority);
		c->explicit_sched = 1;
		if (g->flags & ATTR_FLAG_POLICY_SET)
			c->policy = g->schedpolicy;
		if (g->flags & ATTR_FLAG_SCHED_SET)
			c->priority = g->schedparam.sched_priority;
	}
	if (pthread_attr_getdetachstate(attr, &state) == 0)
		c->detached = state == PTHREAD_CREATE_DETACHED;
	if (pthread_attr_getstacksize(attr, &size) == 0)
		c->stack_size = size;
	if (pthread_attr_getguardsize(attr, &size) == 0)
		c->guard_size = size;
	if (g->stackaddr) {
		c->stack_addr = (char *)g->stackaddr - g->stacksize;
		c->stack_size = g->stacksize;
		c->guard_size = 0;
	}
}

/* glibc's __libc_single_threaded, as every module but glibc sees it. glibc
 * clears it only in its own pthread_create, and libstdc++ takes short cuts
 * on it (a function-local static's guard, stop_token, shared_ptr counts):
 * it must be false once a second thread exists, before that thread runs.
 * Defined here, it interposes glibc's, as an executable's copy relocation
 * would: glibc writes it through its GOT (true at start, false in its
 * pthread_create), and so do we, at the first green pthread_create. glibc's
 * internal copy, which its malloc and mutexes read, stays true until glibc
 * makes an OS thread: one OS thread runs every green thread, and none is
 * switched inside glibc. */
GR_EXPORT char __libc_single_threaded = 1;

/* The CPUs an attr names (pthread_attr_setaffinity_np): glibc's creator
 * gives them to the new thread before it runs, and a set the kernel
 * refuses fails the create with its error. The affinity is the one OS
 * thread's (osthread.c), so the new thread's set becomes everyone's, as a
 * sched_setaffinity in the thread would. glibc's getter answers every bit
 * set for an attr that names none: that one changes nothing. 0 or an
 * error number; *moved says whether *before holds CPUs to put back. */
static int all_cpus(const cpu_set_t *set)
{
	for (size_t i = 0; i < sizeof(set->__bits) / sizeof(set->__bits[0]); i++)
		if (set->__bits[i] != ~(__cpu_mask)0)
			return 0;
	return 1;
}

static int attr_affinity(const pthread_attr_t *attr, cpu_set_t *before, int *moved)
{
	cpu_set_t set;

	*moved = 0;
	CPU_ZERO(&set);
	/* Word compares, not CPU_COUNT, which glibc counts a bit at a time:
	 * 1,024 turns for an attr that names no CPUs (create + join with an
	 * attr: ~650 ns against ~210). */
	if (!attr || pthread_attr_getaffinity_np(attr, sizeof(set), &set) != 0 || all_cpus(&set))
		return 0;
	CPU_ZERO(before);
	if (GR_REAL(sched_getaffinity)(0, sizeof(*before), before) < 0)
		return errno;
	if (GR_REAL(sched_setaffinity)(0, sizeof(set), &set) < 0)
		return errno;
	*moved = 1;
	return 0;
}

static int create_green(pthread_t *th, const pthread_attr_t *attr, void *(*start)(void *),
			void *arg)
{
	struct gr_create c = {.start = start, .arg = arg, .unstarted = 1};
	struct gr_thread *t;
	int err;

	__libc_single_threaded = 0; /* as glibc's, even if the create fails */
	gr_sched_run_fresh();
	read_attr(attr, &c);
	int saved = errno; /* mmap/madvise may set it; pthread_* do not */
	cpu_set_t before;
	int moved;
	err = attr_affinity(attr, &before, &moved);
	if (err) {
		errno = saved;
		return err;
	}
	err = gr_thread_create(&c, &t);
	if (err < 0 && moved) /* no thread: the CPUs stay the creator's */
		GR_REAL(sched_setaffinity)(0, sizeof(before), &before);
	errno = saved;
	if (err < 0)
		return -err;
	/* It inherited the creator's mask, unless the attr names one; no attr
	 * means glibc's default attr (pthread_setattr_default_np), whose mask
	 * counts the same way (thrd_create's threads too). */
	sigset_t mask;
	if (attr ? pthread_attr_getsigmask_np(attr, &mask) == 0 : gr_thread_defaults.has_sigmask)
		gr_sigmask_set(t, gr_sigset_bits(attr ? &mask : &gr_thread_defaults.sigmask) &
					  ~GR_SIG_UNBLOCKABLE);
	*th = (pthread_t)t->handle;
	gr_sched_start_new(t);
	gr_maybe_yield();
	return 0;
}

GR_EXPORT int pthread_create(pthread_t *restrict th, const pthread_attr_t *restrict attr,
			     void *(*start)(void *), void *restrict arg)
{
	if (!gr_green_or_start()) {
		if (gr_tls_runtime && gr_rt.inside) { /* libuv's pool */
			int err = -gr_pool_thread_create(th, attr, start, arg);
			return err == ENOMEM ? EAGAIN : err;
		}
		return GR_REAL(pthread_create)(th, attr, start, arg);
	}
	return create_green(th, attr, start, arg);
}

/* kind: 0 waits forever, -1 does not wait, 1 waits until abstime on clk.
 * glibc's order: tryjoin answers EBUSY for any running thread (itself
 * included) before other checks; a timed join looks at the time only when
 * it has to wait, times out at once for a negative tv_sec, and treats an
 * invalid tv_nsec (which the kernel refuses) as no timeout at all. */
static int join_green(pthread_t th, void **ret, int kind, clockid_t clk,
		      const struct timespec *abstime)
{
	int64_t deadline = kind < 0 ? -1 : 0;
	int done = 1, err;

	if (kind != 0) {
		done = gr_thread_done((uint64_t)th);
		if (done < 0)
			return ESRCH;
	}
	if (kind < 0 && !done) {
		gr_maybe_yield(); /* a tryjoin loop must not starve the others */
		return EBUSY;
	}
	if (kind > 0 && !done && abstime->tv_nsec >= 0 && abstime->tv_nsec < GR_NSEC) {
		if (abstime->tv_sec < 0)
			return ETIMEDOUT;
		struct gr_timeout to = {abstime, clk, 0};
		if (gr_timeout_deadline(&to, &deadline) == -ETIMEDOUT)
			deadline = 1; /* passed: the join says so after its own checks */
	}
	/* A join is a cancellation point; a cancel ends its wait (-EINTR,
	 * which a join never returns otherwise). */
	gr_cancel_begin();
	do {
		err = -gr_thread_join((uint64_t)th, deadline, ret);
		gr_cancel_end(err == EINTR);
		if (err == EINTR)
			gr_cancel_begin();
	} while (err == EINTR);
	if (err != ETIMEDOUT)
		gr_maybe_yield();
	return err;
}

GR_EXPORT int pthread_join(pthread_t th, void **ret)
{
	/* An OS thread of the runtime's own (libuv's pool, joined by libuv
	 * at exit) is glibc's to join. */
	if (!gr_green() || !gr_thread_is_green_handle((uint64_t)th))
		return GR_REAL(pthread_join)(th, ret);
	return join_green(th, ret, 0, CLOCK_REALTIME, NULL);
}

GR_EXPORT int pthread_tryjoin_np(pthread_t th, void **ret)
{
	if (!gr_green())
		return GR_REAL(pthread_tryjoin_np)(th, ret);
	return join_green(th, ret, -1, CLOCK_REALTIME, NULL);
}

GR_EXPORT int pthread_timedjoin_np(pthread_t th, void **ret, const struct timespec *abstime)
{
	if (!gr_green())
		return GR_REAL(pthread_timedjoin_np)(th, ret, abstime);
	return join_green(th, ret, abstime ? 1 : 0, CLOCK_REALTIME, abstime);
}

GR_EXPORT int pthread_clockjoin_np(pthread_t th, void **ret, clockid_t clk,
				   const struct timespec *abstime)
{
	if (!gr_green())
		return GR_REAL(pthread_clockjoin_np)(th, ret, clk, abstime);
	if (clk != CLOCK_REALTIME && clk != CLOCK_MONOTONIC)
		return EINVAL;
	return join_green(th, ret, abstime ? 1 : 0, clk, abstime);
}

GR_EXPORT int pthread_detach(pthread_t th)
{
	if (!gr_green() || !gr_thread_is_green_handle((uint64_t)th))
		return GR_REAL(pthread_detach)(th);
	return -gr_thread_detach((uint64_t)th);
}

GR_EXPORT void pthread_exit(void *ret)
{
	if (!gr_green())
		GR_REAL(pthread_exit)(ret);
	gr_thread_unwind(ret);
}

GR_EXPORT pthread_t pthread_self(void)
{
	if (!gr_green())
		return GR_REAL(pthread_self)();
	return (pthread_t)gr_rt.cur->handle;
}

GR_EXPORT int pthread_equal(pthread_t a, pthread_t b)
{
	return a == b;
}

GR_EXPORT int sched_yield(void)
{
	if (!gr_green())
		return GR_REAL(sched_yield)();
	gr_yield();
	return 0;
}

/* glibc's headers now redirect pthread_yield to sched_yield, but binaries
 * built before that still call the exported pthread_yield. */
GR_EXPORT int gr_pthread_yield(void) __asm__("pthread_yield");
GR_EXPORT int gr_pthread_yield(void)
{
	return sched_yield();
}

GR_EXPORT int pthread_getattr_np(pthread_t th, pthread_attr_t *attr)
{
	struct gr_thread *t;
	int err;

	if (!gr_green())
		return GR_REAL(pthread_getattr_np)(th, attr);
	t = gr_thread_find((uint64_t)th);
	if (!t)
		return ESRCH;
	if (t == &gr_main_thread)
		return GR_REAL(pthread_getattr_np)((pthread_t)t->handle, attr);
	err = pthread_attr_init(attr);
	if (err)
		return err;
	pthread_attr_setstack(attr, t->stack.lo, t->stack.size);
	/* As glibc: the guard the attr asked for; none for the program's
	 * own memory. */
	pthread_attr_setguardsize(attr, t->stack.cls ? t->guard_asked : 0);
	pthread_attr_setdetachstate(attr, t->detached ? PTHREAD_CREATE_DETACHED
						      : PTHREAD_CREATE_JOINABLE);
	return 0;
}

/* The kernel's limit on a thread name, terminator included. */
#define COMM_LEN 16

/* glibc names another thread through /proc/self/task/TID/comm: a finished
 * thread that is not joined yet has no task any more (ENOENT); a handle
 * that names nothing is undefined, and ESRCH is what we say. */
static int finished_name_err(uint64_t h)
{
	return gr_thread_done(h) == 1 ? ENOENT : ESRCH;
}

GR_EXPORT int pthread_setname_np(pthread_t th, const char *name)
{
	struct gr_thread *t;
	size_t len;

	if (!gr_green())
		return GR_REAL(pthread_setname_np)(th, name);
	t = gr_thread_find((uint64_t)th);
	len = strlen(name);
	if (len >= COMM_LEN)
		return ERANGE;
	if (!t || (t->state == GR_DONE && t != &gr_main_thread))
		return finished_name_err((uint64_t)th);
	if (t == &gr_main_thread) {
		/* main's name is the process's: keep the kernel's copy true. */
		int err = GR_REAL(pthread_setname_np)((pthread_t)t->handle, name);
		if (err)
			return err;
	}
	gr_thread_set_name(t, name);
	return 0;
}

GR_EXPORT int pthread_getname_np(pthread_t th, char *buf, size_t len)
{
	struct gr_thread *t;

	if (!gr_green())
		return GR_REAL(pthread_getname_np)(th, buf, len);
	t = gr_thread_find((uint64_t)th);
	if (len < COMM_LEN)
		return ERANGE;
	if (!t || (t->state == GR_DONE && t != &gr_main_thread))
		return finished_name_err((uint64_t)th);
	if (t == &gr_main_thread)
		return GR_REAL(pthread_getname_np)((pthread_t)t->handle, buf, len);
	memcpy(buf, t->name, COMM_LEN);
	return 0;
}

/* glibc keeps the default attr; greenify reads it again after a change,
 * so that threads made without an attr get the new default. */
GR_EXPORT int pthread_setattr_default_np(const pthread_attr_t *attr)
{
	int err = GR_REAL(pthread_setattr_default_np)(attr);

	if (err == 0 && gr_rt.started)
		gr_attr_refresh();
	return err;
}
