/* Processes: wait, waitpid, wait3, wait4, waitid (and the old __wait,
 * __waitpid), system, pclose; the fork family: pthread_atfork's
 * registration, _Fork, vfork.
 *
 * A wait for a child parks only the green thread (runtime/child.c: on a
 * pidfd for one child, else asking again on a short timer); a handler that
 * runs meanwhile ends it with EINTR unless every handler had SA_RESTART,
 * as the kernel restarts wait4 and waitid. glibc's own waits, which no hook
 * sees, are replaced: system() is rebuilt on posix_spawn and such a wait,
 * keeping glibc's contract to the letter (the caller count for the SIGINT
 * and SIGQUIT ignore, SIGCHLD blocked, cancellation killing the child);
 * pclose waits for the child here before glibc's close reaps it at once.
 *
 * fork is glibc's, and its child keeps a green runtime: it goes on as the
 * thread that called fork, on that thread's stack, the other threads gone
 * (a join of one answers as in glibc's child). runtime/fork.c rebuilds the
 * event loop there (the parent's epoll set, timerfd and eventfds reach the
 * child through fork and must stay the parent's) in a pthread_atfork child
 * handler. Every registration passes through __register_atfork below,
 * which puts that handler first: the program's child handlers, and all
 * that follows, find threads, sleeps and waits green again, while its
 * prepare handlers run as green code in the parent before the fork.
 * _Fork runs no handlers: its child's runtime stands down (every hook calls
 * libc; only async-signal-safe calls are allowed there anyway). A vfork
 * child borrows the parent's memory until it execs or exits: the runtime
 * stays "inside" meanwhile, so the child's hooks call libc and leave the
 * parent's runtime alone. posix_spawn, and system built on it, run nothing
 * of ours in the child. A child's signal mask is the forking thread's, as
 * natively (the OS thread's mask is only what every thread blocks).
 *
 * Left to libc: posix_spawn and popen themselves (the parent waits only
 * for the child's exec, as natively). */
#include "hook.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../runtime/cancel.h"
#include "../runtime/child.h"
#include "../runtime/fork.h"
#include "../runtime/ownfd.h"
#include "../runtime/signal.h"
#include "../runtime/sud.h"

extern char **environ;

/* Every pthread_atfork (a static function in each caller, from
 * libc_nonshared.a) registers through here: the runtime's child handler
 * goes in first, so that it runs before every other one in a fork child.
 * libuv's own (its signal lock pipe) runs wrapped (runtime/ownfd.c). */
GR_EXPORT int __register_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void),
				void *dso_handle)
{
	gr_fork_init();
	return GR_REAL(__register_atfork)(prepare, parent, gr_own_fd_atfork_child(child),
					  dso_handle);
}

/* _Fork runs no fork handlers, so its child cannot rebuild the runtime
 * (nor may it: only async-signal-safe calls are allowed there): the
 * child's runtime stands down, and every hook in it calls libc. */
GR_EXPORT pid_t _Fork(void)
{
	int green = gr_green();
	pid_t pid = GR_REAL(_Fork)();

	if (pid == 0) {
		gr_sud_forget();
		if (green)
			gr_signal_forked();
		gr_fork_child_stands_down();
	}
	return pid;
}

/* vfork: the child borrows the parent's memory until it execs or exits,
 * while the parent waits. A hook in the child would change the parent's
 * runtime (a close would wake the parent's readers with EBADF and take the
 * fd out of its epoll set; a blocking read would run the parent's threads),
 * so the runtime is "inside" while the child runs: every hook there calls
 * libc. vfork cannot be wrapped in C: the child returns through the
 * caller's frame and goes on using the stack below it, where a frame of
 * ours would be overwritten before the parent returns through it. So, as
 * glibc's vfork does, the entry below keeps the return address in a
 * register the kernel preserves, and calls these two around the system
 * call. */
__attribute__((used)) static int vfork_enter(void)
{
	return gr_vfork_enter();
}

/* In the parent: restores the runtime, turns the raw result (a pid, or
 * -errno) into libc's. */
__attribute__((used)) static pid_t vfork_leave(int was, long raw)
{
	gr_vfork_leave(was);
	return (pid_t)gr_ret(raw);
}

#define STR_(x) #x
#define STR(x)	STR_(x)

/* clang-format off */
#if defined(__x86_64__)
/* pid_t vfork(void)
 * rsi: what vfork_enter returned, rdi: the return address; the kernel
 * keeps both for the parent (syscall clobbers only rax, rcx, r11). */
