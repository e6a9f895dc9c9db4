/* Hazard: a mutex or a semaphore that real-time threads wait for goes to
 * the highest-priority waiter, not the oldest (POSIX: the scheduling policy
 * decides who gets it; the kernel's futex queue is ordered by priority). On
 * one CPU, main (SCHED_FIFO 1) holds a mutex and creates waiters at FIFO 5,
 * 10, 20, 10 and 15, each of which runs at once (it outranks main) and
 * blocks; main unlocks, and each takes the mutex, notes itself and unlocks:
 * they take it highest first, the two FIFO 10 ones in the order they came.
 * The same for a semaphore at 0 that main posts once per waiter. (LTP's
 * Open POSIX pthread_attr_setschedpolicy 2-1 found that the green mutex
 * went to the oldest waiter.) Needs the privilege for real-time policies
 * (root, CAP_SYS_NICE or RLIMIT_RTPRIO): without it both runs say so and
 * check the EPERM. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <unistd.h>

#include "check.h"

#define N 5

static const int prio[N] = {5, 10, 20, 10, 15};
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static sem_t sem;
static int order[N], norder;
static atomic_int started;

static void *by_mutex(void *arg)
{
	atomic_fetch_add(&started, 1);
	MUST(pthread_mutex_lock(&m));
	order[norder++] = (int)(long)arg;
	MUST(pthread_mutex_unlock(&m));
	return NULL;
}

static void *by_sem(void *arg)
{
	atomic_fetch_add(&started, 1);
	while (sem_wait(&sem) != 0)
		;
	order[norder++] = (int)(long)arg;
	return NULL;
}

/* Creates the N waiters, each blocked in fn before the next is made. */
static void make_waiters(pthread_t *t, void *(*fn)(void *))
{
	struct sched_param sp;
	pthread_attr_t a;

	atomic_store(&started, 0);
	norder = 0;
	for (long i = 0; i < N; i++) {
		MUST(pthread_attr_init(&a));
		MUST(pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED));
		MUST(pthread_attr_setschedpolicy(&a, SCHED_FIFO));
		sp.sched_priority = prio[i];
		MUST(pthread_attr_setschedparam(&a, &sp));
		MUST(pthread_create(&t[i], &a, fn, (void *)i));
		pthread_attr_destroy(&a);
		/* Natively it ran to its wait already (it outranks main). */
		while (atomic_load(&started) <= i)
			sched_yield();
	}
}

static void print_order(const char *what)
{
	printf("%s:", what);
	for (int i = 0; i < norder; i++)
		printf(" %d(#%d)", prio[order[i]], order[i]);
	printf("\n");
}

int main(void)
{
	struct sched_param sp = {.sched_priority = 1};
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
	CHECK_ERR(err, 0, "main becomes SCHED_FIFO 1");

	MUST(pthread_mutex_lock(&m));
	make_waiters(t, by_mutex);
	MUST(pthread_mutex_unlock(&m));
	for (int i = 0; i < N; i++)
		MUST(pthread_join(t[i], NULL));
	print_order("mutex taken in order");
	CHECK(norder == N && order[0] == 2 && order[1] == 4 && order[2] == 1 && order[3] == 3 &&
		      order[4] == 0,
	      "the mutex goes to the highest-priority waiter first, equals oldest first");

	MUST(sem_init(&sem, 0, 0));
	make_waiters(t, by_sem);
	for (int i = 0; i < N; i++)
		MUST(sem_post(&sem));
	for (int i = 0; i < N; i++)
		MUST(pthread_join(t[i], NULL));
	print_order("semaphore taken in order");
	CHECK(norder == N && order[0] == 2 && order[1] == 4 && order[2] == 1 && order[3] == 3 &&
		      order[4] == 0,
	      "each post goes to the highest-priority waiter first, equals oldest first");
	MUST(sem_destroy(&sem));
	return check_done();
}
