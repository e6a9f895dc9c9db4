/* Hazard: thrd_exit in main ends only main, as glibc's (pthread_exit): the
 * process lives on while the other threads run, and ends when the last one
 * ends, as exit(0) would (atexit handlers run, buffered stdout reaches the
 * pipe, the status is 0 whatever main passed); main's tss destructors run
 * when main leaves, with main's value, before the others are done; a thread
 * that joins main gets main's int.
 *
 * The checks are made in an atexit handler, after the last thread has
 * ended, so they cannot change the exit status: a failure shows as a "NO"
 * line that the native run does not print. */
#define _GNU_SOURCE
#include <unistd.h>

#include "c11.h"

enum { NWORKERS = 3 };

static thrd_t main_thrd;
static tss_t key;
static int main_value;
static atomic_int main_gone, dtor_calls, turn;
static void *dtor_value;
static int saw_main_gone[NWORKERS], saw_dtor[NWORKERS];
static int join_rc = -1, join_res = -1;

static void dtor(void *v)
{
	dtor_value = v;
	atomic_fetch_add(&dtor_calls, 1);
}

static int worker(void *arg)
{
	int i = (int)(intptr_t)arg;

	if (i == 0)
		join_rc = thrd_join(main_thrd, &join_res);
	sleep_ms(100 * (i + 1));
	saw_main_gone[i] = atomic_load(&main_gone);
	saw_dtor[i] = atomic_load(&dtor_calls) == 1;
	while (atomic_load(&turn) != i)
		sleep_ms(1);
	printf("worker %d woke after its %d ms\n", i, 100 * (i + 1));
	atomic_store(&turn, i + 1);
	return 0;
}

static void at_exit(void)
{
	CHECK(atomic_load(&turn) == NWORKERS, "atexit: all %d workers ran to the end", NWORKERS);
	for (int i = 0; i < NWORKERS; i++)
		CHECK(saw_main_gone[i] && saw_dtor[i],
		      "atexit: worker %d woke after main's thrd_exit and its tss destructor", i);
	CHECK(atomic_load(&dtor_calls) == 1 && dtor_value == &main_value,
	      "atexit: main's tss destructor ran once, with main's value");
	CHECK_C11(join_rc, thrd_success, "atexit: a worker's thrd_join of main -> thrd_success");
	CHECK(join_res == 5, "atexit: and it got main's thrd_exit(5)");
	check_done();
}

int main(void)
{
	thrd_t t;

	alarm(20);
	main_thrd = thrd_current();
	MUST(atexit(at_exit));
	MUST(tss_create(&key, dtor));
	MUST(tss_set(key, &main_value));
	for (int i = 0; i < NWORKERS; i++)
		MUST(thrd_create(&t, worker, (void *)(intptr_t)i));
	printf("main leaves with thrd_exit\n");
	atomic_store(&main_gone, 1);
	thrd_exit(5);
}
