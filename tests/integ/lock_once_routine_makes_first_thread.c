/* Hazard: the runtime starts inside a pthread_once routine.  Main's
 * routine, run by glibc's pthread_once (nothing is green yet), creates the
 * process's first thread, which calls pthread_once on the same control:
 * natively it waits until the routine is done, then returns without
 * running its own.  The waiter is green by then and waits in greenify's
 * queue, where glibc's futex wake-up at the end of the routine does not
 * reach: it must be woken all the same (it deadlocked).  A ticker thread,
 * also made inside the routine, runs meanwhile. */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_t waiter, tick;
static atomic_int runs, routine_done, waiter_saw_done, waiter_back, ticks, stop;

static void never(void)
{
	atomic_fetch_add(&runs, 100);
}

static void *wait_for_once(void *arg)
{
	(void)arg;
	pthread_once(&once, never);
	atomic_store(&waiter_saw_done, atomic_load(&routine_done));
	atomic_store(&waiter_back, 1);
	return NULL;
}

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		sleep_ms(1);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

static void routine(void)
{
	atomic_fetch_add(&runs, 1);
	MUST(pthread_create(&waiter, NULL, wait_for_once, NULL));
	MUST(pthread_create(&tick, NULL, ticker, NULL));
	sleep_ms(50); /* the waiter waits in pthread_once */
	CHECK(!atomic_load(&waiter_back), "the first thread waits while main's routine runs");
	atomic_store(&routine_done, 1);
}

int main(void)
{
	alarm(20);
	CHECK_ERR(pthread_once(&once, routine), 0, "main's pthread_once");
	MUST(pthread_join(waiter, NULL));
	CHECK(atomic_load(&waiter_saw_done), "the waiter returned after the routine ended");
	CHECK(atomic_load(&runs) == 1, "the routine ran once, the waiter's not at all");
	atomic_store(&stop, 1);
	MUST(pthread_join(tick, NULL));
	CHECK(atomic_load(&ticks) > 0, "a ticker ran meanwhile");
	return check_done();
}
