/* Hazard: main is a thread like any other.  A thread that joins main must
 * wait while main runs and sleeps, then get the value main passes to
 * pthread_exit; the process lives on after main has gone, until the thread
 * ends it with exit(). */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

static pthread_t main_thread;
static atomic_int main_exiting;
static int64_t t0; /* before main's sleep */

static void *join_main(void *arg)
{
	void *rv = NULL;
	int rc;

	(void)arg;
	rc = pthread_join(main_thread, &rv);
	CHECK_ERR(rc, 0, "pthread_join(main) from a thread");
	CHECK(atomic_load(&main_exiting), "it returned only after main called pthread_exit");
	CHECK(mono_ns() - t0 >= MS(100), "it waited while main slept 100 ms");
	CHECK(rv == (void *)42, "it got main's pthread_exit value");
	exit(check_done());
}

int main(void)
{
	pthread_t t;

	main_thread = pthread_self();
	t0 = mono_ns();
	MUST(pthread_create(&t, NULL, join_main, NULL));
	sleep_ms(100);
	atomic_store(&main_exiting, 1);
	pthread_exit((void *)42);
}