__asm__(".text\n"
	".globl vfork\n"
	".type vfork, @function\n"
	".p2align 4\n"
	"vfork:\n"
	".cfi_startproc\n"
	"	subq $8, %rsp\n"
	".cfi_adjust_cfa_offset 8\n"
	"	call vfork_enter\n"
	"	addq $8, %rsp\n"
	".cfi_adjust_cfa_offset -8\n"
	"	movl %eax, %esi\n"
	"	popq %rdi\n"
	".cfi_adjust_cfa_offset -8\n"
	".cfi_register %rip, %rdi\n"
	"	movl $" STR(SYS_vfork) ", %eax\n"
	"	syscall\n"
	"	pushq %rdi\n"
	".cfi_adjust_cfa_offset 8\n"
	".cfi_rel_offset %rip, 0\n"
	"	testq %rax, %rax\n"
	"	jz 1f\n" /* the child: returns with the runtime inside */
	"	movl %esi, %edi\n"
	"	movq %rax, %rsi\n"
	"	subq $8, %rsp\n"
	".cfi_adjust_cfa_offset 8\n"
	"	call vfork_leave\n"
	"	addq $8, %rsp\n"
	".cfi_adjust_cfa_offset -8\n"
	"1:	ret\n"
	".cfi_endproc\n"
	".size vfork, .-vfork\n");
#elif defined(__aarch64__)
/* pid_t vfork(void): clone(CLONE_VM | CLONE_VFORK | SIGCHLD, sp), as glibc.
 * x9: what vfork_enter returned; x30: the return address; the kernel keeps
 * every register but x0 for the parent. */
__asm__(".text\n"
	".globl vfork\n"
	".type vfork, %function\n"
	".p2align 2\n"
	"vfork:\n"
	".cfi_startproc\n"
	"	stp x29, x30, [sp, -16]!\n"
	".cfi_def_cfa_offset 16\n"
	".cfi_offset x29, -16\n"
	".cfi_offset x30, -8\n"
	"	bl vfork_enter\n"
	"	ldp x29, x30, [sp], 16\n"
	".cfi_restore x29\n"
	".cfi_restore x30\n"
	".cfi_def_cfa_offset 0\n"
	"	mov w9, w0\n"
	"	mov x0, #0x4111\n"
	"	mov x1, sp\n"
	"	mov x8, #" STR(SYS_clone) "\n"
	"	svc #0\n"
	"	cbz x0, 1f\n" /* the child: returns with the runtime inside */
	"	mov x1, x0\n"
	"	mov w0, w9\n"
	"	stp x29, x30, [sp, -16]!\n"
	".cfi_def_cfa_offset 16\n"
	".cfi_offset x29, -16\n"
	".cfi_offset x30, -8\n"
	"	bl vfork_leave\n"
	"	ldp x29, x30, [sp], 16\n"
	".cfi_restore x29\n"
	".cfi_restore x30\n"
	".cfi_def_cfa_offset 0\n"
	"1:	ret\n"
	".cfi_endproc\n"
	".size vfork, .-vfork\n");
#endif
/* clang-format on */

/* The waits are cancellation points (with WNOHANG too, as glibc's). */
static pid_t green_wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
	int r;

	gr_cancel_begin();
	r = gr_child_wait4(pid, status, options, ru);
	gr_cancel_end(r == -EINTR);
	return (pid_t)gr_ret(r);
}

GR_EXPORT pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
	if (!gr_green())
		return GR_REAL(wait4)(pid, status, options, ru);
	return green_wait4(pid, status, options, ru);
}

GR_EXPORT pid_t wait3(int *status, int options, struct rusage *ru)
{
	if (!gr_green())
		return GR_REAL(wait3)(status, options, ru);
	return green_wait4(-1, status, options, ru);
}

GR_EXPORT pid_t waitpid(pid_t pid, int *status, int options)
{
	if (!gr_green())
		return GR_REAL(waitpid)(pid, status, options);
	return green_wait4(pid, status, options, NULL);
}

GR_EXPORT pid_t wait(int *status)
{
	if (!gr_green())
		return GR_REAL(wait)(status);
	return green_wait4(-1, status, 0, NULL);
}

/* The old names, which binaries of long ago still call. */
GR_EXPORT pid_t __waitpid(pid_t pid, int *status, int options)
{
	if (!gr_green())
		return GR_REAL(__waitpid)(pid, status, options);
	return green_wait4(pid, status, options, NULL);
}

GR_EXPORT pid_t __wait(int *status)
{
	if (!gr_green())
		return GR_REAL(__wait)(status);
	return green_wait4(-1, status, 0, NULL);
}

GR_EXPORT int waitid(idtype_t type, id_t id, siginfo_t *info, int options)
{
	int r;

	if (!gr_green() || (options & WNOHANG))
		return GR_REAL(waitid)(type, id, info, options);
	gr_cancel_begin();
	r = gr_child_waitid(type, id, info, options);
	gr_cancel_end(r == -EINTR);
	return (int)gr_ret(r);
}

