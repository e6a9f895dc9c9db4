/* GREENIFY_MONITOR=50 reports nothing when nothing stalls: threads that
 * compute (preempted every slice), sleep, hand a mutex and a condition
 * back and forth and talk over a pipe all switch often enough, and the
 * summary counts no stall. (A loaded machine that keeps the runtime thread
 * from a CPU is no stall either: the monitor counts a computing thread's
 * CPU time.) */
/* env-preload: GREENIFY_MONITOR=50 */
/* expect-stderr-preload-not: blocked every thread */
/* expect-stderr-preload: greenify: monitor: 0 stalls of 50 ms or more at 0 sites */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int turn, rounds = 2000;
static int p[2];

static unsigned long per_ms; /* spin_turns per ms of CPU time */

/* 150 ms of CPU time in a loop that calls nothing: preempted every slice */
static void *computer(void *arg)
{
	(void)arg;
	spin_turns(150 * per_ms);
	return NULL;
}

static void *sleeper(void *arg)
{
	(void)arg;
	for (int i = 0; i < 40; i++)
		sleep_ms(5);
	return NULL;
}

static void *ping(void *arg)
{
	int me = (int)(long)arg;

	for (int i = 0; i < rounds; i++) {
		MUST(pthread_mutex_lock(&m));
		while (turn != me)
			MUST(pthread_cond_wait(&c, &m));
		turn = !me;
		MUST(pthread_cond_broadcast(&c));
		MUST(pthread_mutex_unlock(&m));
	}
	return NULL;
}

static void *reader(void *arg)
{
	char b;
	int n = 0;

	(void)arg;
	while (read(p[0], &b, 1) == 1)
		n++;
	return (void *)(long)n;
}

int main(void)
{
	pthread_t t[8];
	void *r;

	per_ms = spin_turns_per_ms();
	MUST(pipe(p));
	MUST(pthread_create(&t[0], NULL, computer, NULL));
	MUST(pthread_create(&t[1], NULL, computer, NULL));
	MUST(pthread_create(&t[2], NULL, sleeper, NULL));
	MUST(pthread_create(&t[3], NULL, ping, (void *)0L));
	MUST(pthread_create(&t[4], NULL, ping, (void *)1L));
	MUST(pthread_create(&t[5], NULL, reader, NULL));
	for (int i = 0; i < 500; i++) {
		MUST(write(p[1], "x", 1) != 1);
		if (i % 50 == 0)
			sleep_ms(2);
	}
	close(p[1]);
	for (int i = 0; i < 5; i++)
		MUST(pthread_join(t[i], NULL));
	MUST(pthread_join(t[5], &r));
	CHECK((long)r == 500, "the reader got every byte");
	CHECK(turn == 0, "the ping-pong ended on its first player's turn");
	return check_done();
}
