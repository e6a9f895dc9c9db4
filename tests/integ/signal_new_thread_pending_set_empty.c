/* Hazard: a new thread starts with no pending signals of its own (POSIX):
 * a signal pending on its creator (sent with pthread_kill while the
 * creator blocks it) stays the creator's: the new thread, which inherits
 * the mask, does not see it in sigpending, and the creator still does and
 * takes it with sigwait. A signal pending on the process (kill) is seen by
 * both. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "check.h"

static int child_usr1, child_usr2;

static void *look(void *arg)
{
	sigset_t p;

	(void)arg;
	sigemptyset(&p);
	MUST(sigpending(&p));
	child_usr1 = sigismember(&p, SIGUSR1);
	child_usr2 = sigismember(&p, SIGUSR2);
	return NULL;
}

int main(void)
{
	sigset_t block, p;
	pthread_t t;
	int sig;

	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	MUST(pthread_sigmask(SIG_BLOCK, &block, NULL));
	MUST(pthread_kill(pthread_self(), SIGUSR1)); /* pending on main */
	MUST(kill(getpid(), SIGUSR2));		      /* pending on the process */
	MUST(pthread_create(&t, NULL, look, NULL));
	MUST(pthread_join(t, NULL));
	CHECK(!child_usr1, "the new thread does not have its creator's pending signal");
	CHECK(child_usr2, "it sees the process's pending signal");
	sigemptyset(&p);
	MUST(sigpending(&p));
	CHECK(sigismember(&p, SIGUSR1), "main still has its pending signal");
	CHECK(sigismember(&p, SIGUSR2), "and the process's");
	sigemptyset(&p);
	sigaddset(&p, SIGUSR1);
	MUST(sigwait(&p, &sig));
	CHECK(sig == SIGUSR1, "main takes it with sigwait");
	sigemptyset(&p);
	sigaddset(&p, SIGUSR2);
	MUST(sigwait(&p, &sig));
	CHECK(sig == SIGUSR2, "and the process's");
	return check_done();
}
