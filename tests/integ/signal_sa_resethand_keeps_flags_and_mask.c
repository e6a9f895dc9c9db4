/* Hazard: SA_RESETHAND makes the kernel reset the handler to SIG_DFL as
 * it delivers the signal, and only the handler: the action's flags
 * (SA_SIGINFO...) and mask stay, as sigaction then reports, inside the
 * handler and after. The preload's reset installed a bare SIG_DFL, flags
 * and mask cleared (LTP sigaction01). Checked in a thread. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>

#include "check.h"

static struct sigaction inside;
static volatile sig_atomic_t runs;

static void on_usr1(int sig, siginfo_t *info, void *uc)
{
	(void)info;
	(void)uc;
	sigaction(sig, NULL, &inside);
	runs++;
}

static void *in_thread(void *arg)
{
	struct sigaction a, after;

	(void)arg;
	memset(&a, 0, sizeof(a));
	a.sa_sigaction = on_usr1;
	a.sa_flags = SA_SIGINFO | SA_RESETHAND;
	sigemptyset(&a.sa_mask);
	sigaddset(&a.sa_mask, SIGUSR2);
	MUST(sigaction(SIGUSR1, &a, NULL));
	MUST(raise(SIGUSR1));
	CHECK(runs == 1, "the handler ran once");
	CHECK(inside.sa_handler == SIG_DFL, "inside: the handler is reset to SIG_DFL");
	CHECK((inside.sa_flags & (SA_SIGINFO | SA_RESETHAND)) == (SA_SIGINFO | SA_RESETHAND),
	      "inside: SA_SIGINFO and SA_RESETHAND stay");
	CHECK(sigismember(&inside.sa_mask, SIGUSR2), "inside: the mask stays");
	MUST(sigaction(SIGUSR1, NULL, &after));
	CHECK(after.sa_handler == SIG_DFL && (after.sa_flags & SA_SIGINFO) &&
		      sigismember(&after.sa_mask, SIGUSR2),
	      "after: SIG_DFL with the flags and mask");
	return NULL;
}

int main(void)
{
	run_thread(in_thread, NULL);
	return check_done();
}
