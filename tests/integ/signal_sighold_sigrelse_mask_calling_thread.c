/* Hazard: the System V and BSD mask calls (sighold, sigrelse, sigblock,
 * sigsetmask, siggetmask) change the calling thread's mask, as
 * pthread_sigmask does. glibc makes them with its internal sigprocmask,
 * which no hook sees: under the preload they changed the OS thread's mask
 * and left the green thread's alone, so a signal the thread held ran its
 * handler at once (LTP's Open POSIX sigpause 2-1: sighold, sigpause, then a
 * raise that must stay pending). A thread holds SIGUSR1, raises it (pending,
 * no handler), lets it go (the handler runs); the BSD calls block and set
 * a mask, answering the mask before, which a thread made meanwhile
 * inherits and main never shares. */
/* run-also: disable */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>

#include "check.h"

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

/* The BSD calls' int mask: bit sig - 1 (glibc's deprecated sigmask()). */
#define BSD_BIT(sig) (1 << ((sig)-1))

static volatile sig_atomic_t runs;

static void on_usr1(int sig)
{
	(void)sig;
	runs++;
}

static int blocked_here(int sig)
{
	sigset_t cur;

	MUST(pthread_sigmask(SIG_BLOCK, NULL, &cur));
	return sigismember(&cur, sig);
}

static int pending_here(int sig)
{
	sigset_t p;

	MUST(sigpending(&p));
	return sigismember(&p, sig);
}

static void *other(void *arg)
{
	(void)arg;
	CHECK(!blocked_here(SIGUSR1) && blocked_here(SIGUSR2),
	      "a thread made meanwhile inherits the mask sigblock left");
	return NULL;
}

static void *holder(void *arg)
{
	(void)arg;
	CHECK_ERR(sighold(SIGUSR1), 0, "sighold");
	CHECK(blocked_here(SIGUSR1), "the thread's mask holds SIGUSR1");
	MUST(raise(SIGUSR1));
	CHECK(runs == 0 && pending_here(SIGUSR1), "raised while held: pending, no handler");
	CHECK_ERR(sigrelse(SIGUSR1), 0, "sigrelse");
	CHECK(runs == 1 && !pending_here(SIGUSR1), "let go: the handler ran once");
	CHECK(sighold(0) == -1 && errno == EINVAL, "sighold(0): -1, EINVAL");

	int before = sigblock(BSD_BIT(SIGUSR2));
	CHECK(!(before & BSD_BIT(SIGUSR2)), "sigblock answers the mask before");
	CHECK(blocked_here(SIGUSR2), "sigblock blocks SIGUSR2 here");
	CHECK(siggetmask() & BSD_BIT(SIGUSR2), "siggetmask says so");
	run_thread(other, NULL);
	int was = sigsetmask(before);
	CHECK(was & BSD_BIT(SIGUSR2), "sigsetmask answers the mask it replaced");
	CHECK(!blocked_here(SIGUSR2), "sigsetmask put the mask back");
	return NULL;
}

int main(void)
{
	struct sigaction a;

	memset(&a, 0, sizeof(a));
	a.sa_handler = on_usr1;
	sigemptyset(&a.sa_mask);
	MUST(sigaction(SIGUSR1, &a, NULL));
	run_thread(holder, NULL);
	CHECK(!blocked_here(SIGUSR1) && !blocked_here(SIGUSR2), "main's mask is its own");
	return check_done();
}
