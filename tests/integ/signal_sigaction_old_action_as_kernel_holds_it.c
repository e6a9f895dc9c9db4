/* Hazard: the old action sigaction reports for a handler the program set is
 * what the kernel holds, as glibc reads it back: on x86_64 with
 * SA_RESTORER and glibc's restorer, the mask without SIGKILL and SIGSTOP.
 * The preload reported the program's own struct (no SA_RESTORER, its
 * uninitialised sa_restorer), so a program that takes the restorer from
 * there for its own rt_sigaction system call, as LTP's rt_sigaction,
 * rt_sigprocmask and rt_sigsuspend tests do, gave the kernel a NULL one,
 * and its handler returned to address 0: SIGSEGV, before any thread too.
 * Checked before the first thread and in one. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>

#include "check.h"

#define K_SA_RESTORER 0x04000000UL /* asm/signal.h, which clashes with signal.h */

/* The kernel's struct for rt_sigaction on x86_64 and aarch64. */
struct k_sigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};

static volatile sig_atomic_t runs;

static void on_sig(int sig)
{
	(void)sig;
	runs++;
}

static void on_other(int sig)
{
	(void)sig;
}

static void round_(const char *when)
{
	struct sigaction a, old;
	struct k_sigaction k;

	/* Garbage where the kernel's answer goes, as in a program's stack. */
	memset(&a, 0x5a, sizeof(a));
	a.sa_handler = on_other;
	a.sa_flags = 0;
	sigemptyset(&a.sa_mask);
	sigaddset(&a.sa_mask, SIGKILL);
	sigaddset(&a.sa_mask, SIGSTOP);
	sigaddset(&a.sa_mask, SIGUSR2);
	MUST(sigaction(SIGUSR1, &a, NULL));
	memset(&old, 0, sizeof(old));
	MUST(sigaction(SIGUSR1, NULL, &old));
	CHECK(old.sa_handler == on_other, "%s: old action names the handler", when);
	printf("%s: old sa_flags %#lx\n", when, (unsigned long)old.sa_flags);
#if defined(__x86_64__)
	CHECK(old.sa_restorer != NULL && old.sa_restorer != (void (*)(void))0x5a5a5a5a5a5a5a5aUL,
	      "%s: old action carries glibc's restorer", when);
#endif
	CHECK(!sigismember(&old.sa_mask, SIGKILL) && !sigismember(&old.sa_mask, SIGSTOP) &&
		      sigismember(&old.sa_mask, SIGUSR2),
	      "%s: old mask is the kernel's: no SIGKILL, SIGSTOP", when);

	/* The same through the replacing call's old action. */
	a.sa_handler = on_sig;
	memset(&old, 0, sizeof(old));
	MUST(sigaction(SIGUSR1, &a, &old));
	printf("%s: replaced action's sa_flags %#lx\n", when, (unsigned long)old.sa_flags);

	/* LTP's way: the kernel's own call, with that restorer. */
	memset(&k, 0, sizeof(k));
	k.handler = on_sig;
	k.flags = (unsigned long)old.sa_flags & K_SA_RESTORER;
	k.restorer = old.sa_restorer;
	MUST((int)syscall(SYS_rt_sigaction, SIGUSR1, &k, NULL, sizeof(k.mask)));
	runs = 0;
	raise(SIGUSR1);
	CHECK(runs == 1, "%s: a handler given that restorer returns", when);

	a.sa_handler = SIG_DFL;
	MUST(sigaction(SIGUSR1, &a, NULL));
	memset(&old, 0, sizeof(old));
	MUST(sigaction(SIGUSR1, NULL, &old));
	printf("%s: SIG_DFL set: sa_flags %#lx default %s\n", when, (unsigned long)old.sa_flags,
	       old.sa_handler == SIG_DFL ? "yes" : "NO");
}

static void *in_thread(void *arg)
{
	round_("in a thread");
	return arg;
}

int main(void)
{
	round_("before any thread");
	run_thread(in_thread, NULL);
	round_("main after a thread");
	return check_done();
}
