/* run-also: disable */
/* Hazard: a sleeping green thread must park, not block the one OS thread.
 * 1000 threads each sleep 100 ms; if the sleeps ran one after another that
 * would take 100 s, so finishing in under 10 s proves they overlap (1000
 * real threads under qemu on a loaded 2-core machine took 2.5 s).  Every sleep still lasts its 100 ms. */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

enum { NTHREADS = 1000 };

static atomic_int short_sleeps;

static void *sleeper(void *arg)
{
	int64_t t0 = mono_ns();

	(void)arg;
	usleep(100 * 1000);
	if (mono_ns() - t0 < MS(100))
		atomic_fetch_add(&short_sleeps, 1);
	return NULL;
}

int main(void)
{
	static pthread_t tids[NTHREADS];
	int created = 0, joined = 0;
	int64_t t0 = mono_ns();

	for (int i = 0; i < NTHREADS; i++)
		if (pthread_create(&tids[i], NULL, sleeper, NULL) == 0)
			created++;
	for (int i = 0; i < created; i++)
		if (pthread_join(tids[i], NULL) == 0)
			joined++;
	int64_t elapsed = mono_ns() - t0;

	fprintf(stderr, "1000 x 100 ms sleepers took %.3f s\n", elapsed / 1e9);
	CHECK(created == NTHREADS, "created %d threads", NTHREADS);
	CHECK(joined == NTHREADS, "joined %d threads", NTHREADS);
	CHECK(atomic_load(&short_sleeps) == 0, "every sleep lasted >= 100 ms");
	CHECK(elapsed >= MS(100), "elapsed >= 100 ms");
	CHECK(elapsed < MS(10000), "elapsed < 10 s: the sleeps overlapped");
	return check_done();
}
