/* Hazard: every thread blocks SIGPIPE (the usual set-up of a server), and
 * a thread other than main writes to a pipe whose reader is gone: the
 * write gets EPIPE, the SIGPIPE the kernel raised is pending for that
 * thread (sigpending says so there, as libraries that swallow their own
 * SIGPIPE check), it takes it with sigtimedwait, and then nothing is
 * pending, there or in main. A second thread, which ran meanwhile, keeps
 * running. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "check.h"

static atomic_int ticks, stop;

static int pending(int sig)
{
	sigset_t p;

	sigpending(&p);
	return sigismember(&p, sig);
}

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		atomic_fetch_add(&ticks, 1);
		sleep_ms(1);
	}
	return NULL;
}

static void *writer(void *arg)
{
	struct timespec zero = {0, 0};
	sigset_t m;
	int p[2];

	(void)arg;
	MUST(pipe(p));
	close(p[0]);
	errno = 0;
	CHECK(write(p[1], "x", 1) == -1 && errno == EPIPE, "write to a closed pipe -> EPIPE");
	CHECK(pending(SIGPIPE), "SIGPIPE is pending for the writer");
	int t0 = atomic_load(&ticks);
	for (int i = 0; i < 10000 && atomic_load(&ticks) < t0 + 3; i++)
		sleep_ms(1);
	CHECK(atomic_load(&ticks) >= t0 + 3, "the ticker ran meanwhile");
	CHECK(pending(SIGPIPE), "still pending for the writer");
	sigemptyset(&m);
	sigaddset(&m, SIGPIPE);
	CHECK(sigtimedwait(&m, NULL, &zero) == SIGPIPE, "the writer takes it");
	CHECK(!pending(SIGPIPE), "then the writer has none pending");
	close(p[1]);
	return NULL;
}

int main(void)
{
	pthread_t t, w;
	sigset_t m;

	sigemptyset(&m);
	sigaddset(&m, SIGPIPE);
	MUST(pthread_sigmask(SIG_BLOCK, &m, NULL));
	MUST(pthread_create(&t, NULL, ticker, NULL));
	MUST(pthread_create(&w, NULL, writer, NULL));
	MUST(pthread_join(w, NULL));
	CHECK(!pending(SIGPIPE), "and main has none pending");
	atomic_store(&stop, 1);
	MUST(pthread_join(t, NULL));
	return check_done();
}
