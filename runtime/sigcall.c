/* Telling, from a signal frame, that the interrupted thread had just sent
 * the signal itself with a system call (signal.h, gr_sigcall_sent).
 *
 * The kernel delivers a signal that a thread sends its own process on the
 * way out of that system call, so the frame's context is the call's
 * return: the program counter right after the system call instruction,
 * the result register holding the call's result, and every argument
 * register but the result's as the call had them (the kernel preserves
 * them: rcx and r11 are the only others syscall clobbers on x86_64, none on
 * aarch64). A kill that raised the signal succeeded (result 0) and had the
 * signal's number as its signal argument. Where the call's number survives
 * (aarch64's x8) it must be a sending call too; x86_64 overwrites it (rax)
 * with the result, so there the argument stands for it.
 *
 * The kernel delivers the thread's own pending signals before the
 * process's, each on top of the last: a preemption tick pending with a
 * kill's signal gets the first frame, and the kill's lands on it, before
 * the tick's handler ran its first instruction. The call's return is then
 * the lower frame's context (gr_sigcall_below). */
#include <errno.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <ucontext.h>

#include "signal.h"
#include "uaccess.h"

#if defined(__x86_64__)
static int after_syscall_insn(uintptr_t pc)
{
	unsigned char insn[2];

	/* Read through the kernel: the bytes may be on an unreadable page
	 * (execute-only, or unmapped when pc starts a mapping). */
	return gr_copy_in(insn, (const void *)(pc - 2), 2) == 0 && insn[0] == 0x0f &&
	       insn[1] == 0x05; /* syscall */
}

/* The first, third and fourth arguments (rdi, rdx, r10) fit one of the
 * sending calls: kill(pid, sig) and rt_sigqueueinfo(tgid, sig, info) name
 * this process, its group (0, -pgrp) or all (-1); pidfd_send_signal(fd,
 * sig, info, flags) an fd, with no info or one in memory and no flags.
 * That leaves out the calls whose second argument is a small number too:
 * a futex wake (an address, then a count), epoll_ctl (an fd, then another
 * fd), fcntl, dup3, ... */
static int sending_args(const greg_t *g)
{
	long first = (long)g[REG_RDI], info = (long)g[REG_RDX];

	if (first == (long)getpid() || first <= 0)
		return 1;
	return first < (1 << 20) /* the kernel's nr_open */ && g[REG_R10] == 0 &&
	       (info == 0 || info >= 4096);
}

/* At a handler's entry the kernel has rdi = the signal, rdx = its frame's
 * context, just above the return address at rsp. */
static const ucontext_t *lower_frame(const ucontext_t *uc, uintptr_t entry)
{
	const greg_t *g = uc->uc_mcontext.gregs;

	if ((uintptr_t)g[REG_RIP] != entry || g[REG_RDI] <= 0 || g[REG_RDI] >= GR_NSIG ||
	    (uintptr_t)g[REG_RDX] != (uintptr_t)g[REG_RSP] + sizeof(void *))
		return NULL;
	return (const ucontext_t *)g[REG_RDX];
}

int gr_sigcall_sent(const void *uc, int sig)
{
	const greg_t *g = ((const ucontext_t *)uc)->uc_mcontext.gregs;
	int saved = errno, r;

	/* kill, pidfd_send_signal, rt_sigqueueinfo: the signal is the second
	 * argument (rsi). */
	if (g[REG_RAX] != 0 || g[REG_RSI] != sig || !sending_args(g))
		return 0;
	r = after_syscall_insn((uintptr_t)g[REG_RIP]);
	errno = saved;
	return r;
}
#elif defined(__aarch64__)
/* At a handler's entry the kernel has x0 = the signal, x1 = its frame's
 * siginfo at sp, x2 = the context right after it. */
static const ucontext_t *lower_frame(const ucontext_t *uc, uintptr_t entry)
{
	const mcontext_t *m = &uc->uc_mcontext;

	if (m->pc != entry || m->regs[0] == 0 || m->regs[0] >= GR_NSIG || m->regs[1] != m->sp ||
	    m->regs[2] != m->sp + sizeof(siginfo_t))
		return NULL;
	return (const ucontext_t *)m->regs[2];
}

int gr_sigcall_sent(const void *uc, int sig)
{
	const mcontext_t *m = &((const ucontext_t *)uc)->uc_mcontext;
	uint32_t insn;
	int saved = errno, r;

	if (m->regs[0] != 0 || m->regs[1] != (uint64_t)sig)
		return 0;
	switch (m->regs[8]) {
	case SYS_kill:
	case SYS_pidfd_send_signal:
	case SYS_rt_sigqueueinfo: break;
	default: return 0;
	}
	r = gr_copy_in(&insn, (const void *)(m->pc - 4), 4) == 0 && insn == 0xd4000001; /* svc #0 */
	errno = saved;
	return r;
}
#else
static const ucontext_t *lower_frame(const ucontext_t *uc, uintptr_t entry)
{
	(void)uc;
	(void)entry;
	return NULL;
}

int gr_sigcall_sent(const void *uc, int sig)
{
	(void)uc;
	(void)sig;
	return 0; /* unknown: delivered at the next safe point, as before */
}
#endif

const void *gr_sigcall_below(const void *uc, const void *entry)
{
	const ucontext_t *at = uc, *lower;

	/* The frames of every signal pending at the call's return, at most. */
	for (int n = 0; n < 64; n++) {
		lower = lower_frame(at, (uintptr_t)entry);
		if (!lower)
			break;
		at = lower;
	}
	return at;
}
