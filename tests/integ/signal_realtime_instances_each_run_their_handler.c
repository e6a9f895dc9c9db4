/* Hazard: every instance of a real-time signal sent to the process is
 * queued and runs the handler once, in the order sent, with its own
 * sigqueue value, also when several arrive before the first handler ran
 * (glibc's nptl/tst-signal3: 9996 of 10000 handled). They coalesced into
 * one pending signal: here 10 sigqueue()s made while every thread blocked
 * the signal ran the handler once when main unblocked it.
 *
 * Then the same from another thread (blocking it) while main is busy
 * elsewhere, and a sigwaitinfo that takes queued instances in order with
 * their values. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "check.h"

#define N 10

static int sig;
static atomic_int handled;
static int values[64];

static void on_rt(int s, siginfo_t *si, void *uc)
{
	(void)s;
	(void)uc;
	int i = atomic_fetch_add(&handled, 1);
	if (i < 64)
		values[i] = si->si_value.sival_int;
}

static int in_order(int from, int n)
{
	for (int i = 0; i < n; i++)
		if (values[i] != from + i)
			return 0;
	return 1;
}

static void block(int how)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, sig);
	MUST(pthread_sigmask(how, &s, NULL));
}

static void *sender(void *arg)
{
	(void)arg;
	for (int i = 0; i < N; i++)
		MUST(sigqueue(getpid(), sig, (union sigval){.sival_int = 100 + i}));
	return NULL;
}

static int fds[2];

static void *reader(void *arg)
{
	char c;

	(void)arg;
	while (read(fds[0], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

int main(void)
{
	struct sigaction sa = {.sa_sigaction = on_rt, .sa_flags = SA_SIGINFO | SA_RESTART};
	pthread_t r, t;
	siginfo_t si;
	int ordered = 1;

	sig = SIGRTMIN + 1;
	sigemptyset(&sa.sa_mask);
	MUST(sigaction(sig, &sa, NULL));
	MUST(pipe(fds));
	block(SIG_BLOCK); /* the reader inherits it: every thread blocks sig */
	MUST(pthread_create(&r, NULL, reader, NULL));

	for (int i = 0; i < N; i++)
		MUST(sigqueue(getpid(), sig, (union sigval){.sival_int = i}));
	CHECK(atomic_load(&handled) == 0, "none handled while every thread blocks it");
	block(SIG_UNBLOCK);
	CHECK(atomic_load(&handled) == N, "unblocked: the handler ran %d times", N);
	CHECK(in_order(0, N), "with each value, in the order sent");

	/* Sent from another thread while main sleeps. The sender blocks the
	 * signal (made so), or natively it runs some of the handlers itself,
	 * on the other CPU, and the two threads' records interleave. */
	atomic_store(&handled, 0);
	block(SIG_BLOCK);
	MUST(pthread_create(&t, NULL, sender, NULL));
	block(SIG_UNBLOCK);
	MUST(pthread_join(t, NULL));
	for (int i = 0; i < 1000 && atomic_load(&handled) < N; i++)
		sleep_ms(1);
	CHECK(atomic_load(&handled) == N, "from a thread: the handler ran %d times", N);
	CHECK(in_order(100, N), "with each value, in the order sent");

	/* sigwaitinfo takes them one by one. */
	block(SIG_BLOCK);
	for (int i = 0; i < N; i++)
		MUST(sigqueue(getpid(), sig, (union sigval){.sival_int = 200 + i}));
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	for (int i = 0; i < N; i++)
		if (sigwaitinfo(&set, &si) != sig || si.si_value.sival_int != 200 + i)
			ordered = 0;
	CHECK(ordered, "sigwaitinfo took %d, each value in order", N);
	struct timespec zero = {0, 0};
	CHECK_ERR(sigtimedwait(&set, &si, &zero) < 0 ? errno : 0, EAGAIN, "then none is left");

	MUST(write(fds[1], "x", 1) == 1 ? 0 : -1);
	MUST(pthread_join(r, NULL));
	return check_done();
}
