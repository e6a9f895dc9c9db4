/* Hazard: a handler's sa_mask that holds SIGSYS blocks it while the handler
 * runs, before the program's first thread too. The preload's kernel action
 * dropped SIGSYS from every handler's mask (system call dispatch needs it
 * unblocked, and after the first thread the green thread's mask blocks it
 * instead), so before any thread a SIGSYS raised inside such a handler ran
 * nested at once (LTP's Open POSIX sigaction 8-22). Once threads run, the
 * same handler still defers it, in main and in a thread; and with calls
 * outside libc dispatched (SIGSYS), a fault handler installed before the
 * first thread, with every signal in its mask, still makes such a call
 * (the kernel kills a task whose dispatched call traps while it blocks
 * SIGSYS). */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>

#include "check.h"
#include "inline_syscall.h"

static volatile sig_atomic_t sys_runs, in_usr1, nested;
static volatile long fault_getpid;
static sigjmp_buf out;

static void on_sys(int sig)
{
	(void)sig;
	sys_runs++;
	if (in_usr1)
		nested = 1;
}

static void on_usr1(int sig)
{
	(void)sig;
	in_usr1 = 1;
	raise(SIGSYS);
	in_usr1 = 0;
}

static void on_trap(int sig)
{
	(void)sig;
	fault_getpid = raw6(SYS_getpid, 0, 0, 0, 0, 0, 0);
	siglongjmp(out, 1);
}

static void usr1_round(const char *when)
{
	sys_runs = nested = 0;
	raise(SIGUSR1);
	CHECK(sys_runs == 1 && !nested, "%s: SIGSYS raised in the handler runs once, after it", when);
}

static void *in_thread(void *arg)
{
	(void)arg;
	usr1_round("in a thread");
	fault_getpid = 0;
	if (sigsetjmp(out, 1) == 0)
		__builtin_trap(); /* SIGILL on x86_64, SIGTRAP on aarch64 */
	CHECK(fault_getpid == getpid(), "in a thread: a fault handler's own system call answers");
	return NULL;
}

int main(void)
{
	struct sigaction a;

	memset(&a, 0, sizeof(a));
	a.sa_handler = on_sys;
	sigemptyset(&a.sa_mask);
	MUST(sigaction(SIGSYS, &a, NULL));
	a.sa_handler = on_usr1;
	sigaddset(&a.sa_mask, SIGSYS);
	MUST(sigaction(SIGUSR1, &a, NULL));
	a.sa_handler = on_trap;
	sigfillset(&a.sa_mask);
	MUST(sigaction(SIGILL, &a, NULL));
	MUST(sigaction(SIGTRAP, &a, NULL));

	usr1_round("before any thread");
	run_thread(in_thread, NULL);
	usr1_round("main, after a thread");
	return check_done();
}
