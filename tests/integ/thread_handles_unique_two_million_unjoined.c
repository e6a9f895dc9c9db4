/* Hazard: a pthread_t must name one thread for as long as that thread can
 * still be joined. Two million threads are created before any join, each
 * returning its own number; they finish long before their joins, so each
 * leaves a finished, unjoined thread behind whose stack slot the next ones
 * reuse. Every join must return its own thread's number (a handle that
 * came round again would hand one thread's value to another's join, or
 * fail). Natively the process runs out of threads (mappings) far sooner
 * and pthread_create says EAGAIN: then the threads made so far are checked
 * the same way. main yields after every 1,024 creations so that few run at once (a power
 * of two: slots then come round in step with a 16-bit generation, which
 * is how such handles once met again). */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>

#include "check.h"

#define N 2000000L

static void *own_number(void *arg)
{
	return arg;
}

static long gcd(long a, long b)
{
	while (b) {
		long r = a % b;
		a = b;
		b = r;
	}
	return a;
}

int main(void)
{
	pthread_t *t = malloc(N * sizeof(*t));
	long made = 0, wrong = 0, failed = 0;
	int err = 0;

	if (!t)
		return 2;
	for (; made < N; made++) {
		err = pthread_create(&t[made], NULL, own_number, (void *)made);
		if (err)
			break;
		if (made % 1024 == 1023)
			sched_yield();
	}
	fprintf(stderr, "created %ld (%s)\n", made, errname(err));
	CHECK(err == 0 || err == EAGAIN, "creation ends only when threads run out");
	CHECK(made >= 10000, "at least 10,000 threads made");
	/* No two unjoined threads share a handle. */
	void **sorted = malloc(made * sizeof(*sorted));
	if (!sorted)
		return 2;
	for (long i = 0; i < made; i++)
		sorted[i] = (void *)t[i];
	CHECK(count_distinct(sorted, (int)made) == made, "every unjoined thread has a handle of its own");
	free(sorted);
	/* Joined in a scrambled order (a stride prime to the count), so that
	 * two threads with one handle could not be told apart by order. */
	long stride = 7919;
	while (gcd(made, stride) != 1)
		stride++;
	for (long k = 0, i = 0; k < made; k++, i = (i + stride) % made) {
		void *r;
		if (pthread_join(t[i], &r) != 0)
			failed++;
		else if (r != (void *)i)
			wrong++;
	}
	fprintf(stderr, "joins failed %ld, wrong value %ld\n", failed, wrong);
	CHECK(failed == 0, "every join succeeds");
	CHECK(wrong == 0, "every join gets its own thread's value");
	free(t);
	return check_done();
}
