/* Hazard: pthread_kill of a thread that has finished but is not joined.
 * glibc sends nothing and answers 0, whatever the signal number (its own
 * SIGCANCEL/SIGSETXID aside: EINVAL); the process must not take the signal
 * (SIGTERM would kill it, a handler would run). pthread_sigqueue looks at
 * the kernel tid, which is gone: ESRCH. A live thread still gets the
 * kernel's checks (EINVAL for an unknown number) and its signals, and a
 * signal 0 probe answers 0 for both. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "check.h"

static atomic_int handled;
static atomic_int release;

static void on_usr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&handled, 1);
}

static void *quick(void *arg)
{
	return arg;
}

static void *lingers(void *arg)
{
	while (!atomic_load(&release))
		usleep(5000); /* EINTR when the handler runs here */
	return arg;
}

int main(void)
{
	struct sigaction sa = {.sa_handler = on_usr1};
	union sigval v = {.sival_int = 1};
	pthread_t done, live;

	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGUSR1, &sa, NULL));
	MUST(pthread_create(&done, NULL, quick, NULL));
	MUST(pthread_create(&live, NULL, lingers, NULL));
	sleep_ms(100); /* done has finished (not joined) */

	CHECK_ERR(pthread_kill(done, SIGTERM), 0, "pthread_kill(finished, SIGTERM)");
	CHECK_ERR(pthread_kill(done, SIGUSR1), 0, "pthread_kill(finished, SIGUSR1)");
	CHECK_ERR(pthread_kill(done, 0), 0, "pthread_kill(finished, 0)");
	CHECK_ERR(pthread_kill(done, 100), 0, "pthread_kill(finished, 100)");
	CHECK_ERR(pthread_kill(done, 32), EINVAL, "pthread_kill(finished, SIGCANCEL)");
	CHECK_ERR(pthread_sigqueue(done, SIGUSR1, v), ESRCH, "pthread_sigqueue(finished, SIGUSR1)");
	CHECK_ERR(pthread_sigqueue(done, 0, v), ESRCH, "pthread_sigqueue(finished, 0)");
	sleep_ms(50);
	CHECK(atomic_load(&handled) == 0, "no handler ran for the finished thread");

	CHECK_ERR(pthread_kill(live, 0), 0, "pthread_kill(live, 0)");
	CHECK_ERR(pthread_kill(live, 100), EINVAL, "pthread_kill(live, 100)");
	CHECK_ERR(pthread_kill(live, 33), EINVAL, "pthread_kill(live, SIGSETXID)");
	CHECK_ERR(pthread_sigqueue(live, 100, v), EINVAL, "pthread_sigqueue(live, 100)");
	CHECK_ERR(pthread_sigqueue(live, 32, v), EINVAL, "pthread_sigqueue(live, SIGCANCEL)");
	CHECK_ERR(pthread_kill(live, SIGUSR1), 0, "pthread_kill(live, SIGUSR1)");
	CHECK_ERR(pthread_sigqueue(live, SIGUSR1, v), 0, "pthread_sigqueue(live, SIGUSR1)");
	for (int i = 0; i < 200 && atomic_load(&handled) < 1; i++)
		sleep_ms(5);
	CHECK(atomic_load(&handled) >= 1, "the live thread's handler ran");
	CHECK_ERR(pthread_kill(pthread_self(), 100), EINVAL, "pthread_kill(self, 100)");

	atomic_store(&release, 1);
	MUST(pthread_join(live, NULL));
	MUST(pthread_join(done, NULL));
	return check_done();
}
