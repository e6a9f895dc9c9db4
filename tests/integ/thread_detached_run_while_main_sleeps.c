/* Hazard: threads created detached (one attr reused for all) are never
 * joined, so nothing but main's own sleep gives them the CPU.  They must run
 * and finish while main sleeps, and what they leave behind must be reclaimed
 * by itself: batch after batch is created in their place. */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

enum { BATCH = 50, BATCHES = 4 };

static atomic_int finished;
static atomic_int bad_arg;

static void *short_sleeper(void *arg)
{
	intptr_t i = (intptr_t)arg;

	if (i < 0 || i >= BATCH)
		atomic_store(&bad_arg, 1);
	sleep_ms(1 + i % 10);
	atomic_fetch_add(&finished, 1);
	return NULL;
}

int main(void)
{
	pthread_attr_t attr;
	int create_failed = 0, on_time = 1;

	MUST(pthread_attr_init(&attr));
	MUST(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED));
	for (int b = 0; b < BATCHES; b++) {
		pthread_t t;
		int want = (b + 1) * BATCH;

		for (intptr_t i = 0; i < BATCH; i++)
			if (pthread_create(&t, &attr, short_sleeper, (void *)i) != 0)
				create_failed++;
		/* One long sleep is enough for 10 ms sleepers; poll a while more
		 * only so that a loaded machine does not fail the run. */
		sleep_ms(200);
		on_time &= atomic_load(&finished) == want;
		for (int i = 0; i < 5000 && atomic_load(&finished) < want; i++)
			sleep_ms(1);
	}
	MUST(pthread_attr_destroy(&attr));
	CHECK(create_failed == 0, "all %d detached pthread_create returned 0", BATCH * BATCHES);
	CHECK(!atomic_load(&bad_arg), "each got its argument");
	CHECK(atomic_load(&finished) == BATCH * BATCHES, "all ran to the end while main slept");
	fprintf(stderr, "all finished within main's first 200 ms sleep each time: %s\n",
		on_time ? "yes" : "no");
	return check_done();
}
