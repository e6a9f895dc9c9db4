/*
 * handoff: two threads hand a turn back and forth, so every handoff wakes
 * the other thread and puts this one to sleep.
 *
 *   handoff cond [rounds [atomic]]   through one mutex and one condition variable
 *   handoff sem  [rounds [atomic]]   through two semaphores
 *
 * With "atomic", a timer_create(SIGEV_THREAD) timer runs first, so glibc
 * has an OS thread of its own when greenify starts: private locks then
 * work the way they must when foreign threads may touch them.
 *
 * Prints ns per handoff (wall time / (2 * rounds)). A plain pthread program:
 * natively every handoff is a futex wake plus a futex wait, across cores or
 * on one; under greenify it is a green switch.
 */
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "bench.h"

static long rounds = 200000;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int turn;
static sem_t sems[2];

static void *cond_player(void *arg)
{
	int me = (int)(long)arg;

	pthread_mutex_lock(&mu);
	for (long i = 0; i < rounds; i++) {
		while (turn != me)
			pthread_cond_wait(&cv, &mu);
		turn = !me;
		pthread_cond_signal(&cv);
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

static void *sem_player(void *arg)
{
	int me = (int)(long)arg;

	for (long i = 0; i < rounds; i++) {
		sem_wait(&sems[me]);
		sem_post(&sems[!me]);
	}
	return NULL;
}

static void nothing(union sigval v)
{
	(void)v;
}

/* glibc's timer helper thread exists from here on. */
static void start_foreign_thread(void)
{
	struct sigevent ev = {.sigev_notify = SIGEV_THREAD, .sigev_notify_function = nothing};
	struct itimerspec its = {{0, 0}, {0, 1000000}};
	struct timespec pause = {0, 20000000};
	timer_t tm;

	if (timer_create(CLOCK_MONOTONIC, &ev, &tm) == 0 && timer_settime(tm, 0, &its, NULL) == 0)
		nanosleep(&pause, NULL);
}

int main(int argc, char **argv)
{
	int atomic = 0;

	void *(*player)(void *);
	pthread_t t[2];
	double t0, t1;

	if (argc < 2 || argc > 4 || (strcmp(argv[1], "cond") && strcmp(argv[1], "sem")) ||
	    (argc >= 3 && bench_parse_count(argv[2], 1, 1000000000L, &rounds) != 0) ||
	    (argc == 4 && strcmp(argv[3], "atomic"))) {
		fprintf(stderr, "usage: handoff cond|sem [rounds=200000 [atomic]]\n");
		return 2;
	}
	if (argc == 4) {
		atomic = 1;
		start_foreign_thread();
	}
	player = strcmp(argv[1], "cond") ? sem_player : cond_player;
	sem_init(&sems[0], 0, 1);
	sem_init(&sems[1], 0, 0);
	t0 = bench_now_ms(CLOCK_MONOTONIC);
	for (long i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, player, (void *)i) != 0) {
			printf("handoff %s fail\n", argv[1]);
			return 1;
		}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	t1 = bench_now_ms(CLOCK_MONOTONIC);
	printf("handoff %s%s rounds=%ld ns_per_handoff=%.1f\n", argv[1], atomic ? " atomic" : "", rounds,
	       (t1 - t0) * 1e6 / (2.0 * (double)rounds));
	return 0;
}