/* pclose: glibc's waits for the child with its internal waitpid, which no
 * hook sees. Its popen keeps the child's pid right after the FILE (and
 * its vtable pointer) in the stream's own struct, _IO_proc_file. So the
 * child is waited for here first, once its pipe is closed (after a flush
 * of what the stream still holds, which glibc would have written then):
 * glibc's close and wait then return at once. A pid that is not a child
 * of ours (not a popen stream) leaves everything to glibc. */
static pid_t popen_child(FILE *fp)
{
	pid_t pid;
	siginfo_t info = {0};
	int saved = errno;

	memcpy(&pid, (const char *)fp + sizeof(FILE) + sizeof(void *), sizeof(pid));
	if (pid <= 0 || GR_REAL(waitid)(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) < 0)
		pid = 0;
	errno = saved;
	return pid;
}

GR_EXPORT int pclose(FILE *fp)
{
	int flush_failed = 0, flush_errno = 0, r;
	pid_t pid;

	if (!gr_green() || !fp || (pid = popen_child(fp)) == 0)
		return GR_REAL(pclose)(fp);
	/* glibc's close flushes first; a failed flush drops the data, and
	 * makes pclose fail when the child's status is 0. */
	if (__fpending(fp) > 0) {
		int saved = errno;
		flush_failed = fflush(fp) != 0;
		flush_errno = errno;
		errno = saved;
	}
	(void)gr_child_await_exit(pid, fileno(fp)); /* else glibc blocks, as natively */
	r = GR_REAL(pclose)(fp);
	if (r == 0 && flush_failed) {
		errno = flush_errno;
		return -1;
	}
	return r;
}

/* system, as glibc's: the first of the threads in system() at once sets
 * SIGINT and SIGQUIT to be ignored and the last puts back what was there,
 * and each blocks SIGCHLD in its own mask meanwhile. The command runs through
 * posix_spawn (no fork handlers run), with the caller's mask and the two
 * signals at their default unless they were ignored. A cancellation while
 * it waits kills the child with SIGKILL, reaps it, and lets the signals go
 * as for a return, before the thread unwinds. */
static struct sigaction sys_intr, sys_quit; /* what the first caller replaced */
static int sys_callers;

static void system_leave(const sigset_t *omask)
{
	if (--sys_callers == 0) {
		sigaction(SIGINT, &sys_intr, NULL);
		sigaction(SIGQUIT, &sys_quit, NULL);
	}
	if (omask)
		sigprocmask(SIG_SETMASK, omask, NULL);
}

/* Waits for the shell: its status, or -1; acts on a cancellation. */
static int system_wait(pid_t pid)
{
	int status = -1, r;

	do {
		gr_cancel_hold();
		r = gr_cancel_due() ? -ECANCELED : gr_child_wait4(pid, &status, 0, NULL);
		if (gr_cancel_release()) {
			kill(pid, SIGKILL);
			while (gr_child_wait4(pid, NULL, 0, NULL) == -EINTR)
				;
			system_leave(NULL);
			gr_cancel_test(); /* unwinds */
		}
	} while (r == -EINTR);
	return r == pid ? status : -1;
}

static int green_system(const char *line)
{
	struct sigaction ign = {.sa_handler = SIG_IGN};
	sigset_t chld, omask, reset;
	posix_spawnattr_t attr;
	pid_t pid;
	int status, err;

	sigemptyset(&ign.sa_mask);
	if (sys_callers++ == 0) {
		sigaction(SIGINT, &ign, &sys_intr);
		sigaction(SIGQUIT, &ign, &sys_quit);
	}
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &omask);
	sigemptyset(&reset);
	if (sys_intr.sa_handler != SIG_IGN)
		sigaddset(&reset, SIGINT);
	if (sys_quit.sa_handler != SIG_IGN)
		sigaddset(&reset, SIGQUIT);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &omask);
	posix_spawnattr_setsigdefault(&attr, &reset);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	char *argv[] = {"sh", "-c", (char *)line, NULL};
	err = posix_spawn(&pid, "/bin/sh", NULL, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	if (err == 0)
		status = system_wait(pid);
	else
		status = 127 << 8; /* as if the shell had run _exit(127) */
	system_leave(&omask);
	if (err != 0)
		errno = err;
	return status;
}

GR_EXPORT int system(const char *cmd)
{
	if (!gr_green())
		return GR_REAL(system)(cmd);
	/* NULL asks whether there is a shell. */
	return cmd ? green_system(cmd) : green_system("exit 0") == 0;
}
