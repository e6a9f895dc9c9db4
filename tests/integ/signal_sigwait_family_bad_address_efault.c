/* Hazard: sigwaitinfo and sigtimedwait given a set, a timeout or an info
 * address the kernel cannot read or write fail with EFAULT natively (for
 * the info, after taking the signal); the preload read and wrote them
 * itself, and the process died or hung (LTP sigwaitinfo01, sigtimedwait01:
 * tse_bad_address). Checked in a thread, with the signal pending. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>

#include "check.h"

static void *in_thread(void *arg)
{
	void *bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct timespec zero = {0, 0};
	sigset_t set, pending;
	siginfo_t info;
	int r;

	(void)arg;
	MUST(bad == MAP_FAILED ? -1 : 0);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	MUST(pthread_sigmask(SIG_BLOCK, &set, NULL));
	MUST(raise(SIGUSR1));

	errno = 0;
	r = sigtimedwait(bad, &info, &zero);
	CHECK_ERR(r < 0 ? errno : 0, EFAULT, "sigtimedwait(unreadable set)");
	errno = 0;
	r = sigtimedwait(&set, &info, bad);
	CHECK_ERR(r < 0 ? errno : 0, EFAULT, "sigtimedwait(unreadable timeout)");
	sigemptyset(&pending);
	MUST(sigpending(&pending));
	CHECK(sigismember(&pending, SIGUSR1), "the signal is still pending");

	errno = 0;
	r = sigwaitinfo(&set, bad);
	CHECK_ERR(r < 0 ? errno : 0, EFAULT, "sigwaitinfo(unwritable info)");
	sigemptyset(&pending);
	MUST(sigpending(&pending));
	CHECK(!sigismember(&pending, SIGUSR1), "the signal was taken all the same");

	MUST(raise(SIGUSR1));
	errno = 0;
	r = sigtimedwait(&set, bad, &zero);
	CHECK_ERR(r < 0 ? errno : 0, EFAULT, "sigtimedwait(unwritable info)");
	MUST(raise(SIGUSR1));
	r = sigtimedwait(&set, &info, &zero);
	CHECK(r == SIGUSR1 && info.si_signo == SIGUSR1, "a good call still takes it");
	munmap(bad, 4096);
	return NULL;
}

int main(void)
{
	run_thread(in_thread, NULL);
	return check_done();
}
