/* Non-local jumps out of signal handlers (sigjmp.h). */
#include "sigjmp.h"

#include <stdint.h>
#include <string.h>

#include "log.h"
#include "sched.h"
#include "signal.h"

/* glibc's sigsetjmp stores the kernel's mask (64 bits) in word 0 of the
 * jmp_buf's 1024-bit sigset_t; words W_MASK and W_TAG hold the green mask
 * and a tag that says it is there. */
#define W_MASK 14
#define W_TAG  15
#define TAG    0x6772656e6a6d7021ULL

/* Where glibc keeps the mangled stack pointer in a jmp_buf, and how. */
#if defined(__x86_64__)
#define JB_SP 6
static uintptr_t unmangle(uintptr_t v, uintptr_t guard)
{
	return ((v >> 17) | (v << 47)) ^ guard; /* ror 17, xor */
}
static uintptr_t guard_of(uintptr_t v, uintptr_t sp)
{
	return ((v >> 17) | (v << 47)) ^ sp;
}
#elif defined(__aarch64__)
#define JB_SP 13
static uintptr_t unmangle(uintptr_t v, uintptr_t guard)
{
	return v ^ guard;
}
static uintptr_t guard_of(uintptr_t v, uintptr_t sp)
{
	return v ^ sp;
}
#endif

#ifdef JB_SP
static int guard_known; /* 0: not probed yet, 1: known, -1: not found */
static uintptr_t guard;

/* The mangled stack pointer a _setjmp here stores, and the real one. */
static __attribute__((noinline)) uintptr_t probe(uintptr_t *sp)
{
	struct __jmp_buf_tag b[1];

	memset(b, 0, sizeof(b));
	*sp = gr_sp();
	if (_setjmp(b) == 0)
		__asm__ volatile("" ::: "memory");
	return (uintptr_t)b[0].__jmpbuf[JB_SP];
}

/* The same from a frame further down, to check the guard with. */
static __attribute__((noinline)) uintptr_t probe_deeper(uintptr_t *sp)
{
	volatile char pad[256];
	uintptr_t v;

	pad[0] = 0;
	v = probe(sp);
	pad[255] = pad[0];
	return v;
}

static void find_guard(void)
{
	uintptr_t sp1, sp2, v1 = probe(&sp1), v2 = probe_deeper(&sp2);

	guard = guard_of(v1, sp1);
	guard_known = sp1 != sp2 && unmangle(v2, guard) == sp2 ? 1 : -1;
	if (guard_known < 0)
		gr_log(GR_LOG_INFO, "jmp_buf stack pointers unreadable: a longjmp in a signal "
				    "handler counts as leaving every handler");
	else
		gr_log(GR_LOG_DEBUG, "jmp_buf stack pointers readable");
}
#endif

/* The stack pointer env jumps to, or UINTPTR_MAX when it cannot be read
 * (then every handler level counts as left: the usual jump). */
static uintptr_t target_sp(const struct __jmp_buf_tag *env)
{
#ifdef JB_SP
	if (!guard_known)
		find_guard();
	if (guard_known > 0)
		return unmangle((uintptr_t)env->__jmpbuf[JB_SP], guard);
#else
	(void)env;
#endif
	return UINTPTR_MAX;
}

void gr_sigjmp_note(struct __jmp_buf_tag *env, int savemask)
{
	unsigned long *w = env->__saved_mask.__val;

	if (!savemask)
		return;
	w[W_MASK] = gr_rt.cur->sig_mask;
	w[W_TAG] = TAG;
}

void gr_sigjmp_leave(struct __jmp_buf_tag *env)
{
	unsigned long *w = env->__saved_mask.__val;
	uint64_t mask, old;

	if (gr_rt.cur->sig_level)
		gr_signal_escape(target_sp(env));
	if (!env->__mask_was_saved)
		return;
	/* Saved before the runtime started, or by a foreign thread: the
	 * kernel's mask was the thread's then. */
	mask = w[W_TAG] == TAG ? w[W_MASK] : w[0];
	w[W_MASK] = mask;
	w[W_TAG] = TAG;
	gr_sigmask(SIG_SETMASK, &mask, &old);
	w[0] = gr_sigmask_os();
}
