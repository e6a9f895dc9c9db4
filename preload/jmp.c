/* Non-local jumps: __sigsetjmp (what sigsetjmp expands to), setjmp (BSD's,
 * which saves the mask), longjmp, _longjmp, siglongjmp, __longjmp_chk (the
 * _FORTIFY_SOURCE one).
 *
 * Only for green threads' signal masks and handlers (runtime/sigjmp.h):
 * sigsetjmp records the thread's own mask beside the one glibc saves (the
 * OS thread's), and a jump first leaves the signal handlers it jumps out of
 * and makes a saved mask the thread's again. The jumps themselves are
 * glibc's.
 *
 * __sigsetjmp cannot be wrapped in C: it must see its caller's frame and
 * return address, and return twice. So, as for dlopen (dl.c), the entry
 * below keeps both in place, calls gr_sigjmp_prepare with the arguments,
 * and jumps to the real function. Left to libc: _setjmp, which saves no
 * mask. */
#include "hook.h"

#include <setjmp.h>

#include "../runtime/sigjmp.h"

typedef void (*gr_jmp_fn)(void);

/* Returns the real __sigsetjmp. */
__attribute__((visibility("hidden"), used)) gr_jmp_fn gr_sigjmp_prepare(struct __jmp_buf_tag *env,
									int savemask);
gr_jmp_fn gr_sigjmp_prepare(struct __jmp_buf_tag *env, int savemask)
{
	if (gr_green())
		gr_sigjmp_note(env, savemask);
	return (gr_jmp_fn)GR_REAL(__sigsetjmp);
}

/* clang-format off */
#if defined(__x86_64__)
/* int __sigsetjmp(jmp_buf env, int savemask): rdi, esi; the stack is
 * 8 past a 16-byte boundary at entry. setjmp sets savemask to 1. */
__asm__(".text\n"
	".globl __sigsetjmp\n"
	".type __sigsetjmp, @function\n"
	".p2align 4\n"
	"__sigsetjmp:\n"
	"gr_sigsetjmp_entry:\n"
	".cfi_startproc\n"
	"	pushq %rdi\n"
	".cfi_adjust_cfa_offset 8\n"
	"	pushq %rsi\n"
	".cfi_adjust_cfa_offset 8\n"
	"	subq $8, %rsp\n"
	".cfi_adjust_cfa_offset 8\n"
	"	call gr_sigjmp_prepare\n"
	"	addq $8, %rsp\n"
	".cfi_adjust_cfa_offset -8\n"
	"	popq %rsi\n"
	".cfi_adjust_cfa_offset -8\n"
	"	popq %rdi\n"
	".cfi_adjust_cfa_offset -8\n"
	"	jmp *%rax\n"
	".cfi_endproc\n"
	".size __sigsetjmp, .-__sigsetjmp\n"
	".globl setjmp\n"
	".type setjmp, @function\n"
	".p2align 4\n"
	"setjmp:\n"
	".cfi_startproc\n"
	"	movl $1, %esi\n"
	"	jmp gr_sigsetjmp_entry\n"
	".cfi_endproc\n"
	".size setjmp, .-setjmp\n");
#elif defined(__aarch64__)
/* x0: env, w1: savemask; x30: the caller's return address. */
__asm__(".text\n"
	".globl __sigsetjmp\n"
	".type __sigsetjmp, %function\n"
	".p2align 2\n"
	"__sigsetjmp:\n"
	"gr_sigsetjmp_entry:\n"
	".cfi_startproc\n"
	"	stp x29, x30, [sp, #-32]!\n"
	".cfi_def_cfa_offset 32\n"
	".cfi_offset 29, -32\n"
	".cfi_offset 30, -24\n"
	"	mov x29, sp\n"
	"	stp x0, x1, [sp, #16]\n"
	"	bl gr_sigjmp_prepare\n"
	"	mov x16, x0\n"
	"	ldp x0, x1, [sp, #16]\n"
	"	ldp x29, x30, [sp], #32\n"
	".cfi_restore 29\n"
	".cfi_restore 30\n"
	".cfi_def_cfa_offset 0\n"
	"	br x16\n"
	".cfi_endproc\n"
	".size __sigsetjmp, .-__sigsetjmp\n"
	".globl setjmp\n"
	".type setjmp, %function\n"
	".p2align 2\n"
	"setjmp:\n"
	".cfi_startproc\n"
	"	mov w1, #1\n"
	"	b gr_sigsetjmp_entry\n"
	".cfi_endproc\n"
	".size setjmp, .-setjmp\n");
#endif
/* clang-format on */

GR_EXPORT void longjmp(jmp_buf env, int val)
{
	if (gr_green())
		gr_sigjmp_leave(env);
	GR_REAL(longjmp)(env, val);
	__builtin_unreachable();
}

GR_EXPORT void _longjmp(jmp_buf env, int val)
{
	if (gr_green())
		gr_sigjmp_leave(env);
	GR_REAL(_longjmp)(env, val);
	__builtin_unreachable();
}

GR_EXPORT void siglongjmp(sigjmp_buf env, int val)
{
	if (gr_green())
		gr_sigjmp_leave(env);
	GR_REAL(siglongjmp)(env, val);
	__builtin_unreachable();
}

GR_EXPORT void __longjmp_chk(jmp_buf env, int val)
{
	if (gr_green())
		gr_sigjmp_leave(env);
	GR_REAL(__longjmp_chk)(env, val);
	__builtin_unreachable();
}
