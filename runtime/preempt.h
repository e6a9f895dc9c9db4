/* Time-sliced preemption of green threads (preempt.c).
 *
 * A green thread that computes without calling a hooked function would
 * keep the one OS thread: every other thread, timer and socket would wait.
 * A watchdog OS thread of the runtime's own (it runs no program code and
 * blocks every signal) watches the switch counter. When one green thread
 * has run a whole slice (GREENIFY_SLICE_MS) without a switch, and the
 * runtime thread really is on the CPU (its CPU clock advanced, so it is not
 * blocked in the kernel), the watchdog sends the runtime thread
 * GR_SIG_OWN with the preemption mark. The handler, on the green thread's
 * stack, proves the interrupted point safe (safe_point in preempt.c: the
 * program counter and every return address up to the thread's entry are
 * program code, none in a library whose locks no green thread can wait for
 * greenly) and then yields from inside the handler: other threads, timers
 * and I/O run, and when the thread's turn comes back the handler returns
 * and the kernel's sigreturn restores every register it saved in the
 * signal frame (general, flags, the whole vector state: XSAVE on x86_64,
 * FP/SIMD and SVE on aarch64). A point found unsafe is tried again about a
 * millisecond later, doubling up to the slice. A signal that lands on the
 * runtime thread while a green thread runs program code at a safe point
 * runs its handler there at once, as the kernel would; an asynchronously
 * cancellable thread acts on a pending request when it is preempted. */
#ifndef GR_PREEMPT_H
#define GR_PREEMPT_H

#include <stdint.h>
#include <ucontext.h>

struct gr_preempt_stats {
	uint64_t signals;   /* preemption signals that landed */
	uint64_t preempted; /* of them, points that were safe: the thread yielded */
	uint64_t unsafe;    /* points found unsafe (tried again later) */
};
extern struct gr_preempt_stats gr_preempt_stats;

/* A second green thread exists: starts the watchdog once (and again in a
 * fork child), unless GREENIFY_PREEMPT=off. */
void gr_preempt_need(void);

/* Called from the trampoline for GR_SIG_OWN: 1 when mark is the
 * preemption's (then it is consumed here), else 0. */
int gr_preempt_landed(const void *mark, void *uc);

/* Whether the point uc interrupted, on the runtime thread, is program code
 * of the running green thread at a safe point (see preempt.c). */
int gr_preempt_safe(const ucontext_t *uc);

/* The hub ran the loop and is about to run threads: wakes the watchdog if
 * it went to sleep for an idle spell (counting the visit first: see doze). */
extern int gr_preempt_dozing;
extern uint64_t gr_preempt_hub_visits;
void gr_preempt_wake(void);
static inline void gr_preempt_hub_awake(void)
{
	__atomic_fetch_add(&gr_preempt_hub_visits, 1, __ATOMIC_SEQ_CST);
	if (__builtin_expect(__atomic_load_n(&gr_preempt_dozing, __ATOMIC_SEQ_CST), 0))
		gr_preempt_wake();
}

/* In a fork child: the watchdog is not there; the next need starts one. */
void gr_preempt_after_fork(void);

#endif
