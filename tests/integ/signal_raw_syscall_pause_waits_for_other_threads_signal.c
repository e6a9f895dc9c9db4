/* Hazard: syscall(SYS_pause) in one thread waits only for a signal, which
 * another thread of the process sends: pthread_kill ends it with -1 and
 * EINTR after the handler, and pthread_cancel of an asynchronously
 * cancellable thread in it cancels it (glibc's sysdeps/pthread/tst-cancel30).
 * The raw call stopped the one OS thread, so no other thread ever ran to
 * send anything: a hang (here the alarm's SIGALRM). */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

#ifndef SYS_pause /* aarch64: a ppoll of nothing, forever, is pause */
#define RAW_PAUSE() syscall(SYS_ppoll, NULL, 0, NULL, NULL)
#else
#define RAW_PAUSE() syscall(SYS_pause)
#endif

static atomic_int handled, entering;
static long pause_ret;
static int pause_errno;

static void on_usr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&handled, 1);
}

static void *pauser(void *arg)
{
	(void)arg;
	atomic_store(&entering, 1);
	pause_ret = RAW_PAUSE();
	pause_errno = errno;
	return NULL;
}

static void *async_pauser(void *arg)
{
	(void)arg;
	MUST(pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL));
	atomic_store(&entering, 1);
	RAW_PAUSE();
	printf("the cancelled pause returned NO\n");
	return NULL;
}

int main(void)
{
	pthread_t t;
	void *ret = NULL;

	alarm(20); /* hang guard */
	signal(SIGUSR1, on_usr1);

	MUST(pthread_create(&t, NULL, pauser, NULL));
	wait_above(&entering, 0);
	sleep_ms(50); /* main runs on while the other waits */
	MUST(pthread_kill(t, SIGUSR1));
	MUST(pthread_join(t, NULL));
	CHECK(atomic_load(&handled) == 1, "the handler ran once");
	CHECK(pause_ret == -1, "syscall(SYS_pause) returned -1");
	CHECK_ERR(pause_errno, EINTR, "its errno");

	atomic_store(&entering, 0);
	MUST(pthread_create(&t, NULL, async_pauser, NULL));
	wait_above(&entering, 0);
	sleep_ms(50);
	MUST(pthread_cancel(t));
	MUST(pthread_join(t, &ret));
	CHECK(ret == PTHREAD_CANCELED, "an async-cancellable raw pause is cancelled");
	return check_done();
}
