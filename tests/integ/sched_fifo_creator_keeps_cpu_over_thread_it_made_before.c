/* Hazard: under the preload a new thread runs at its creator's next
 * pthread_create; a creator that became SCHED_FIFO in between keeps the
 * CPU, as natively on one CPU: the SCHED_OTHER thread it made before runs
 * only once the creator blocks, not inside its next pthread_create. Main
 * (one CPU) makes A, becomes SCHED_FIFO 10, makes B, and notes that it
 * did; A records whether main had made B when A first ran. Needs the
 * privilege for real-time policies (root, CAP_SYS_NICE or RLIMIT_RTPRIO):
 * without it both runs say so. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>

#include "check.h"

static atomic_int fifo_set, b_made, a_saw_b_made = -1;

static void *thread_a(void *arg)
{
	(void)arg;
	/* Natively A may run before main became FIFO: it waits for that. */
	while (!atomic_load(&fifo_set))
		sched_yield();
	atomic_store(&a_saw_b_made, atomic_load(&b_made));
	return NULL;
}

static void *thread_b(void *arg)
{
	return arg;
}

int main(void)
{
	struct sched_param sp = {.sched_priority = 10}, other = {.sched_priority = 0};
	pthread_t a, b;
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(0, &one);
	MUST(sched_setaffinity(0, sizeof(one), &one));
	MUST(pthread_create(&a, NULL, thread_a, NULL));
	int err = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	if (err == EPERM) {
		printf("no privilege for SCHED_FIFO: EPERM\n");
		atomic_store(&fifo_set, 1);
		MUST(pthread_join(a, NULL));
		return check_done();
	}
	CHECK_ERR(err, 0, "main becomes SCHED_FIFO 10");
	atomic_store(&fifo_set, 1);
	MUST(pthread_create(&b, NULL, thread_b, NULL));
	atomic_store(&b_made, 1);
	CHECK(atomic_load(&a_saw_b_made) == -1,
	      "the thread made before has not run when create returns");
	/* Back to SCHED_OTHER, then wait: now A runs. */
	MUST(pthread_setschedparam(pthread_self(), SCHED_OTHER, &other));
	MUST(pthread_join(a, NULL));
	MUST(pthread_join(b, NULL));
	CHECK(atomic_load(&a_saw_b_made) == 1, "it ran once main blocked, after main made B");
	return check_done();
}
