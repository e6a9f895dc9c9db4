/* Backtraces of suspended green threads, for greenify dump (backtrace.c).
 *
 * A suspended thread's saved context (arch/ctx.h) is where it resumes and
 * the registers it resumes with: libdw's unwinder walks its stack from
 * there, on the hub, while the thread stays suspended. Names come from the
 * ELF symbol tables of the files mapped (.symtab, so a program's static
 * functions are named, else .dynsym, else a separate debug file's), file
 * and line from DWARF. Stacks are unwound on x86_64 only, built with
 * Debian's libdw-dev (its header; libdw.so.1 is loaded when the first
 * dump needs it). */
#ifndef GR_BACKTRACE_H
#define GR_BACKTRACE_H

#include <stddef.h>
#include <stdint.h>

#include "thread.h"

#define GR_BT_MAX 32 /* frames kept; deeper ones are cut */

/* A stack's frames, innermost first: each return address and the offset,
 * from the stack pointer the thread resumes with, of the word it was read
 * from (0 for the first, which the context holds). A second thread whose
 * stack holds the same return addresses at the same offsets has the same
 * stack: checking that costs a few loads, where unwinding costs a DWARF
 * walk per frame. */
struct gr_bt {
	uintptr_t ip[GR_BT_MAX];
	uint32_t at[GR_BT_MAX];
	int n;
};

/* 1 when this build can unwind green threads' stacks. */
extern const int gr_bt_available;

/* Loads the unwinder if not yet done: 1 when stacks can be unwound. */
int gr_bt_ready(void);

/* Unwinds the suspended thread t: 0, or -EINVAL (no saved context, or no
 * unwinder in this build). */
int gr_bt_unwind(const struct gr_thread *t, struct gr_bt *bt);

/* Unwinds a stack copied elsewhere (the monitor's copy of a stalled
 * thread's): regs in DWARF's x86_64 numbering (regs[7] the stack pointer,
 * regs[16] the program counter, regs[6] the frame pointer), those whose
 * bit is set in known (0x1ffff: all, from a signal frame; from the
 * kernel's /proc syscall line, only the stack pointer and the program
 * counter); the stack's words from lo on, len bytes, in copy. 0 or
 * -EINVAL. */
int gr_bt_unwind_copy(const uintptr_t *regs, uint32_t known, uintptr_t lo, const void *copy,
		      size_t len, struct gr_bt *bt);

/* Where suspended t resumes (0 if unknown). */
uintptr_t gr_bt_resume_ip(const struct gr_thread *t);

/* Where t resumes and how deep its stack is, in one word: threads with
 * the same key almost always have the same stack (the key of the dump's
 * cache of shapes). */
uintptr_t gr_bt_key(const struct gr_thread *t);

/* Whether suspended t's stack has the frames of bt (see struct gr_bt). */
int gr_bt_same(const struct gr_thread *t, const struct gr_bt *bt);

/* Whether ip is in the library's own code. */
int gr_bt_in_runtime(uintptr_t ip);

/* "function+0x12 (file)" for the return address ip, into buf. */
void gr_bt_name(uintptr_t ip, char *buf, size_t cap);

/* Unmaps the symbol tables gr_bt_name mapped. */
void gr_bt_names_done(void);

#endif
