/* expect: signal SIGSEGV */
/* Hazard: a fault in a thread that blocks the fault's signal. The kernel
 * cannot leave a fault pending: it forces the default action, so the
 * process dies of SIGSEGV, even though a handler is installed and another
 * thread (main) does not block SIGSEGV. The handler must not run. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "check.h"

static void on_segv(int sig)
{
	(void)sig;
	printf("the handler ran\n");
	fflush(stdout);
	_exit(0);
}

static void *faulter(void *arg)
{
	sigset_t m;
	volatile int *null = NULL;

	(void)arg;
	sigemptyset(&m);
	sigaddset(&m, SIGSEGV);
	pthread_sigmask(SIG_BLOCK, &m, NULL);
	printf("faulting with SIGSEGV blocked\n");
	fflush(stdout);
	return (void *)(intptr_t)*null;
}

int main(void)
{
	struct sigaction sa = {.sa_handler = on_segv};
	pthread_t t;

	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGSEGV, &sa, NULL));
	MUST(pthread_create(&t, NULL, faulter, NULL));
	pthread_join(t, NULL);
	printf("main lived on\n");
	return 0;
}
