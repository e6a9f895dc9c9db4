/* Hazard: a signal the process sends itself (kill, sigqueue,
 * pidfd_send_signal) runs its handler before the call returns, also when
 * the OS thread had a signal of its own pending at that return: the
 * preemption tick of a thread that computes, or a signal another thread
 * sent it with pthread_kill. The kernel delivers the thread's own pending
 * signals before the process's, each frame on top of the last, so the
 * kill's handler starts on the other's frame, not at the call's return. A
 * handler left for later would run late, and the next kill of the same
 * signal, while it is pending, would be lost (one handler call for two).
 * Main sends, computing a little between sends (CPU time: the tick),
 * while a second thread computes and a third keeps sending main SIGUSR2
 * with pthread_kill. Both block SIGHUP (made with it blocked, which main
 * then lifts): only so must the kernel give main each one before its kill
 * returns (natively a thread that takes it could dequeue it first). */
/* env-preload: GREENIFY_SLICE_MS=1 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "check.h"

#define SENDS 30000

static atomic_int hups, usr2s;
static atomic_int stop;
static int pidfd = -1;

static void on_hup(int sig)
{
	(void)sig;
	atomic_fetch_add(&hups, 1);
}

static void on_usr2(int sig)
{
	(void)sig;
	atomic_fetch_add(&usr2s, 1);
}

static void *computer(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop))
		spin_turns(1000);
	return NULL;
}

/* Sends main SIGUSR2 now and then, with a nap between (a green one parks
 * this thread only). */
static void *poker(void *arg)
{
	pthread_t main_th = *(pthread_t *)arg;

	while (!atomic_load(&stop)) {
		pthread_kill(main_th, SIGUSR2);
		nanosleep(&(struct timespec){.tv_nsec = 200000}, NULL);
	}
	return NULL;
}

static int by_kill(void)
{
	return kill(getpid(), SIGHUP);
}

static int by_sigqueue(void)
{
	return sigqueue(getpid(), SIGHUP, (union sigval){.sival_int = 1});
}

static int by_pidfd(void)
{
	return pidfd_send_signal(pidfd, SIGHUP, NULL, 0);
}

static const struct {
	const char *name;
	int (*send)(void);
} senders[] = {{"kill", by_kill}, {"sigqueue", by_sigqueue}, {"pidfd_send_signal", by_pidfd}};

int main(void)
{
	struct sigaction sa = {.sa_handler = on_hup, .sa_flags = SA_RESTART};
	pthread_t main_th = pthread_self(), c, p;
	sigset_t hup;

	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGHUP, &sa, NULL));
	sa.sa_handler = on_usr2;
	MUST(sigaction(SIGUSR2, &sa, NULL));
	pidfd = pidfd_open(getpid(), 0);
	MUST(pidfd < 0 ? -1 : 0);
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	MUST(pthread_sigmask(SIG_BLOCK, &hup, NULL));
	MUST(pthread_create(&c, NULL, computer, NULL));
	MUST(pthread_create(&p, NULL, poker, &main_th));
	MUST(pthread_sigmask(SIG_UNBLOCK, &hup, NULL));

	for (size_t j = 0; j < sizeof(senders) / sizeof(senders[0]); j++) {
		int start = atomic_load(&hups), failed = 0, late = 0;
		for (int i = 0; i < SENDS; i++) {
			int n = atomic_load(&hups);
			if (senders[j].send() != 0)
				failed++;
			if (atomic_load(&hups) != n + 1)
				late++;
			spin_turns(300);
		}
		if (late)
			fprintf(stderr, "%s: %d of %d handlers late\n", senders[j].name, late,
				SENDS);
		CHECK(failed == 0, "%s of our own process, %d times: every call succeeded",
		      senders[j].name, SENDS);
		CHECK(late == 0, "  the handler had run when each call returned");
		CHECK(atomic_load(&hups) - start == SENDS, "  and ran once for each");
	}
	atomic_store(&stop, 1);
	MUST(pthread_join(c, NULL));
	MUST(pthread_join(p, NULL));
	CHECK(atomic_load(&usr2s) > 0, "main's SIGUSR2 from pthread_kill ran its handler");
	close(pidfd);
	return check_done();
}
