/* dlopen and dlmopen: before the real call, a green thread with TLS of its
 * own moves its TLS vector to the heap (runtime/tls.c says why).
 *
 * glibc's dlopen looks at its return address to know who calls it: the
 * caller's namespace, and its RUNPATH to search. So these are trampolines,
 * not C wrappers: they save the arguments, call gr_dl_prepare, restore the
 * arguments and jump to the real function with the caller's return address
 * still in place. Only where private TLS exists (x86_64, aarch64); other
 * architectures keep glibc's own dlopen. */
#include "hook.h"

#include "../runtime/preempt.h"
#include "../runtime/tls.h"

typedef void (*gr_dl_fn)(void);

/* Returns the real function: dlmopen when which is 1, else dlopen. */
__attribute__((visibility("hidden"), used)) gr_dl_fn gr_dl_prepare(int which);
gr_dl_fn gr_dl_prepare(int which)
{
	gr_dl_fn fn = which ? (gr_dl_fn)GR_REAL(dlmopen) : (gr_dl_fn)GR_REAL(dlopen);

	if (gr_tls_private && gr_green())
		gr_tls_before_dlopen();
	gr_preempt_stale = 1; /* new code: preemption's table is made again */
	return fn;
}

#if defined(__x86_64__)
/* rdi, rsi, rdx: the arguments; the stack is 16-aligned at the call. */
#define GR_DL_TRAMPOLINE(name, which)                                                              \
	__asm__(".text\n"                                                                          \
		".globl " #name "\n"                                                               \
		".type " #name ", @function\n" #name ":\n"                                         \
		"    .cfi_startproc\n"                                                             \
		"    pushq %rdi\n"                                                                 \
		"    .cfi_adjust_cfa_offset 8\n"                                                   \
		"    pushq %rsi\n"                                                                 \
		"    .cfi_adjust_cfa_offset 8\n"                                                   \
		"    pushq %rdx\n"                                                                 \
		"    .cfi_adjust_cfa_offset 8\n"                                                   \
		"    movl $" #which ", %edi\n"                                                     \
		"    call gr_dl_prepare\n"                                                         \
		"    popq %rdx\n"                                                                  \
		"    .cfi_adjust_cfa_offset -8\n"                                                  \
		"    popq %rsi\n"                                                                  \
		"    .cfi_adjust_cfa_offset -8\n"                                                  \
		"    popq %rdi\n"                                                                  \
		"    .cfi_adjust_cfa_offset -8\n"                                                  \
		"    jmp *%rax\n"                                                                  \
		"    .cfi_endproc\n"                                                               \
		".size " #name ", .-" #name "\n")
#elif defined(__aarch64__)
/* x0-x2: the arguments; x30: the caller's return address. */
#define GR_DL_TRAMPOLINE(name, which)                                                              \
	__asm__(".text\n"                                                                          \
		".globl " #name "\n"                                                               \
		".type " #name ", %function\n" #name ":\n"                                         \
		"    .cfi_startproc\n"                                                             \
		"    stp x29, x30, [sp, #-48]!\n"                                                  \
		"    .cfi_def_cfa_offset 48\n"                                                     \
		"    .cfi_offset 29, -48\n"                                                        \
		"    .cfi_offset 30, -40\n"                                                        \
		"    mov x29, sp\n"                                                                \
		"    stp x0, x1, [sp, #16]\n"                                                      \
		"    str x2, [sp, #32]\n"                                                          \
		"    mov w0, #" #which "\n"                                                        \
		"    bl gr_dl_prepare\n"                                                           \
		"    mov x16, x0\n"                                                                \
		"    ldp x0, x1, [sp, #16]\n"                                                      \
		"    ldr x2, [sp, #32]\n"                                                          \
		"    ldp x29, x30, [sp], #48\n"                                                    \
		"    .cfi_def_cfa_offset 0\n"                                                      \
		"    br x16\n"                                                                     \
		"    .cfi_endproc\n"                                                               \
		".size " #name ", .-" #name "\n")
#endif

#ifdef GR_DL_TRAMPOLINE
GR_DL_TRAMPOLINE(dlopen, 0);
GR_DL_TRAMPOLINE(dlmopen, 1);
#endif
