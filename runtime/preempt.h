/* Time-sliced preemption of green threads (preempt.c).
 *
 * A green thread that computes without calling a hooked function would
 * keep the one OS thread: every other thread, timer and socket would wait.
 * A timer on the runtime thread's own CPU clock (no other OS thread, and
 * no cost while the process sleeps or waits in the kernel) sends it
 * GR_SIG_OWN with the preemption mark every eighth of a slice of CPU time;
 * the handler looks at the switch counter, and when one green thread has
 * run a whole slice (GREENIFY_SLICE_MS) without a switch, or runs while a
 * sleeper's deadline has passed, it is a candidate. The handler, on the green thread's
 * stack, proves the interrupted point safe (safe_point in preempt.c: the
 * program counter and every return address up to the thread's entry are
 * program code, none in a library whose locks no green thread can wait for
 * greenly) and then yields from inside the handler: other threads, timers
 * and I/O run, and when the thread's turn comes back the handler returns
 * and the kernel's sigreturn restores every register it saved in the
 * signal frame (general, flags, the whole vector state: XSAVE on x86_64,
 * FP/SIMD and SVE on aarch64). A point found unsafe is tried again at a
 * later tick, less and less often. A signal that lands on the
 * runtime thread while a green thread runs program code at a safe point
 * runs its handler there at once, as the kernel would; an asynchronously
 * cancellable thread acts on a pending request when it is preempted. */
#ifndef GR_PREEMPT_H
#define GR_PREEMPT_H

#include <stdint.h>
#include <ucontext.h>

struct gr_preempt_stats {
	uint64_t signals;   /* ticks that found a candidate and checked its point */
	uint64_t preempted; /* of them, points that were safe: the thread yielded */
	uint64_t unsafe;    /* points found unsafe (tried again later) */
};
extern struct gr_preempt_stats gr_preempt_stats;

/* A thread was created: starts the timer once (and again in a fork
 * child), unless GREENIFY_PREEMPT=off; rebuilds the table of code the
 * handler asked for. */
void gr_preempt_need(void);

/* The table of loaded code (what is program code) is out of date: a
 * dlopen, or the handler saw an address in no object. The hub rebuilds it
 * between two threads (gr_preempt_refresh): not from the handler, since
 * dl_iterate_phdr takes the loader's lock. */
extern int gr_preempt_stale;
void gr_preempt_refresh(void);

/* Whether a, in code that starts at lo, follows a call instruction (a
 * return address): x86_64's call rel32 or call through a register or
 * memory, aarch64's bl or blr; within the first bytes of the code, where
 * the instruction before cannot be read, 1. */
int gr_code_after_call(uintptr_t lo, uintptr_t a);

/* Called from the trampoline for GR_SIG_OWN: 1 when mark is the
 * preemption's (then it is consumed here), else 0. */
int gr_preempt_landed(const void *mark, void *uc);

/* Whether the point uc interrupted, on the runtime thread, is program code
 * of the running green thread at a safe point (see preempt.c). */
int gr_preempt_safe(ucontext_t *uc);

/* The runtime thread's mask blocks GR_SIG_OWN (every green thread blocks
 * SIGURG) or no longer does: the timers stop (nothing of ours may be left
 * pending beside the program's SIGURG) or go again. */
void gr_preempt_masked(int blocked);

/* How far below its control block thread_entry's frame lies (preempt.c);
 * the first thread to start records it. */
extern uintptr_t gr_entry_depth;
static inline void gr_preempt_entry_frame(const void *block, const void *frame)
{
	if (__builtin_expect(!gr_entry_depth, 0))
		gr_entry_depth = (uintptr_t)block - (uintptr_t)frame;
}

/* In a fork child: timers are not inherited; the next need makes one. */
void gr_preempt_after_fork(void);

#endif
