/* Building the first frame of an aarch64 context (see aarch64.S for its layout). */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <ucontext.h>

#include "ctx.h"

void gr_ctx_entry(void);

const int gr_ctx_have_asm = 1;

const int gr_ctx_can_fail_syscall = 1;

int gr_ctx_fail_syscall(void *uc, int (*may_fail)(long nr))
{
	mcontext_t *m = &((ucontext_t *)uc)->uc_mcontext;

	/* svc #0, the number in x8 (kept; the restart put orig_x0 back) */
	if (*(const uint32_t *)m->pc != 0xd4000001 || !may_fail((long)m->regs[8]))
		return 0;
	m->regs[0] = (uint64_t)-EINTR;
	m->pc += 4;
	return 1;
}

/* The frame gr_switch_asm leaves (aarch64.S), in 8-byte words: x19..x30,
 * d8..d15, fpcr, padding to 16 bytes. */
#define FRAME_WORDS 22
#define FRAME_X30   11
#define FRAME_FPCR  20

void *gr_ctx_make_asm(void *stack_top, void (*fn)(void *), void *arg)
{
	uint64_t *sp = (uint64_t *)((uintptr_t)stack_top & ~(uintptr_t)15) - FRAME_WORDS;
	uint64_t fpcr;

	/* A new thread starts with its creator's rounding mode, as clone()
	 * copies the floating-point state. */
	__asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
	memset(sp, 0, FRAME_WORDS * sizeof(*sp));
	sp[0] = (uint64_t)(uintptr_t)fn;		   /* x19 */
	sp[1] = (uint64_t)(uintptr_t)arg;		   /* x20 */
	sp[FRAME_X30] = (uint64_t)(uintptr_t)gr_ctx_entry; /* where ret goes */
	sp[FRAME_FPCR] = fpcr;
	return sp;
}

/* FPCR is read at every switch already; nothing to turn on. */
void gr_ctx_fpu_changing(void)
{
}

/* Thread pointer: tpidr_el0, writable from user space. */
int gr_ctx_tp_fast = 1;

int gr_ctx_tp_init(void)
{
	return 0;
}

void *gr_ctx_get_tp(void)
{
	void *tp;

	__asm__ volatile("mrs %0, tpidr_el0" : "=r"(tp));
	return tp;
}

void gr_ctx_set_tp_slow(void *tp)
{
	__asm__ volatile("msr tpidr_el0, %0" : : "r"(tp) : "memory");
}
