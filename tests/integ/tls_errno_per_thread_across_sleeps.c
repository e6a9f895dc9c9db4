/* Hazard: errno belongs to the thread.  When green threads share one OS
 * thread, a switch must not carry one thread's errno into another: each of
 * several threads sets its own errno value, then sleeps (so the others run,
 * set theirs and make failing calls that set errno to EINVAL) and still sees
 * its own value afterwards, every round.  Main's errno survives too. */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

enum { NTHREADS = 10, ROUNDS = 5 };

static atomic_int clobbered;
static atomic_int einval_ok = 1;

static void *keep_errno(void *arg)
{
	intptr_t i = (intptr_t)arg;
	int mine = 1000 + (int)i;

	for (int r = 0; r < ROUNDS; r++) {
		errno = mine;
		sleep_ms(1 + (i + r) % 4);
		if (errno != mine)
			atomic_fetch_add(&clobbered, 1);
		/* A failing call sets errno for this thread only. */
		struct timespec bad = { 0, -1 };
		if (nanosleep(&bad, NULL) != -1 || errno != EINVAL)
			atomic_store(&einval_ok, 0);
		errno = mine;
		usleep(1000 * (1 + (i * 7 + r) % 3));
		if (errno != mine)
			atomic_fetch_add(&clobbered, 1);
	}
	return NULL;
}

int main(void)
{
	pthread_t tids[NTHREADS];

	for (intptr_t i = 0; i < NTHREADS; i++)
		MUST(pthread_create(&tids[i], NULL, keep_errno, (void *)i));
	errno = EILSEQ;
	sleep_ms(5);
	int main_kept = errno == EILSEQ;
	/* Joins park main while the threads run: its errno must survive them. */
	for (int i = 0; i < NTHREADS; i++)
		MUST(pthread_join(tids[i], NULL));
	main_kept &= errno == EILSEQ;
	CHECK(atomic_load(&clobbered) == 0, "every thread saw its own errno after every sleep");
	CHECK(atomic_load(&einval_ok), "failing nanosleeps set errno EINVAL in their own thread");
	CHECK(main_kept, "main's errno survived its sleep and joins");
	return check_done();
}
