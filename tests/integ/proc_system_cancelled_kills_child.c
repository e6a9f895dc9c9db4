/* Hazard: a thread cancelled while system() waits for its command. glibc's
 * system is a cancellation point with a cleanup of its own: it kills the
 * shell with SIGKILL, reaps it, and gives back SIGINT and SIGQUIT (the last
 * caller out restores them) before the thread unwinds. So the join sees
 * PTHREAD_CANCELED long before the command would have ended, no child is
 * left to wait for, and SIGINT's handler is back. Main keeps running while
 * the thread waits. A request pending before the call acts on the way in
 * the same way (the child is made, then killed). */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static atomic_int inside;
static atomic_int returned;

static void on_int(int sig)
{
	(void)sig;
}

static void *caller(void *arg)
{
	atomic_store(&inside, 1);
	system("sleep 20");
	atomic_store(&returned, 1);
	return arg;
}

static atomic_int cancel_sent;

/* Takes the request with cancellation disabled, then calls system with it
 * pending: deferred, it acts at system's wait, once the child is made. */
static void *caller_cancelled_first(void *arg)
{
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	atomic_store(&inside, 1);
	while (!atomic_load(&cancel_sent))
		sleep_ms(1);
	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
	system("sleep 20");
	atomic_store(&returned, 1);
	return arg;
}

static void run(const char *what, void *(*fn)(void *), int pending_first)
{
	pthread_t t;
	void *ret = NULL;
	int64_t t0 = mono_ns();

	atomic_store(&inside, 0);
	MUST(pthread_create(&t, NULL, fn, NULL));
	while (!atomic_load(&inside))
		sleep_ms(1);
	if (!pending_first)
		for (int i = 0; i < 20; i++)
			sleep_ms(10); /* main runs while the thread waits */
	MUST(pthread_cancel(t));
	atomic_store(&cancel_sent, 1);
	MUST(pthread_join(t, &ret));
	CHECK(ret == PTHREAD_CANCELED, "%s: the join sees PTHREAD_CANCELED", what);
	CHECK(!atomic_load(&returned), "%s: system did not return", what);
	CHECK(mono_ns() - t0 < MS(10000), "%s: long before the command would have ended", what);
	errno = 0;
	CHECK(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD, "%s: no child left", what);
	struct sigaction now;
	sigaction(SIGINT, NULL, &now);
	CHECK(now.sa_handler == on_int, "%s: SIGINT's handler is back", what);
}

int main(void)
{
	struct sigaction sa = {.sa_handler = on_int};

	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGINT, &sa, NULL));
	run("cancelled while waiting", caller, 0);
	run("cancel pending on the way in", caller_cancelled_first, 1);
	return check_done();
}
