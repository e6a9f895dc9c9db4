/* Hazard: SCHED_RR threads of one priority take turns by the round-robin
 * slice; SCHED_FIFO ones run until they block or yield. On one CPU, main
 * (SCHED_FIFO 50) starts two threads of priority 10 that each work for
 * 400 ms (locking and unlocking a mutex in a loop, no blocking) and count
 * how often they saw the other one make progress while they worked: under
 * SCHED_RR (slice ~100 ms) both see it, under SCHED_FIFO the first one
 * finishes before the second starts. Needs the privilege for real-time
 * policies; without it both runs say EPERM. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>

#include "check.h"

static atomic_long progress[2];
static long saw_other[2];
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

static void *work(void *arg)
{
	int me = (int)(long)arg;
	int64_t end = mono_ns() + MS(400);
	long last = atomic_load(&progress[!me]);

	saw_other[me] = 0;
	while (mono_ns() < end) {
		pthread_mutex_lock(&m);
		pthread_mutex_unlock(&m);
		atomic_fetch_add(&progress[me], 1);
		long now = atomic_load(&progress[!me]);
		if (now != last) {
			saw_other[me]++;
			last = now;
		}
	}
	return NULL;
}

static int run(int policy)
{
	struct sched_param sp = {.sched_priority = 10};
	pthread_attr_t a;
	pthread_t t[2];

	progress[0] = progress[1] = 0;
	MUST(pthread_attr_init(&a));
	MUST(pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED));
	MUST(pthread_attr_setschedpolicy(&a, policy));
	MUST(pthread_attr_setschedparam(&a, &sp));
	for (long i = 0; i < 2; i++)
		MUST(pthread_create(&t[i], &a, work, (void *)i));
	pthread_attr_destroy(&a);
	for (int i = 0; i < 2; i++)
		MUST(pthread_join(t[i], NULL));
	fprintf(stderr, "%s: saw the other %ld and %ld times\n",
		policy == SCHED_RR ? "SCHED_RR" : "SCHED_FIFO", saw_other[0], saw_other[1]);
	return saw_other[0] > 0 && saw_other[1] > 0;
}

int main(void)
{
	struct sched_param sp = {.sched_priority = 50};
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	MUST(sched_setaffinity(0, sizeof(one), &one));
	int err = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	if (err == EPERM) {
		printf("no privilege for real-time policies: EPERM\n");
		return check_done();
	}
	MUST(err);
	CHECK(run(SCHED_RR), "SCHED_RR threads of one priority take turns");
	CHECK(!run(SCHED_FIFO), "SCHED_FIFO threads of one priority do not");
	return check_done();
}
