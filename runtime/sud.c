/* System calls made outside libc, dispatched to the runtime (sud.h). */
#include "sud.h"

#include <errno.h>
#include <gnu/libc-version.h>
#include <link.h>
#include <linux/audit.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "real.h"
#include "sched.h"
#include "signal.h"

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#endif
#ifndef PR_SYS_DISPATCH_OFF
#define PR_SYS_DISPATCH_OFF 0
#define PR_SYS_DISPATCH_ON  1
#endif
#ifndef SYS_USER_DISPATCH
#define SYS_USER_DISPATCH 2 /* si_code of a dispatched call's SIGSYS */
#endif
#define ALLOW 0 /* SYSCALL_DISPATCH_FILTER_ALLOW */
#define BLOCK 1 /* SYSCALL_DISPATCH_FILTER_BLOCK */

int gr_sud_on;
long (*gr_sud_call)(long nr, const long *a);
volatile char gr_sud_selector;

int gr_sud_is_ours(const siginfo_t *info)
{
	return gr_sud_on && info->si_code == SYS_USER_DISPATCH;
}

#if defined(__x86_64__)

/* libc's code: the one range whose calls the kernel never dispatches. */
static uintptr_t libc_lo, libc_len;

static int find_libc(struct dl_phdr_info *info, size_t size, void *data)
{
	uintptr_t at = (uintptr_t)data;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *p = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + p->p_vaddr;
		if (p->p_type == PT_LOAD && (p->p_flags & PF_X) && at - lo < p->p_memsz) {
			libc_lo = lo;
			libc_len = p->p_memsz;
			return 1;
		}
	}
	return 0;
}

/* Under valgrind, whose core passes the prctl on to the kernel for its own
 * OS thread: every system call valgrind makes would be dispatched, to a
 * handler it never runs, and the process dies of SIGSYS at once. */
static int find_valgrind(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	(void)data;
	return info->dlpi_name && strstr(info->dlpi_name, "/vgpreload_") != NULL;
}

/* Calls the kernel makes where they were, with dispatch off until the next
 * switch (gr_sud_rearm): a sigreturn, which restores the frame it finds
 * on the stack, and those that make a task, whose child would start in
 * this handler; and any call of another ABI (int $0x80's i386 numbers,
 * which syscall() would take for x86_64's). */
static int in_place(const siginfo_t *info)
{
	long nr = info->si_syscall;

	return info->si_arch != AUDIT_ARCH_X86_64 || nr == SYS_rt_sigreturn || nr == SYS_clone ||
	       nr == SYS_clone3 || nr == SYS_fork || nr == SYS_vfork;
}

static void on_sigsys(int sig, siginfo_t *info, void *ucv)
{
	ucontext_t *uc = ucv;
	greg_t *g = uc->uc_mcontext.gregs;
	uint64_t switches;
	int saved;
	long r, a[6];

	(void)sig;
	if (!gr_sud_is_ours(info)) {
		gr_signal_sys_other(info, uc);
		__asm__ volatile("" ::: "memory"); /* no tail call */
		return;
	}
	if (in_place(info) || !gr_tls_runtime) {
		gr_sud_selector = ALLOW;
		g[REG_RIP] -= 2; /* the syscall instruction, again */
		return;
	}
	/* As the syscall() hook makes it: a futex wait parks only the caller,
	 * and the others run meanwhile, this frame on the caller's stack. */
	saved = errno;
	switches = gr_rt.switches;
	errno = 0;
	a[0] = g[REG_RDI];
	a[1] = g[REG_RSI];
	a[2] = g[REG_RDX];
	a[3] = g[REG_R10];
	a[4] = g[REG_R8];
	a[5] = g[REG_R9];
	r = gr_sud_call(info->si_syscall, a);
	g[REG_RAX] = r == -1 && errno ? -errno : r;
	errno = saved;
	/* The sigreturn puts back the OS thread's mask of the moment the call
	 * was made; after other threads ran it is the runtime's current one. */
	if (gr_rt.switches != switches) {
		gr_sigmask_to_frame(uc);
	} else if (info->si_syscall == SYS_rt_sigprocmask && r == 0) {
		/* Made as is, as through syscall(): the kernel's mask is the
		 * call's, which the sigreturn would undo (SIGSYS left out:
		 * sigmask.c's kernel_mask). */
		gr_real.pthread_sigmask(SIG_BLOCK, NULL, &uc->uc_sigmask);
		sigdelset(&uc->uc_sigmask, SIGSYS);
	}
}

static int arm(void)
{
	return prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, libc_lo, libc_len,
		     &gr_sud_selector) == 0
		       ? 0
		       : -errno;
}

void gr_sud_start(void)
{
	struct sigaction sa, cur;
	int err;

	if (!gr_config.syscall_dispatch || !gr_sud_call)
		return;
	/* Every switch to a thread with TLS of its own would be one. */
	if (!gr_ctx_tp_fast && !gr_config.tls_shared) {
		gr_log(GR_LOG_INFO, "system calls outside libc not dispatched: no FSGSBASE");
		return;
	}
	if (dl_iterate_phdr(find_valgrind, NULL)) {
		gr_log(GR_LOG_INFO, "system calls outside libc not dispatched: under valgrind");
		return;
	}
	dl_iterate_phdr(find_libc, (void *)(uintptr_t)gnu_get_libc_version);
	if (!libc_len || gr_real.sigaction(SIGSYS, NULL, &cur) < 0)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	/* SA_NODEFER: the kernel kills a task whose dispatched call traps
	 * while SIGSYS is blocked, and a green thread may make one while
	 * another waits inside this handler. */
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	gr_signal_take_sys(&cur);
	if (gr_real.sigaction(SIGSYS, &sa, NULL) < 0)
		return;
	gr_sud_selector = BLOCK;
	/* SIGSYS unblocked first (a program that blocked every signal
	 * before its first thread): sigmask.c keeps it so while on. */
	gr_sud_on = 1;
	gr_sigmask_reapply();
	err = arm();
	if (err < 0) {
		gr_sud_selector = ALLOW;
		gr_sud_on = 0;
		gr_sigmask_reapply();
		gr_log(GR_LOG_INFO, "system calls outside libc not dispatched (%s)",
		       strerror(-err));
		return;
	}
	gr_log(GR_LOG_DEBUG, "system calls outside libc's %#lx-%#lx dispatched",
	       (unsigned long)libc_lo, (unsigned long)(libc_lo + libc_len));
}

void gr_sud_after_fork(void)
{
	if (gr_sud_on && arm() < 0)
		gr_sud_on = 0;
}

#else

void gr_sud_start(void)
{
}

void gr_sud_after_fork(void)
{
}

#endif
