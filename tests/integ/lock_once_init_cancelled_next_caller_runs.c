/* Hazard: a pthread_once init routine that never returns.  POSIX: "if an
 * init_routine is a cancellation point and is canceled, the effect on
 * once_control shall be as if pthread_once() was never called"; glibc
 * resets the control whenever the routine unwinds.  The next caller runs
 * the routine, and one already waiting wakes and runs it; kept "in
 * progress", every later caller would wait for ever.
 *   1. Thread A's routine sleeps (a cancellation point) and is cancelled
 *      while thread B waits in pthread_once: A joins as PTHREAD_CANCELED,
 *      B runs its routine; a later call runs nothing.  A ticker thread
 *      keeps running.
 *   2. A routine calls pthread_exit: the same, for the next caller.
 *   3. Main's routine calls pthread_exit (main does not unwind with
 *      greenify, but the control must still be reset): a thread that
 *      calls pthread_once afterwards runs its routine, and ends the
 *      process with exit().
 * With shared TLS (no unwinding: cleanup handlers do not run) the control
 * must be reset all the same. */
/* run-also: memcheck */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static atomic_int a_inside, b_ran, runs, ticks, stop_ticker;

static void cancelled_init(void)
{
	atomic_fetch_add(&runs, 1);
	atomic_store(&a_inside, 1);
	for (;;)
		sleep_ms(1000); /* cancelled in here */
}

static void b_init(void)
{
	atomic_fetch_add(&runs, 1);
	atomic_store(&b_ran, 1);
}

static void never(void)
{
	atomic_fetch_add(&runs, 100);
}

static void *thread_a(void *arg)
{
	(void)arg;
	pthread_once(&once, cancelled_init);
	return (void *)1; /* not reached */
}

static int b_rc = -1;

static void *thread_b(void *arg)
{
	(void)arg;
	b_rc = pthread_once(&once, b_init);
	return NULL;
}

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop_ticker)) {
		sleep_ms(1);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

static pthread_once_t exit_once = PTHREAD_ONCE_INIT;
static atomic_int exit_runs;

static void exiting_init(void)
{
	atomic_fetch_add(&exit_runs, 1);
	pthread_exit((void *)7);
}

static void counted_init(void)
{
	atomic_fetch_add(&exit_runs, 1);
}

static void *exiter(void *arg)
{
	(void)arg;
	pthread_once(&exit_once, exiting_init);
	return NULL; /* not reached */
}

static pthread_once_t main_once = PTHREAD_ONCE_INIT;
static atomic_int main_runs;

static void main_init(void)
{
	atomic_fetch_add(&main_runs, 1);
	pthread_exit(NULL);
}

static void other_init(void)
{
	atomic_fetch_add(&main_runs, 1);
}

static void *after_main(void *arg)
{
	(void)arg;
	sleep_ms(50); /* main is gone by now */
	CHECK_ERR(pthread_once(&main_once, other_init), 0, "after main left its routine: pthread_once");
	CHECK(atomic_load(&main_runs) == 2, "the next caller ran its routine");
	exit(check_done());
}

int main(void)
{
	pthread_t a, b, tick, e;
	void *ret;

	alarm(20);
	MUST(pthread_create(&tick, NULL, ticker, NULL));
	MUST(pthread_create(&a, NULL, thread_a, NULL));
	while (!atomic_load(&a_inside))
		sleep_ms(1);
	MUST(pthread_create(&b, NULL, thread_b, NULL));
	sleep_ms(50); /* b waits in pthread_once */
	CHECK(!atomic_load(&b_ran), "the second caller waits while the routine runs");
	MUST(pthread_cancel(a));
	MUST(pthread_join(a, &ret));
	CHECK(ret == PTHREAD_CANCELED, "the cancelled routine's thread joins as PTHREAD_CANCELED");
	MUST(pthread_join(b, NULL));
	CHECK_ERR(b_rc, 0, "the waiting caller's pthread_once");
	CHECK(atomic_load(&b_ran), "the waiting caller ran its own routine");
	CHECK_ERR(pthread_once(&once, never), 0, "a later pthread_once");
	CHECK(atomic_load(&runs) == 2, "ran nothing (%d runs)", atomic_load(&runs));
	atomic_store(&stop_ticker, 1);
	MUST(pthread_join(tick, NULL));
	CHECK(atomic_load(&ticks) > 0, "a ticker ran meanwhile");

	MUST(pthread_create(&e, NULL, exiter, NULL));
	MUST(pthread_join(e, &ret));
	CHECK(ret == (void *)7, "a routine that calls pthread_exit ends its thread");
	CHECK_ERR(pthread_once(&exit_once, counted_init), 0, "then pthread_once");
	CHECK(atomic_load(&exit_runs) == 2, "the next caller ran its routine");

	MUST(pthread_create(&e, NULL, after_main, NULL));
	pthread_once(&main_once, main_init);
	CHECK(0, "main's routine returned from pthread_exit");
	return check_done();
}
