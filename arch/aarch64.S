/* aarch64 context switch and first entry (AAPCS64).
 *
 * Frame left on a suspended stack, from the stack pointer upwards:
 *   [sp+0]   x19..x28, x29 (frame pointer), x30 (resume address)
 *   [sp+96]  d8..d15 (low halves of v8..v15, the callee-saved FP registers)
 *   [sp+160] fpcr
 *   [sp+168] padding, so the frame keeps sp 16-byte aligned
 * fpcr (rounding mode, flush-to-zero) is part of a thread's state; writing it
 * can be slow, so it is written only when the two threads differ. */

	.text

/* void gr_switch_asm(void **save_sp, void *new_sp)
 * in:  x0 = where to store the stack pointer of the context being left
 *      x1 = stack pointer of the context to resume (a frame as above)
 * clobbers: x9-x11 (caller-saved); everything callee-saved is restored. */
	.globl	gr_switch_asm
	.hidden	gr_switch_asm
	.type	gr_switch_asm, %function
	.p2align 4
gr_switch_asm:
	.cfi_startproc
	sub	sp, sp, #176
	.cfi_def_cfa_offset 176
	stp	x19, x20, [sp, #0]
	stp	x21, x22, [sp, #16]
	stp	x23, x24, [sp, #32]
	stp	x25, x26, [sp, #48]
	stp	x27, x28, [sp, #64]
	stp	x29, x30, [sp, #80]
	.cfi_offset x29, -96
	.cfi_offset x30, -88
	stp	d8, d9, [sp, #96]
	stp	d10, d11, [sp, #112]
	stp	d12, d13, [sp, #128]
	stp	d14, d15, [sp, #144]
	mrs	x9, fpcr
	str	x9, [sp, #160]
	mov	x10, sp
	str	x10, [x0]
	mov	sp, x1
	ldr	x11, [sp, #160]
	cmp	x9, x11
	b.eq	1f
	msr	fpcr, x11
1:	ldp	x19, x20, [sp, #0]
	ldp	x21, x22, [sp, #16]
	ldp	x23, x24, [sp, #32]
	ldp	x25, x26, [sp, #48]
	ldp	x27, x28, [sp, #64]
	ldp	x29, x30, [sp, #80]
	ldp	d8, d9, [sp, #96]
	ldp	d10, d11, [sp, #112]
	ldp	d12, d13, [sp, #128]
	ldp	d14, d15, [sp, #144]
	add	sp, sp, #176
	.cfi_def_cfa_offset 0
	ret
	.cfi_endproc
	.size	gr_switch_asm, .-gr_switch_asm

/* First code a made context runs: gr_ctx_make put fn in x19 and its argument
 * in x20. fn never returns; brk makes a broken promise a recognisable crash.
 * x30 is undefined so that unwinders stop here. */
	.globl	gr_ctx_entry
	.hidden	gr_ctx_entry
	.type	gr_ctx_entry, %function
	.p2align 4
gr_ctx_entry:
	.cfi_startproc
	.cfi_undefined x30
	mov	x29, #0
	mov	x0, x20
	blr	x19
	brk	#0
	.cfi_endproc
	.size	gr_ctx_entry, .-gr_ctx_entry

	.section .note.GNU-stack, "", %progbits
