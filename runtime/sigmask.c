/* Per-green-thread signal masks (signal.h).
 *
 * Each green thread has its own mask (gr_thread.sig_mask). The OS thread's
 * real mask is their intersection: it blocks a signal only while every
 * live green thread blocks it. So a signal that some thread accepts still
 * reaches the trampoline, which hands it to such a thread (signal.c), and
 * one that every thread blocks stays pending in the kernel, which delivers
 * it the moment a thread unblocks it and the intersection shrinks.
 *
 * Counting, per signal, the live threads that block it makes a mask change
 * cost a few additions, and a system call only when the intersection
 * changes; threads that never touch their mask cost nothing, at creation,
 * at exit or at a switch.
 *
 * SIGPIPE and SIGXFSZ are the exception (GR_SIG_THREAD_DIRECTED): the
 * kernel queues them for the OS thread whose call raised them, and a
 * thread that blocks them must get EPIPE or EFBIG and keep the signal
 * pending for itself, even while other threads would take it. While the
 * live threads disagree on them (gr_sigmask_split), the OS thread blocks
 * each exactly when the thread it runs does: a switch between two threads
 * that disagree costs a mask change, and, from a thread that blocked them,
 * taking back what the kernel queued for it meanwhile. */
#include "preempt.h"
#include "signal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "real.h"
#include "sud.h"

/* Live threads blocking signal i + 1: base + delta[i] (mod 2^32). A mask
 * with more than half the signals counts on base and takes its gaps off
 * delta, so that a thread blocking everything (the sigwait pattern) costs
 * as few additions as one blocking a single signal. */
static uint32_t base;
static uint32_t delta[GR_NSIG - 1];
static uint64_t nonempty;     /* live threads whose mask is not empty */
static uint64_t ever;	      /* a superset of what some live thread blocks */
static uint64_t inter;	      /* the signals every live thread blocks */
static uint64_t follow;	      /* thread-directed signals the OS thread blocks
				 for the thread it runs (follower) */
static uint64_t follow_owner; /* that thread's handle */
static uint64_t real_mask;    /* the OS thread's mask as last set: inter |
				 follow */
static sigset_t real_set;     /* the same, for ucontext switches */
int gr_sigmask_split;

/* Adds (d 1) or removes (-1) one thread's mask m. */
static void count(uint64_t m, int d)
{
	uint64_t bits = m;

	if (!m)
		return;
	nonempty += (uint64_t)(int64_t)d;
	ever = nonempty ? ever | m : 0;
	if (__builtin_popcountll(m) > 32) {
		base += (uint32_t)d;
		bits = ~m;
		d = -d;
	}
	while (bits) {
		int i = __builtin_ctzll(bits);
		bits &= bits - 1;
		delta[i] += (uint32_t)d;
	}
}

/* What the OS thread may block of m. While system calls outside libc are
 * dispatched (sud.h), never SIGSYS: the kernel kills a task whose
 * dispatched call traps while it blocks SIGSYS (a dlopen's openat, a
 * libgomp futex wait of a program that blocked every signal). The green
 * threads' masks still block it: a kill's SIGSYS waits, in the runtime,
 * for a thread that takes it (signal.c). */
static uint64_t kernel_mask(uint64_t m)
{
	return gr_sud_on ? m & ~GR_SIGBIT(SIGSYS) : m;
}

/* Makes want the intersection, and it and the followed signals the OS
 * thread's mask. A signal it unblocks that is pending in the kernel
 * reaches the trampoline before this returns. */
static void apply(uint64_t want)
{
	const uint64_t own = GR_SIGBIT(GR_SIG_OWN);
	uint64_t was = real_mask;

	inter = want;
	want = kernel_mask(want | follow);
	if (want == real_mask)
		return;
	/* Blocking our own signal: the preemption's timers stop first, so
	 * that none of theirs waits in the kernel beside the program's. */
	if ((want & own) && !(was & own))
		gr_preempt_masked(1);
	real_mask = want;
	gr_sigset_put(&real_set, want);
	gr_real.pthread_sigmask(SIG_SETMASK, &real_set, NULL);
	if (!(want & own) && (was & own))
		gr_preempt_masked(0);
}

/* Takes back what the kernel queued for the OS thread among bits (blocked
 * there for the thread owner names): the kernel's own SIGPIPE or SIGXFSZ
 * of that thread's calls stay pending on it (or end with it, if it is
 * gone); one sent to the process is the process's again. */
static void take_back(uint64_t bits, uint64_t owner)
{
	struct timespec zero = {0, 0};
	struct gr_thread *t = gr_thread_find(owner);
	siginfo_t info;
	sigset_t set;
	int saved = errno;

	if (t && t->state == GR_DONE)
		t = NULL;
	sigemptyset(&set);
	gr_sigset_put(&set, bits);
	while (gr_real.sigtimedwait(&set, &info, &zero) > 0)
		gr_signal_requeue(t, &info, gr_signal_is_own_kernel(&info));
	errno = saved;
}

