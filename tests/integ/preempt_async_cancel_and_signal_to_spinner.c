#define _GNU_SOURCE
/* needs: private-tls */
/* Hazard: a thread that computes in a pure loop (no call at all) never
 * reaches a cancellation point or a hooked call. Natively asynchronous
 * cancellation acts at once and a signal sent to it runs its handler at
 * once; under the preload both must act where it computes, at a point the
 * runtime preempts. Cases: PTHREAD_CANCEL_ASYNCHRONOUS in a spinner (its
 * cleanup handler runs, the join gets PTHREAD_CANCELED); pthread_kill of
 * SIGUSR1 to a spinner that waits for its own handler to set a flag; and
 * a signal from a child process to the process while main itself spins,
 * waiting for the handler's flag. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static atomic_int cleaned, spinning;
static volatile sig_atomic_t got_usr1, got_usr2;

static void cleanup(void *arg)
{
	(void)arg;
	atomic_store(&cleaned, 1);
}

static void *async_spinner(void *arg)
{
	volatile unsigned long n = 0;

	(void)arg;
	pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
	pthread_cleanup_push(cleanup, NULL);
	atomic_store(&spinning, 1);
	for (;;)
		n++; /* no call: only an asynchronous cancel ends this */
	pthread_cleanup_pop(0);
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

static void on_usr2(int sig)
{
	(void)sig;
	got_usr2 = 1;
}

static void *signal_spinner(void *arg)
{
	unsigned long n = 0;

	(void)arg;
	atomic_store(&spinning, 2);
	while (!got_usr1)
		n++;
	return (void *)(n > 0 ? 1L : 2L);
}

int main(void)
{
	pthread_t t;
	void *ret;
	sigset_t usr2;
	pid_t child;
	int status;

	pthread_create(&t, NULL, async_spinner, NULL);
	while (atomic_load(&spinning) != 1)
		sched_yield();
	CHECK(pthread_cancel(t) == 0, "pthread_cancel of an asynchronously cancellable spinner");
	pthread_join(t, &ret);
	CHECK(ret == PTHREAD_CANCELED, "the spinner's join gives PTHREAD_CANCELED");
	CHECK(atomic_load(&cleaned) == 1, "its cleanup handler ran");

	signal(SIGUSR1, on_usr1);
	pthread_create(&t, NULL, signal_spinner, NULL);
	while (atomic_load(&spinning) != 2)
		sched_yield();
	CHECK(pthread_kill(t, SIGUSR1) == 0, "pthread_kill(SIGUSR1) to a spinner");
	pthread_join(t, &ret);
	CHECK(ret == (void *)1L, "the spinner's handler ran and ended its loop");

	/* SIGUSR2 from another process while main spins: blocked until the
	 * child exists, so it cannot come before the loop matters. */
	signal(SIGUSR2, on_usr2);
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	sigprocmask(SIG_BLOCK, &usr2, NULL);
	child = fork();
	if (child == 0) {
		kill(getppid(), SIGUSR2);
		_exit(0);
	}
	sigprocmask(SIG_UNBLOCK, &usr2, NULL);
	while (!got_usr2) {
		/* main computes; the handler must run here */
	}
	CHECK(got_usr2, "a signal from another process ran its handler while main spun");
	CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status), "the child ended");
	return check_done();
}
