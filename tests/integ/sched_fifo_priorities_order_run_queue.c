/* Hazard: real-time priorities decide who runs first. On one CPU, main
 * (SCHED_FIFO 50) creates threads with PTHREAD_EXPLICIT_SCHED at FIFO 10,
 * 30, 20, 30 and 5 and a SCHED_OTHER one, then waits: they run highest
 * priority first, two of one priority in the order they became runnable,
 * the SCHED_OTHER one last. Each reports the policy and priority it was
 * given (pthread_getschedparam, sched_getscheduler of its id); a thread
 * that raises another above itself with pthread_setschedprio lets it run
 * first. Needs the privilege for real-time policies (root, CAP_SYS_NICE
 * or RLIMIT_RTPRIO): without it both runs say so and check the EPERM. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "check.h"

#define N 6

static const int prio[N] = {10, 30, 20, 30, 5, 0};
static int order[N + 2], norder;
static int seen_policy[N], seen_prio[N], seen_kernel_policy[N];

static void *run(void *arg)
{
	int i = (int)(long)arg;
	struct sched_param sp;
	int policy;

	MUST(pthread_getschedparam(pthread_self(), &policy, &sp));
	seen_policy[i] = policy;
	seen_prio[i] = sp.sched_priority;
	seen_kernel_policy[i] = sched_getscheduler(gettid());
	order[norder++] = i;
	return NULL;
}

static void *mark(void *arg)
{
	order[norder++] = (int)(long)arg;
	return NULL;
}

int main(void)
{
	struct sched_param sp = {.sched_priority = 50};
	pthread_attr_t a;
	pthread_t t[N];
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	MUST(sched_setaffinity(0, sizeof(one), &one));
	int err = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	if (err == EPERM) {
		printf("no privilege for SCHED_FIFO: EPERM\n");
		return check_done();
	}
	CHECK_ERR(err, 0, "main becomes SCHED_FIFO 50");
	for (long i = 0; i < N; i++) {
		MUST(pthread_attr_init(&a));
		MUST(pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED));
		MUST(pthread_attr_setschedpolicy(&a, prio[i] ? SCHED_FIFO : SCHED_OTHER));
		sp.sched_priority = prio[i];
		MUST(pthread_attr_setschedparam(&a, &sp));
		MUST(pthread_create(&t[i], &a, run, (void *)i));
		pthread_attr_destroy(&a);
	}
	for (int i = 0; i < N; i++)
		MUST(pthread_join(t[i], NULL));
	printf("run order:");
	for (int i = 0; i < norder; i++)
		printf(" %d", prio[order[i]]);
	printf("\n");
	int given = 1;
	for (int i = 0; i < N; i++)
		given &= seen_policy[i] == (prio[i] ? SCHED_FIFO : SCHED_OTHER) &&
			 seen_prio[i] == prio[i] && seen_kernel_policy[i] == seen_policy[i];
	CHECK(given, "each thread has the policy and priority its attr gave");

	/* Two FIFO 10 threads, made while main outranks them; main raises
	 * the second above the first before it lets them run. */
	norder = 0;
	MUST(pthread_attr_init(&a));
	MUST(pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED));
	MUST(pthread_attr_setschedpolicy(&a, SCHED_FIFO));
	sp.sched_priority = 10;
	MUST(pthread_attr_setschedparam(&a, &sp));
	MUST(pthread_create(&t[0], &a, mark, (void *)1L));
	MUST(pthread_create(&t[1], &a, mark, (void *)2L));
	pthread_attr_destroy(&a);
	CHECK_ERR(pthread_setschedprio(t[1], 20), 0, "setschedprio of the second");
	MUST(pthread_join(t[0], NULL));
	MUST(pthread_join(t[1], NULL));
	CHECK(norder == 2 && order[0] == 2 && order[1] == 1, "the raised one runs first");
	return check_done();
}
