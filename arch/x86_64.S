/* x86_64 context switch and first entry (System V ABI).
 *
 * Frame left on a suspended stack, from the stack pointer upwards:
 *   [sp+0]  MXCSR (4 bytes)
 *   [sp+4]  x87 control word (2 bytes), then 2 bytes: 1 if the word is valid
 *   [sp+8]  r15, r14, r13, r12, rbx, rbp
 *   [sp+56] resume address
 * The floating-point control state is part of a thread's state, but
 * ldmxcsr is slow (several times the rest of the switch), so it is reloaded
 * only when the two threads differ. MXCSR is read at every switch
 * (stmxcsr is cheap). Only its control bits (rounding, exception masks,
 * FTZ, DAZ) are compared: the sticky exception flags in bits 0-5 differ
 * between almost any two threads that compute, and reloading for them
 * would cost the reload on nearly every switch; a thread's flags are
 * carried whenever its control bits are. Reading the x87 control word
 * (fnstcw) costs more than the rest of the switch, and almost no program
 * changes it, so it is saved and compared only once gr_ctx_x87 is set:
 * gr_ctx_fpu_changing() sets it before anything that may change the word
 * runs (our hooks of fesetround and friends). Frames saved before that
 * carry no valid word and get gr_ctx_x87_base, the word every thread had
 * until then.
 *
 * The switch ends in ret, not pop + jmp. A jmp wins a two-context
 * ping-pong from two call sites (each ret there goes where the return
 * stack buffer did not expect), but it leaves the call into this function
 * on the return stack buffer, so every return the resumed thread makes
 * afterwards mispredicts. In the scheduler every thread switches from the
 * same call site, so this ret is predicted and the buffer stays in step.
 * The figures: bench/RESULTS.md, "Figures behind comments in the code". */

	.text

/* void gr_switch_asm(void **save_sp, void *new_sp)
 * in:  rdi = where to store the stack pointer of the context being left
 *      rsi = stack pointer of the context to resume (a frame as above)
 * clobbers: rax, rcx, rdx (caller-saved); callee-saved ones are restored. */
	.globl	gr_switch_asm
	.hidden	gr_switch_asm
	.type	gr_switch_asm, @function
	.p2align 4
gr_switch_asm:
	.cfi_startproc
	pushq	%rbp
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rbp, 0
	pushq	%rbx
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rbx, 0
	pushq	%r12
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r12, 0
	pushq	%r13
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r13, 0
	pushq	%r14
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r14, 0
	pushq	%r15
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r15, 0
	pushq	$0
	.cfi_adjust_cfa_offset 8
	stmxcsr	(%rsp)
	cmpb	$0, gr_ctx_x87(%rip)
	jne	.Lsave_x87
.Lsaved:
	movl	(%rsp), %eax
	movq	%rsp, (%rdi)
	movq	%rsi, %rsp
	xorl	(%rsp), %eax
	testl	$0xffc0, %eax	/* control bits only: see above */
	jnz	.Lload_mxcsr
.Lmxcsr_done:
	cmpb	$0, gr_ctx_x87(%rip)
	jne	.Lload_x87
.Lrestore:
	addq	$8, %rsp
	.cfi_adjust_cfa_offset -8
	popq	%r15
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r15
	popq	%r14
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r14
	popq	%r13
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r13
	popq	%r12
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r12
	popq	%rbx
	.cfi_adjust_cfa_offset -8
	.cfi_restore %rbx
	popq	%rbp
	.cfi_adjust_cfa_offset -8
	.cfi_restore %rbp
	ret
	/* Out-of-line paths; the frame is the full 64 bytes here. */
	.cfi_adjust_cfa_offset 64
	.cfi_rel_offset %rbp, 56
	.cfi_rel_offset %rbx, 48
	.cfi_rel_offset %r12, 40
	.cfi_rel_offset %r13, 32
	.cfi_rel_offset %r14, 24
	.cfi_rel_offset %r15, 16
	.cfi_rel_offset %rip, 64
.Lsave_x87:
	fnstcw	4(%rsp)
	movw	$1, 6(%rsp)
	jmp	.Lsaved
.Lload_mxcsr:
	ldmxcsr	(%rsp)
	jmp	.Lmxcsr_done
.Lload_x87:
	movzwl	4(%rsp), %ecx
	cmpw	$1, 6(%rsp)
	je	1f
	movzwl	gr_ctx_x87_base(%rip), %ecx
1:	fnstcw	-8(%rsp)		/* the red zone: this is a leaf */
	movzwl	-8(%rsp), %edx
	cmpl	%ecx, %edx
	je	.Lrestore
	movw	%cx, -8(%rsp)
	fldcw	-8(%rsp)
	jmp	.Lrestore
	.cfi_endproc
	.size	gr_switch_asm, .-gr_switch_asm

/* First code a made context runs; gr_ctx_make put fn in r12 and its argument
 * in r13, and left the stack 16-byte aligned. fn never returns; ud2 makes a
 * broken promise a crash at a recognisable place. rip is undefined so that
 * unwinders and debuggers stop here instead of walking into garbage. */
	.globl	gr_ctx_entry
	.hidden	gr_ctx_entry
	.type	gr_ctx_entry, @function
	.p2align 4
gr_ctx_entry:
	.cfi_startproc
	.cfi_undefined %rip
	xorl	%ebp, %ebp
	movq	%r13, %rdi
	callq	*%r12
	ud2
	.cfi_endproc
	.size	gr_ctx_entry, .-gr_ctx_entry

	.section .note.GNU-stack, "", @progbits
