/* Hazard: a real lock-order deadlock.  Two threads, named "left" and
 * "right", lock two mutexes in opposite order with a sleep in between, so
 * each ends up waiting for the mutex the other holds; main waits in
 * pthread_join for "left".  Nothing can ever wake any of them.
 *
 * Natively (and under a library that cannot see the deadlock) this hangs
 * until the alarm below kills it with SIGALRM; main has printed and flushed
 * "both threads hold their first mutex" before it joins. Under the preload
 * the runtime reports the deadlock on stderr, naming for every parked green
 * thread what it waits on and who holds it, like this (thread numbers,
 * addresses and line order may differ):
 *   greenify: error: deadlock: every green thread is blocked and nothing pending can wake one:
 *   greenify:   thread 3 "right" waits for mutex 0x55de858e2160 held by thread 2 "left"
 *   greenify:   thread 2 "left" waits for mutex 0x55de858e2120 held by thread 3 "right"
 *   greenify:   thread 1 "main" joins thread 2 "left"
 *   greenify: error: aborting (GREENIFY_DEADLOCK=abort)
 * Without GREENIFY_DEADLOCK=abort the report is printed once and the
 * program keeps waiting, as the native program does, until the alarm; with
 * it (the deadlock mode of tests/run-integ.sh) it dies of SIGABRT.
 */
/* expect: signal SIGALRM */
/* run-also: deadlock */
/* expect-stderr-preload-once: deadlock: */
/* expect-stderr-preload: "left" waits for mutex */
/* expect-stderr-preload: "right" waits for mutex */
/* expect-stderr-preload: held by thread */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t mutex_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mutex_b = PTHREAD_MUTEX_INITIALIZER;
static atomic_int holding_first;

struct side {
	const char *name;
	pthread_mutex_t *first, *second;
};

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static void *lock_in_order(void *arg)
{
	struct side *s = arg;

	pthread_setname_np(pthread_self(), s->name);
	pthread_mutex_lock(s->first);
	atomic_fetch_add(&holding_first, 1);
	sleep_ms(100); /* both threads now hold their first mutex */
	pthread_mutex_lock(s->second); /* never returns */
	fprintf(stderr, "%s got its second mutex: no deadlock?\n", s->name);
	pthread_mutex_unlock(s->second);
	pthread_mutex_unlock(s->first);
	return NULL;
}

int main(void)
{
	static struct side left_side = { "left", &mutex_a, &mutex_b };
	static struct side right_side = { "right", &mutex_b, &mutex_a };
	pthread_t left, right;

	alarm(5);
	pthread_setname_np(pthread_self(), "main");
	if (pthread_create(&left, NULL, lock_in_order, &left_side) != 0 ||
	    pthread_create(&right, NULL, lock_in_order, &right_side) != 0) {
		perror("pthread_create");
		return 2;
	}
	while (atomic_load(&holding_first) < 2)
		sleep_ms(1);
	printf("both threads hold their first mutex\n");
	fflush(stdout);
	pthread_join(left, NULL);
	pthread_join(right, NULL);
	printf("joined both: no deadlock?\n");
	return 1;
}
