/* Hazard: under the preload a new thread runs at its creator's next
 * pthread_create, the creator right after it; a creator that makes
 * short-lived threads one after the other must still give way: a sleeper
 * whose deadline passed runs while the creator goes on making threads (a
 * busy accept-and-spawn server must not starve its open connections). The
 * creator makes detached threads that lock a mutex K times (K = 0, 3, 20:
 * the hooks they make decide where the slice checks land) until the
 * sleeper ran, for at most 10 s. */
#define _GNU_SOURCE
#include <pthread.h>

#include "check.h"

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static atomic_int woke, locks;

static void *sleeper(void *arg)
{
	(void)arg;
	sleep_ms(5);
	atomic_store(&woke, 1);
	return NULL;
}

static void *short_lived(void *arg)
{
	(void)arg;
	for (int i = 0; i < atomic_load(&locks); i++) {
		pthread_mutex_lock(&m);
		pthread_mutex_unlock(&m);
	}
	return NULL;
}

int main(void)
{
	static const int ks[] = {0, 3, 20};
	pthread_attr_t detached;

	MUST(pthread_attr_init(&detached));
	MUST(pthread_attr_setdetachstate(&detached, PTHREAD_CREATE_DETACHED));
	for (int k = 0; k < 3; k++) {
		pthread_t s, t;
		atomic_store(&locks, ks[k]);
		atomic_store(&woke, 0);
		MUST(pthread_create(&s, NULL, sleeper, NULL));
		int64_t until = mono_ns() + MS(10000);
		long made = 0;
		while (!atomic_load(&woke) && mono_ns() < until) {
			MUST(pthread_create(&t, &detached, short_lived, NULL));
			made++;
		}
		CHECK(atomic_load(&woke),
		      "%d locks a thread: the sleeper ran while its creator made threads", ks[k]);
		fprintf(stderr, "%d locks: %ld threads made before the sleeper ran\n", ks[k], made);
		MUST(pthread_join(s, NULL));
	}
	pthread_attr_destroy(&detached);
	return check_done();
}
