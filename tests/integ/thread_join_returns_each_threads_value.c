/* Hazard: many threads created and joined, some already finished and some
 * still sleeping when joined, must each hand their own value to pthread_join,
 * whether they return it or pass it to pthread_exit from a nested call, and
 * code after pthread_exit must never run. */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

enum { NTHREADS = 200 };

/* Set by any thread that runs past pthread_exit. */
static atomic_int ran_past_exit;

/* pthread_exit from two calls down, not from the thread function itself. */
__attribute__((noinline)) static void exit_inner(intptr_t value)
{
	pthread_exit((void *)value);
}

__attribute__((noinline)) static void exit_outer(intptr_t value)
{
	exit_inner(value);
}

static void *worker(void *arg)
{
	intptr_t i = (intptr_t)arg;

	/* Odd threads are still sleeping when main starts joining. */
	if (i % 2 == 1)
		sleep_ms(40 + i % 7);
	if (i % 3 == 0) {
		exit_outer(i * 3 + 1);
		atomic_store(&ran_past_exit, 1);
	}
	return (void *)(i * 3 + 1);
}

static void *return_null(void *arg)
{
	(void)arg;
	sleep_ms(5);
	return NULL;
}

int main(void)
{
	static pthread_t tids[NTHREADS];
	int create_failed = 0, join_failed = 0, wrong_value = 0;

	for (intptr_t i = 0; i < NTHREADS; i++)
		if (pthread_create(&tids[i], NULL, worker, (void *)i) != 0)
			create_failed++;
	/* Let the even ones finish before they are joined. */
	sleep_ms(20);
	/* Join in reverse order, so joins hit both finished and running threads. */
	for (int i = NTHREADS - 1; i >= 0; i--) {
		void *rv = (void *)-1;

		if (pthread_join(tids[i], &rv) != 0)
			join_failed++;
		else if ((intptr_t)rv != (intptr_t)i * 3 + 1)
			wrong_value++;
	}
	CHECK(create_failed == 0, "all %d pthread_create returned 0", NTHREADS);
	CHECK(join_failed == 0, "all %d pthread_join returned 0", NTHREADS);
	CHECK(wrong_value == 0, "every join got its own thread's value");
	CHECK(!atomic_load(&ran_past_exit), "no code ran after pthread_exit");

	/* pthread_join with a NULL value pointer just reaps the thread. */
	pthread_t t;
	MUST(pthread_create(&t, NULL, worker, (void *)1));
	CHECK_ERR(pthread_join(t, NULL), 0, "join with NULL value pointer");

	/* NULL is a value like any other. */
	void *rv = (void *)-1;
	MUST(pthread_create(&t, NULL, return_null, NULL));
	MUST(pthread_join(t, &rv));
	CHECK(rv == NULL, "a thread returning NULL is joined with NULL");
	return check_done();
}
