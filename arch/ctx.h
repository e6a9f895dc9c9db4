/* Execution contexts: make one on a fresh stack, switch between two.
 *
 * Two implementations live behind one interface. The assembly one (x86_64,
 * aarch64) saves only the callee-saved registers and the floating-point
 * control state on the stack being left, so a context is just a stack
 * pointer. The ucontext one is portable but makes a sigprocmask system call
 * on every swap; it is the only one on other architectures and can be chosen
 * at run time (GREENIFY_SWITCH=ucontext) to rule the assembly out when
 * debugging. The choice is made once, before the first context is made. */
#ifndef GR_ARCH_CTX_H
#define GR_ARCH_CTX_H

#include <stddef.h>
#include <stdint.h>
#include <ucontext.h>

struct gr_ctx {
	union {
		void *sp;	/* saved stack pointer (assembly switch) */
		ucontext_t *uc; /* saved context (ucontext switch); lives on the stack */
	};
	void *tp; /* thread pointer to load when resuming (TLS of its own), or
		     NULL for one shared with the context switching to it */
};

/* Non-zero when the ucontext implementation is in use. */
extern int gr_ctx_ucontext;

/* 1 when this build has an assembly switch for the target architecture. */
extern const int gr_ctx_have_asm;

/* Selects the implementation; call before making any context. Returns 0, or
 * -ENOTSUP when asking for assembly on an architecture without it. */
int gr_ctx_select(int use_ucontext);

/* Prepares ctx to run fn(arg) on [stack_lo, stack_lo + size) the first time
 * it is switched to. fn must never return. The new context inherits the
 * caller's floating-point control state, as a new thread does. The ucontext
 * implementation carves its ucontext_t from the top of the stack. */
void gr_ctx_make(struct gr_ctx *ctx, void *stack_lo, size_t size, void (*fn)(void *), void *arg);

/* Gives a context that was not made (the thread that calls this, e.g. main)
 * the storage the ucontext implementation needs to save it into. */
void gr_ctx_init_current(struct gr_ctx *ctx, ucontext_t *storage);

/* Call before anything that may change the floating-point control state
 * other than through the SSE/NEON control register (x86_64: the x87
 * control word): from then on switches carry it too, at a small cost. */
void gr_ctx_fpu_changing(void);

/* Signal frames: a handler that must make the system call it interrupted
 * fail with EINTR although its signal's action has SA_RESTART (the
 * kernel then resumes at the system call instruction, to make it again).
 * When uc resumes at one whose number may_fail accepts, it resumes after
 * it instead, with -EINTR as the call's result, and 1 is returned; else 0
 * (the call had returned, or was one the kernel does not restart, or this
 * architecture cannot tell). A handler that ran in user space just before
 * the instruction sees the same frame: the call then fails without being
 * made, as one interrupted at once would, which may_fail must allow only
 * for calls that can end with EINTR (a blocking read, a wait), never for
 * one that cannot (getpid, close, clone). */
extern const int gr_ctx_can_fail_syscall;
int gr_ctx_fail_syscall(void *uc, int (*may_fail)(long nr));

/* Builds the first frame of a context on the stack ending at stack_top and
 * returns its stack pointer (arch/<cpu>.c; internal to arch/). */
void *gr_ctx_make_asm(void *stack_top, void (*fn)(void *), void *arg);

/* Saves the running context into *save_sp and resumes the one whose stack
 * pointer is new_sp (arch/<cpu>.S). */
void gr_switch_asm(void **save_sp, void *new_sp);

/* Whether gr_ctx_set_tp can write the thread pointer with an unprivileged
 * instruction (x86_64: wrfsbase, when the kernel enabled FSGSBASE; aarch64:
 * always), rather than a system call. Set by gr_ctx_tp_init(). */
extern int gr_ctx_tp_fast;

/* Returns 0 when this architecture can switch thread pointers (private TLS
 * per context), -ENOTSUP otherwise; also sets gr_ctx_tp_fast. */
int gr_ctx_tp_init(void);

/* The calling OS thread's thread pointer, and setting it: the value the C
 * library's TLS is addressed from (x86_64: the fs base; aarch64: tpidr_el0). */
void *gr_ctx_get_tp(void);
void gr_ctx_set_tp_slow(void *tp);

static inline void gr_ctx_set_tp(void *tp)
{
#if defined(__x86_64__)
	if (__builtin_expect(gr_ctx_tp_fast, 1))
		__asm__ volatile("wrfsbase %0" : : "r"(tp) : "memory");
	else
		gr_ctx_set_tp_slow(tp);
#elif defined(__aarch64__)
	__asm__ volatile("msr tpidr_el0, %0" : : "r"(tp) : "memory");
#else
	gr_ctx_set_tp_slow(tp);
#endif
}

/* A cheap, steadily ticking counter (x86_64: the TSC, aarch64: the
 * virtual counter), for accounting time at switches; 0 where there is
 * none. Its rate is found by comparing it with a clock (runtime/). */
static inline uint64_t gr_ctx_ticks(void)
{
#if defined(__x86_64__)
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
#elif defined(__aarch64__)
	uint64_t v;

	__asm__ volatile("mrs %0, cntvct_el0" : "=r"(v));
	return v;
#else
	return 0;
#endif
}

/* Saves the running context in from and resumes to. When the two have
 * thread pointers of their own that differ, to's is loaded first: nothing
 * between here and the switch touches TLS, and a signal handler that runs
 * in between finds the same runtime flags in every thread's TLS. */
static inline void gr_ctx_switch(struct gr_ctx *from, struct gr_ctx *to)
{
	if (to->tp != from->tp)
		gr_ctx_set_tp(to->tp);
	if (__builtin_expect(gr_ctx_ucontext, 0))
		swapcontext(from->uc, to->uc);
	else
		gr_switch_asm(&from->sp, to->sp);
}

#endif
