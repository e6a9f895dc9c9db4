/* needs: private-tls */
/* Hazard: a thread with PTHREAD_CANCEL_ASYNCHRONOUS that waits where no
 * cancellation point is (for a mutex another thread holds, for a mutex it
 * holds itself, for a barrier that never fills) must be cancelled at once:
 * its cleanup handler runs and its join gets PTHREAD_CANCELED, while a
 * second thread goes on ticking meanwhile; the mutex is still usable
 * afterwards. */
#define _GNU_SOURCE
#include <pthread.h>

#include "check.h"

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t own = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t never;
static atomic_int cleaned, waiting, ticks, stop;

static void cleanup(void *arg)
{
	(void)arg;
	atomic_fetch_add(&cleaned, 1);
}

static void *lock_held(void *arg)
{
	int kind = (int)(long)arg;

	pthread_cleanup_push(cleanup, NULL);
	MUST(pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL));
	atomic_store(&waiting, 1);
	if (kind == 0) {
		pthread_mutex_lock(&held); /* main holds it */
	} else if (kind == 1) {
		pthread_mutex_lock(&own);
		pthread_mutex_lock(&own); /* a normal mutex: waits for itself */
	} else {
		pthread_barrier_wait(&never);
	}
	pthread_cleanup_pop(0);
	return NULL;
}

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		atomic_fetch_add(&ticks, 1);
		sleep_ms(2);
	}
	return NULL;
}

int main(void)
{
	static const char *what[] = {"a mutex main holds", "a mutex it holds itself",
				     "a barrier that never fills"};
	pthread_t t, tick;
	void *r;

	MUST(pthread_barrier_init(&never, NULL, 2));
	MUST(pthread_create(&tick, NULL, ticker, NULL));
	MUST(pthread_mutex_lock(&held));
	for (long kind = 0; kind < 3; kind++) {
		atomic_store(&waiting, 0);
		atomic_store(&cleaned, 0);
		MUST(pthread_create(&t, NULL, lock_held, (void *)kind));
		while (!atomic_load(&waiting))
			sleep_ms(1);
		sleep_ms(20); /* it waits now */
		int before = atomic_load(&ticks);
		MUST(pthread_cancel(t));
		MUST(pthread_join(t, &r));
		CHECK(r == PTHREAD_CANCELED, "waiting for %s: cancelled", what[kind]);
		CHECK(atomic_load(&cleaned) == 1, "waiting for %s: its cleanup handler ran",
		      what[kind]);
		/* The ticker ticks again: waited for, not a fixed 10 ms (a
		 * crowded CPU, qemu, may not run it for longer than that). */
		for (int64_t until = mono_ns() + MS(5000);
		     atomic_load(&ticks) <= before && mono_ns() < until;)
			sleep_ms(1);
		CHECK(atomic_load(&ticks) > before, "waiting for %s: the ticker kept running",
		      what[kind]);
	}
	MUST(pthread_mutex_unlock(&held));
	CHECK_ERR(pthread_mutex_trylock(&held), 0, "the mutex main held is usable");
	MUST(pthread_mutex_unlock(&held));
	atomic_store(&stop, 1);
	MUST(pthread_join(tick, NULL));
	return check_done();
}
