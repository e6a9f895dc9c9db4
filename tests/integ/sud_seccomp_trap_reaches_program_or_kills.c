/* Hazard: the kernel's action for SIGSYS is the runtime's while system
 * calls outside libc are dispatched to it; a SIGSYS that is none of those
 * must go where the program's action says, as natively. With a seccomp
 * filter that traps getppid (SECCOMP_RET_TRAP):
 *   libc's getppid and one made with the program's own syscall
 *     instruction each reach the program's SA_SIGINFO handler, with
 *     si_code SYS_SECCOMP, and the rax it writes is the call's result;
 *   SIGSYS ignored, a kill's SIGSYS is discarded;
 *   SIGSYS ignored, a trapped getppid still kills the process with SIGSYS
 *     (the kernel forces a trap's signal: an ignored one takes the default
 *     action).
 * Elsewhere than x86_64 the inline call is libc's syscall(). */
/* expect: signal SIGSYS */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "check.h"

#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1
#endif

static long inline_getppid(void)
{
#if defined(__x86_64__)
	long r;

	__asm__ volatile("syscall" : "=a"(r) : "0"((long)SYS_getppid) : "rcx", "r11", "memory");
	return r;
#else
	return syscall(SYS_getppid);
#endif
}

static volatile sig_atomic_t hits, bad_code;

static void on_sys(int sig, siginfo_t *info, void *ucv)
{
	ucontext_t *uc = ucv;

	(void)sig;
	hits++;
	if (info->si_code != SYS_SECCOMP || info->si_syscall != SYS_getppid)
		bad_code++;
#if defined(__x86_64__)
	uc->uc_mcontext.gregs[REG_RAX] = 4242;
#elif defined(__aarch64__)
	uc->uc_mcontext.regs[0] = 4242;
#endif
}

static void *nothing(void *arg)
{
	return arg;
}

int main(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {sizeof(f) / sizeof(f[0]), f};
	struct sigaction sa;
	pthread_t t;

	alarm(20);
	MUST(pthread_create(&t, NULL, nothing, NULL));
	MUST(pthread_join(t, NULL));
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sys;
	sa.sa_flags = SA_SIGINFO;
	MUST(sigaction(SIGSYS, &sa, NULL));
	MUST(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	MUST(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog));
	CHECK(getppid() == 4242 && hits == 1, "libc's trapped getppid gives the handler's rax");
	CHECK(inline_getppid() == 4242 && hits == 2,
	      "an inline trapped getppid gives the handler's rax");
	CHECK(bad_code == 0, "the handler saw si_code SYS_SECCOMP and getppid's number");
	signal(SIGSYS, SIG_IGN);
	MUST(kill(getpid(), SIGSYS));
	CHECK(hits == 2, "an ignored SIGSYS sent with kill is discarded");
	fflush(stdout);
	getppid(); /* dies here */
	printf("a trapped call with SIGSYS ignored did not kill\n");
	return check_done();
}
