/* Hazard: sigsuspend and sigpending given an address the kernel cannot
 * read or write fail with EFAULT natively; the preload read (wrote) the
 * set itself and the process died of SIGSEGV (LTP sigsuspend02,
 * sigpending02). Checked in a thread, and that a good set still works. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>

#include "check.h"

static void *in_thread(void *arg)
{
	void *bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	sigset_t set, blocked;
	int r;

	(void)arg;
	MUST(bad == MAP_FAILED ? -1 : 0);
	errno = 0;
	r = sigsuspend(bad);
	CHECK_ERR(r < 0 ? errno : 0, EFAULT, "sigsuspend(unreadable mask)");
	errno = 0;
	r = sigpending(bad);
	CHECK_ERR(r < 0 ? errno : 0, EFAULT, "sigpending(unwritable set)");

	sigemptyset(&blocked);
	sigaddset(&blocked, SIGUSR1);
	MUST(pthread_sigmask(SIG_BLOCK, &blocked, NULL));
	MUST(raise(SIGUSR1));
	sigemptyset(&set);
	errno = 0;
	r = sigpending(&set);
	CHECK(r == 0 && errno == 0 && sigismember(&set, SIGUSR1) && !sigismember(&set, SIGUSR2),
	      "sigpending of a good set: the raised, blocked SIGUSR1 only");
	MUST(sigwaitinfo(&blocked, NULL) == SIGUSR1 ? 0 : -1);
	munmap(bad, 4096);
	return NULL;
}

int main(void)
{
	run_thread(in_thread, NULL);
	return check_done();
}
