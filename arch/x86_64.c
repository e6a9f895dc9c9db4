/* Building the first frame of an x86_64 context (see x86_64.S for its layout). */
#include <asm/prctl.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <ucontext.h>

#include "ctx.h"

void gr_ctx_entry(void);

const int gr_ctx_have_asm = 1;

const int gr_ctx_can_fail_syscall = 1;

int gr_ctx_fail_syscall(void *uc, int (*may_fail)(long nr))
{
	greg_t *g = ((ucontext_t *)uc)->uc_mcontext.gregs;
	const unsigned char *ip = (const unsigned char *)g[REG_RIP];

	/* syscall, with its number back in rax (the kernel's restart puts
	 * orig_rax there) */
	if (ip[0] != 0x0f || ip[1] != 0x05 || !may_fail((long)g[REG_RAX]))
		return 0;
	g[REG_RAX] = -EINTR;
	g[REG_RIP] += 2;
	return 1;
}

/* See x86_64.S: whether switches carry the x87 control word, and the word
 * every thread had before they started to. */
unsigned char gr_ctx_x87;
uint16_t gr_ctx_x87_base;

void gr_ctx_fpu_changing(void)
{
	if (gr_ctx_x87)
		return;
	__asm__ volatile("fnstcw %0" : "=m"(gr_ctx_x87_base));
	gr_ctx_x87 = 1;
}

void *gr_ctx_make_asm(void *stack_top, void (*fn)(void *), void *arg)
{
	uint64_t *sp = (uint64_t *)((uintptr_t)stack_top & ~(uintptr_t)15);
	uint32_t mxcsr;
	uint16_t fpucw;

	/* A new thread starts with its creator's rounding and exception masks,
	 * as clone() copies the FPU state. */
	__asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
	__asm__ volatile("fnstcw %0" : "=m"(fpucw));
	*--sp = (uint64_t)(uintptr_t)gr_ctx_entry; /* popped: entry sees sp aligned */
	*--sp = 0;				   /* rbp */
	*--sp = 0;				   /* rbx */
	*--sp = (uint64_t)(uintptr_t)fn;	   /* r12 */
	*--sp = (uint64_t)(uintptr_t)arg;	   /* r13 */
	*--sp = 0;				   /* r14 */
	*--sp = 0;				   /* r15 */
	*--sp = (uint64_t)mxcsr | (uint64_t)fpucw << 32 | (uint64_t)1 << 48;
	return sp;
}

/* Thread pointer: the fs base. wrfsbase needs the kernel to have set
 * CR4.FSGSBASE (Linux 5.9 and later, on CPUs that have it), which it
 * reports in AT_HWCAP2; without it the instruction faults, and
 * arch_prctl(ARCH_SET_FS) does the same job in a system call. */
#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE (1 << 1)
#endif

int gr_ctx_tp_fast;

int gr_ctx_tp_init(void)
{
	gr_ctx_tp_fast = (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE) != 0;
	return 0;
}

void *gr_ctx_get_tp(void)
{
	void *tp;

	/* The x86_64 TLS ABI: the word at fs:0 is the thread pointer itself. */
	__asm__ volatile("movq %%fs:0, %0" : "=r"(tp));
	return tp;
}

/* The system call itself, not libc's syscall(): arch/ depends on nothing of
 * ours, and the library's own syscall hook would otherwise run on every
 * switch between threads with TLS of their own. */
void gr_ctx_set_tp_slow(void *tp)
{
	long r;

	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "0"((long)SYS_arch_prctl), "D"((long)ARCH_SET_FS), "S"(tp)
			 : "rcx", "r11", "memory");
	if (r != 0)
		abort(); /* cannot happen for a mapped address; TLS would be lost */
}