/* Makes the followed signals t's (the thread the OS thread runs now, or
 * just created, or exiting), while the threads disagree on them. */
static void refollow(const struct gr_thread *t)
{
	uint64_t want = gr_sigmask_split ? t->sig_mask & GR_SIG_THREAD_DIRECTED & ~inter : 0;
	uint64_t off = follow & ~want & ~inter;

	if (want == follow) {
		follow_owner = t->handle;
		return;
	}
	if (off) {
		/* While the OS thread still blocks them. */
		take_back(off, follow_owner);
	}
	follow = want;
	follow_owner = t->handle;
	apply(inter);
}

/* Whether the live threads disagree on a thread-directed signal. */
static void check_split(void)
{
	int split = 0;

	for (uint64_t b = GR_SIG_THREAD_DIRECTED; b; b &= b - 1) {
		uint32_t n = base + delta[__builtin_ctzll(b)];
		if (n != 0 && n != gr_rt.live)
			split = 1;
	}
	gr_sigmask_split = split;
}

void gr_sigmask_switch(struct gr_thread *next)
{
	if (next->magic == GR_MAGIC)
		refollow(next);
}

void gr_sigmask_to_frame(void *uc)
{
	((ucontext_t *)uc)->uc_sigmask = real_set;
}

void gr_sigmask_reapply(void)
{
	uint64_t want = kernel_mask(inter | follow);

	if (want == real_mask)
		return;
	real_mask = want;
	gr_sigset_put(&real_set, want);
	gr_real.pthread_sigmask(SIG_SETMASK, &real_set, NULL);
}

void gr_sigmask_resync(void)
{
	gr_real.pthread_sigmask(SIG_SETMASK, &real_set, NULL);
}

uint64_t gr_sigmask_os(void)
{
	return real_mask;
}

/* Of the signals in m, those every live thread blocks. */
static uint64_t all_block(uint64_t m)
{
	uint64_t all = 0;

	while (m) {
		int i = __builtin_ctzll(m);
		m &= m - 1;
		if ((uint32_t)(base + delta[i]) == gr_rt.live)
			all |= (uint64_t)1 << i;
	}
	return all;
}

int gr_sigmask_init(void)
{
	sigset_t cur;

	if (gr_real.pthread_sigmask(SIG_BLOCK, NULL, &cur) != 0)
		return -EINVAL;
	real_set = cur;
	real_mask = inter = gr_sigset_bits(&cur);
	gr_rt.cur->sig_mask = real_mask & ~GR_SIG_UNBLOCKABLE;
	count(gr_rt.cur->sig_mask, 1);
	follow_owner = gr_rt.cur->handle;
	return 0;
}

void gr_sigmask_set(struct gr_thread *t, uint64_t mask)
{
	uint64_t old = t->sig_mask, on = mask & ~old, off = old & ~mask;

	if (mask == old)
		return;
	t->sig_mask = mask;
	count(old, -1);
	count(mask, 1);
	/* What t now unblocks no longer has every thread blocking it; what
	 * it now blocks may. The rest is as it was. */
	apply((inter & ~off) | all_block(on));
	if (((on | off) & GR_SIG_THREAD_DIRECTED) || gr_sigmask_split) {
		check_split();
		refollow(t == gr_rt.cur || t->handle == follow_owner ? t : gr_rt.cur);
	}
	/* Process-pending signals go to the first thread that takes them. */
	if (off & gr_signal_process_pending()) {
		uint64_t take = off & gr_signal_process_pending();
		gr_signal_take_process(take);
		t->sig_pending |= take;
	}
}

void gr_signal_thread_created(struct gr_thread *t)
{
	uint64_t mask = gr_rt.cur->sig_mask;

	t->sig_mask = mask;
	count(mask, 1);
	/* Blocked by all before, and by the newcomer. */
	apply(inter & mask);
	if (gr_sigmask_split ||
	    (inter & GR_SIG_THREAD_DIRECTED) != (mask & GR_SIG_THREAD_DIRECTED)) {
		check_split();
		refollow(gr_rt.cur);
	}
	if (gr_signal_process_pending() & ~mask) {
		uint64_t take = gr_signal_process_pending() & ~mask;
		gr_signal_take_process(take);
		t->sig_pending |= take;
	}
}

