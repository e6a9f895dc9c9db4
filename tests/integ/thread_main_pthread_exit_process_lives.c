/* Hazard: pthread_exit in main ends only main.  The process must live on
 * while the other threads sleep, let them run and print, and end when the
 * last one ends as exit(0) would: atexit handlers run, buffered stdout is
 * flushed, the status is 0.
 *
 * The checks are made in an atexit handler, after the last thread has
 * ended, so they cannot change the exit status (calling exit or _exit there
 * would be wrong): a failure shows as a "NO" line that the native run does
 * not print. */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

enum { NWORKERS = 5 };

static int64_t t0;
static atomic_int main_gone;
static atomic_int turn; /* workers print in order: worker i waits for turn i */
static int saw_main_gone[NWORKERS];

static void *worker(void *arg)
{
	intptr_t i = (intptr_t)arg;

	sleep_ms(100 * (i + 1));
	saw_main_gone[i] = atomic_load(&main_gone);
	while (atomic_load(&turn) != i)
		sleep_ms(1);
	/* Buffered (stdout is a pipe under the harness): must reach the reader. */
	printf("worker %d woke after its %d ms\n", (int)i, (int)(100 * (i + 1)));
	atomic_store(&turn, (int)i + 1);
	return NULL;
}

static void at_exit(void)
{
	CHECK(atomic_load(&turn) == NWORKERS, "atexit: all %d workers ran to the end", NWORKERS);
	for (int i = 0; i < NWORKERS; i++)
		CHECK(saw_main_gone[i], "atexit: worker %d woke after main had called pthread_exit",
		      i);
	CHECK(mono_ns() - t0 >= MS(100 * NWORKERS),
	      "atexit: the process lived %d ms after main left", 100 * NWORKERS);
	check_done();
}

int main(void)
{
	pthread_t t;

	t0 = mono_ns();
	MUST(atexit(at_exit));
	for (intptr_t i = 0; i < NWORKERS; i++)
		MUST(pthread_create(&t, NULL, worker, (void *)i));
	printf("main calls pthread_exit\n");
	atomic_store(&main_gone, 1);
	pthread_exit(NULL);
}
