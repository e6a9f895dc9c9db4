/* Processes: waitpid, wait, wait4, waitid, system; the fork family:
 * pthread_atfork's registration, _Fork, vfork.
 *
 * A wait for a child parks only the green thread. For one child (pid > 0,
 * P_PID, P_PIDFD) the thread waits on a pidfd, which becomes readable when
 * the child ends; for "any child" or a process group it asks again with
 * WNOHANG on a short timer (1 ms, backing off to 20 ms): there is no fd
 * for those. Stopped and continued children (WUNTRACED, WCONTINUED) are
 * seen by the same timer. system() is rebuilt on posix_spawn and such a
 * wait, keeping its contract: SIGINT and SIGQUIT ignored and SIGCHLD
 * blocked in the caller while the command runs, the shell's status back.
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
 * natively (the OS thread's mask is only what every thread blocks). */
#include "hook.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../runtime/cancel.h"
#include "../runtime/clock.h"
#include "../runtime/fdwait.h"
#include "../runtime/signal.h"
#include "../runtime/fork.h"

extern char **environ;

/* Every pthread_atfork (a static function in each caller, from
 * libc_nonshared.a) registers through here: the runtime's child handler
 * goes in first, so that it runs before every other one in a fork child. */
GR_EXPORT int __register_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void),
				void *dso_handle)
{
	gr_fork_init();
	return GR_REAL(__register_atfork)(prepare, parent, child, dso_handle);
}

/* _Fork runs no fork handlers, so its child cannot rebuild the runtime
 * (nor may it: only async-signal-safe calls are allowed there): the
 * child's runtime stands down, and every hook in it calls libc. */
GR_EXPORT pid_t _Fork(void)
{
	int green = gr_green();
	pid_t pid = GR_REAL(_Fork)();

	if (pid == 0) {
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

/* Parks until pid (> 0) has ended, using a pidfd; 0, -EINTR, or -errno
 * when there is no pidfd for it (the caller then polls). */
static int wait_pidfd(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0), r;

	if (fd < 0)
		return -errno;
	gr_fd_own(fd);
	r = gr_fd_wait(fd, GR_FD_READ, 0);
	gr_fd_closing(fd);
	GR_REAL(close)(fd);
	return r;
}

/* Sleeps a little before asking again: the back-off for waits with no fd. */
static int nap(int64_t *ns)
{
	int r = gr_park(GR_WAIT_SLEEP, NULL, gr_now() + *ns);

	if (*ns < 20 * GR_MSEC)
		*ns *= 2;
	return r == -EINTR ? -EINTR : 0;
}

/* What follows a wait step w: -1 with errno EINTR when a signal handler
 * ran (a wait for a child is never restarted after one), else 0 to ask
 * again; a pidfd that could not be had falls back on the timer. */
static int after_wait(int w, int64_t *backoff)
{
	if (w == -EINTR || (w < 0 && nap(backoff) == -EINTR)) {
		errno = EINTR;
		return -1;
	}
	return 0;
}

static pid_t wait4_for(pid_t pid, int *status, int options, struct rusage *ru)
{
	int64_t backoff = GR_MSEC;

	for (;;) {
		pid_t r = GR_REAL(wait4)(pid, status, options | WNOHANG, ru);
		if (r != 0 || (options & WNOHANG))
			return r;
		int w = pid > 0 && !(options & (WUNTRACED | WCONTINUED)) ? wait_pidfd(pid)
									 : nap(&backoff);
		if (after_wait(w, &backoff) < 0)
			return -1;
	}
}

/* The waits are cancellation points (with WNOHANG too, as glibc's). */
static pid_t green_wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
	pid_t r;

	gr_cancel_begin();
	r = wait4_for(pid, status, options, ru);
	gr_cancel_end(r < 0 && errno == EINTR);
	return r;
}

GR_EXPORT pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
	if (!gr_green())
		return GR_REAL(wait4)(pid, status, options, ru);
	return green_wait4(pid, status, options, ru);
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

static int waitid_for(idtype_t type, id_t id, siginfo_t *info, int options)
{
	int64_t backoff = GR_MSEC;

	for (;;) {
		info->si_pid = 0;
		int r = GR_REAL(waitid)(type, id, info, options | WNOHANG);
		if (r != 0 || info->si_pid != 0)
			return r;
		int w;
		if (type == P_PIDFD && (options & WEXITED) && !(options & (WSTOPPED | WCONTINUED)))
			w = gr_fd_wait((int)id, GR_FD_READ, 0);
		else if (type == P_PID && (options & WEXITED) &&
			 !(options & (WSTOPPED | WCONTINUED)))
			w = wait_pidfd((pid_t)id);
		else
			w = nap(&backoff);
		if (after_wait(w, &backoff) < 0)
			return -1;
	}
}

GR_EXPORT int waitid(idtype_t type, id_t id, siginfo_t *info, int options)
{
	int r;

	if (!gr_green() || (options & WNOHANG))
		return GR_REAL(waitid)(type, id, info, options);
	gr_cancel_begin();
	r = waitid_for(type, id, info, options);
	gr_cancel_end(r < 0 && errno == EINTR);
	return r;
}

GR_EXPORT int system(const char *cmd)
{
	struct sigaction ign = {.sa_handler = SIG_IGN}, old_int = {0}, old_quit = {0};
	sigset_t chld, old_mask, dfl;
	posix_spawnattr_t attr;
	pid_t pid;
	int status = -1, err;

	if (!gr_green() || !cmd)
		return GR_REAL(system)(cmd);
	sigemptyset(&ign.sa_mask);
	GR_REAL(sigaction)(SIGINT, &ign, &old_int);
	GR_REAL(sigaction)(SIGQUIT, &ign, &old_quit);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old_mask);
	sigemptyset(&dfl);
	if (old_int.sa_handler != SIG_IGN)
		sigaddset(&dfl, SIGINT);
	if (old_quit.sa_handler != SIG_IGN)
		sigaddset(&dfl, SIGQUIT);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &old_mask);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	char *argv[] = {"sh", "-c", (char *)cmd, NULL};
	err = posix_spawn(&pid, "/bin/sh", NULL, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	if (err == 0) {
		while (wait4_for(pid, &status, 0, NULL) < 0)
			if (errno != EINTR) {
				status = -1;
				break;
			}
	} else {
		status = 127 << 8; /* as glibc: the shell could not run */
	}
	GR_REAL(sigaction)(SIGINT, &old_int, NULL);
	GR_REAL(sigaction)(SIGQUIT, &old_quit, NULL);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	return status;
}