void gr_signal_thread_exited(struct gr_thread *t)
{
	uint64_t mask = t->sig_mask;

	count(mask, -1);
	/* The signals only t accepted are now blocked by all: the kernel
	 * keeps them pending for the next thread to unblock one. Those t
	 * blocked keep their state. */
	apply(inter | all_block(ever & ~inter & ~mask));
	/* A thread's own pending signals end with it; a real-time one's
	 * queued next instance goes on to another thread. */
	for (uint64_t b = t->sig_pending; b; b &= b - 1)
		gr_signal_consumed(__builtin_ctzll(b) + 1);
	t->sig_pending = 0;
	if (gr_sigmask_split) {
		/* What the kernel queued for t ends with it too. */
		if (t->handle == follow_owner && (follow & ~inter))
			take_back(follow & ~inter, t->handle);
		check_split();
		follow = 0;
		follow_owner = 0;
		apply(inter);
	}
}

void gr_signal_forked(void)
{
	uint64_t mask = gr_rt.cur->sig_mask;

	/* The counts, the intersection and the mask last set start again
	 * from the one thread. Kept from the parent's, they would go on
	 * naming what the parent's OS thread blocked: a mask the child
	 * restores after a fork made with every signal blocked (Ruby's)
	 * would then find the intersection unchanged and leave the kernel
	 * blocking everything. */
	base = 0;
	memset(delta, 0, sizeof(delta));
	nonempty = 0;
	ever = 0;
	count(mask, 1);
	inter = mask;
	follow = 0;
	follow_owner = gr_rt.cur->handle;
	gr_sigmask_split = 0;
	real_mask = kernel_mask(mask);
	gr_sigset_put(&real_set, real_mask);
	gr_real.pthread_sigmask(SIG_SETMASK, &real_set, NULL);
}

void gr_signal_carry_mask(ucontext_t *uc)
{
	uc->uc_sigmask = real_set;
}

int gr_sigmask(int how, const uint64_t *set, uint64_t *old)
{
	struct gr_thread *self = gr_rt.cur;
	uint64_t mask = self->sig_mask;

	if (set) {
		switch (how) {
		case SIG_BLOCK: mask |= *set; break;
		case SIG_UNBLOCK: mask &= ~*set; break;
		case SIG_SETMASK: mask = *set; break;
		default: return -EINVAL;
		}
		mask &= ~GR_SIG_UNBLOCKABLE;
	}
	*old = self->sig_mask;
	if (mask == self->sig_mask)
		return 0;
	/* What arrived so far goes by the masks it arrived under. */
	if (gr_rt.sig_pending)
		gr_signal_dispatch();
	gr_sigmask_set(self, mask);
	/* As natively, what this unblocks is handled before it returns. */
	gr_signal_interrupted();
	return 0;
}

uint64_t gr_sigmask_enter(uint64_t mask)
{
	struct gr_thread *self = gr_rt.cur;
	uint64_t old = self->sig_mask;

	if (gr_rt.sig_pending)
		gr_signal_dispatch();
	gr_sigmask_set(self, mask & ~GR_SIG_UNBLOCKABLE);
	if (gr_rt.sig_pending)
		gr_signal_dispatch();
	return old;
}

void gr_sigmask_leave(uint64_t old)
{
	gr_sigmask_set(gr_rt.cur, old);
	gr_signal_interrupted();
}

/* The process's pending signals as the kernel keeps them (ShdPnd), without
 * those pending on the OS thread itself: those are green thread 1's, which
 * had the OS thread first (a signal sent to it before the runtime started,
 * or to its tid since). 1 when it could be read. */
static int kernel_process_pending(uint64_t *out)
{
	char buf[2048];
	int fd = gr_real.open("/proc/thread-self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n;
	char *p;

	if (fd < 0)
		return 0;
	n = gr_real.read(fd, buf, sizeof(buf) - 1);
	gr_real.close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strstr(buf, "ShdPnd:");
	if (!p)
		return 0;
	*out = strtoull(p + 7, NULL, 16);
	return 1;
}

uint64_t gr_sigpending(void)
{
	struct gr_thread *self = gr_rt.cur;
	sigset_t k;
	uint64_t kernel = 0;

	gr_signal_interrupted();
	/* A new thread's pending set is empty (POSIX): the OS thread's own
	 * pending signals are main's, not every green thread's, but for a
	 * SIGPIPE or SIGXFSZ the kernel queued for a call: the followed ones
	 * are the follower's, those every thread blocks could be anyone's. */
	if (self == &gr_main_thread || !kernel_process_pending(&kernel)) {
		if (gr_real.sigpending(&k) == 0)
			kernel = gr_sigset_bits(&k);
	} else if (gr_real.sigpending(&k) == 0) {
		uint64_t mine = inter & GR_SIG_THREAD_DIRECTED;
		if (follow_owner == self->handle)
			mine |= follow;
		kernel |= gr_sigset_bits(&k) & mine;
	}
	return (self->sig_pending | gr_signal_process_pending() | kernel) & self->sig_mask;
}
