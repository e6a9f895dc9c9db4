/* Hazard: a lock-order deadlock on two FILEs. Threads "left" and "right"
 * take flockfile of two streams in opposite order with a sleep in between,
 * so each waits for the FILE the other holds; main waits in pthread_join.
 * Nothing can ever wake any of them.
 *
 * Natively this hangs until the alarm below kills it with SIGALRM. Under
 * the preload the runtime must see the deadlock (the waits for a FILE are
 * green) and name, for each thread, the FILE it waits for and the thread
 * that holds it:
 *   greenify:   thread 3 "right" waits for the lock of FILE 0x... held by thread 2 "left"
 * With GREENIFY_DEADLOCK=abort it then aborts (the deadlock mode of
 * tests/run-integ.sh); without, it reports once and waits as natively, until
 * the same alarm. */
/* expect: signal SIGALRM */
/* run-also: deadlock */
/* expect-stderr-preload-once: deadlock: */
/* expect-stderr-preload: "left" waits for the lock of FILE */
/* expect-stderr-preload: "right" waits for the lock of FILE */
/* expect-stderr-preload: held by thread */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static FILE *file_a, *file_b;

struct side {
	const char *name;
	FILE **first, **second;
};

static void *lock_in_order(void *arg)
{
	struct side *s = arg;
	struct timespec ts = {0, 100 * 1000000};

	pthread_setname_np(pthread_self(), s->name);
	flockfile(*s->first);
	nanosleep(&ts, NULL); /* both threads now hold their first FILE */
	flockfile(*s->second); /* never returns */
	fprintf(stderr, "%s got its second FILE: no deadlock?\n", s->name);
	return NULL;
}

int main(void)
{
	static struct side left_side = {"left", &file_a, &file_b};
	static struct side right_side = {"right", &file_b, &file_a};
	pthread_t left, right;

	alarm(5);
	pthread_setname_np(pthread_self(), "main");
	file_a = fopen("/dev/null", "w");
	file_b = fopen("/dev/null", "w");
	if (!file_a || !file_b || pthread_create(&left, NULL, lock_in_order, &left_side) != 0 ||
	    pthread_create(&right, NULL, lock_in_order, &right_side) != 0)
		return 2;
	printf("both threads hold their first FILE\n");
	fflush(stdout);
	pthread_join(left, NULL);
	return 0;
}
