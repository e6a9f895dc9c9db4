/* Hazard: many threads each holding one mutex while blocking on a second
 * (the classic dining philosophers).  5 philosophers, 5 fork mutexes; each
 * eats 200 meals.  Even-numbered ones take the lower-numbered fork first
 * and block on the second; odd-numbered ones take the left fork, then
 * trylock the right and, on EBUSY, put the left one back and yield, so both
 * a blocking and a back-off path run under contention.  Eating takes a
 * yield (every 20th meal a 1 ms sleep).  No two neighbours ever eat at once
 * (each fork is held by one philosopher at a time), every philosopher eats
 * exactly 200 times, and all 5 forks are free at the end. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "check.h"

#define N 5
#define MEALS 200

static pthread_mutex_t fork_mu[N];
static atomic_int eating[N];
static atomic_int fork_holder[N]; /* philosopher + 1, 0 when on the table */
static atomic_int neighbour_clash, fork_clash;
static int meals[N];
static int backoffs_total;
static pthread_mutex_t stats_mu = PTHREAD_MUTEX_INITIALIZER;

static void took(int fork, int me)
{
	if (atomic_exchange(&fork_holder[fork], me + 1) != 0)
		atomic_fetch_add(&fork_clash, 1);
}

static void put_back(int fork)
{
	atomic_store(&fork_holder[fork], 0);
	MUST(pthread_mutex_unlock(&fork_mu[fork]));
}

static void *philosopher(void *arg)
{
	int me = (int)(intptr_t)arg;
	int left = me, right = (me + 1) % N;
	int backoffs = 0;

	for (int m = 0; m < MEALS; m++) {
		if (me % 2 == 0) {
			int first = left < right ? left : right;
			int second = left < right ? right : left;

			MUST(pthread_mutex_lock(&fork_mu[first]));
			took(first, me);
			MUST(pthread_mutex_lock(&fork_mu[second]));
			took(second, me);
		} else {
			for (;;) {
				MUST(pthread_mutex_lock(&fork_mu[left]));
				took(left, me);
				int rc = pthread_mutex_trylock(&fork_mu[right]);
				if (rc == 0)
					break;
				if (rc != EBUSY)
					MUST(rc);
				put_back(left);
				backoffs++;
				sched_yield();
			}
			took(right, me);
		}

		atomic_store(&eating[me], 1);
		if (atomic_load(&eating[(me + N - 1) % N]) || atomic_load(&eating[(me + 1) % N]))
			atomic_fetch_add(&neighbour_clash, 1);
		if (m % 20 == 0)
			sleep_ms(1);
		else
			sched_yield();
		meals[me]++;
		atomic_store(&eating[me], 0);

		put_back(right);
		put_back(left);
		sched_yield(); /* think */
	}
	pthread_mutex_lock(&stats_mu);
	backoffs_total += backoffs;
	pthread_mutex_unlock(&stats_mu);
	return NULL;
}

int main(void)
{
	pthread_t t[N];
	int total = 0, each = 1, free_at_end = 1;

	alarm(20);
	for (int i = 0; i < N; i++)
		MUST(pthread_mutex_init(&fork_mu[i], NULL));
	for (int i = 0; i < N; i++)
		MUST(pthread_create(&t[i], NULL, philosopher, (void *)(intptr_t)i));
	for (int i = 0; i < N; i++)
		MUST(pthread_join(t[i], NULL));

	for (int i = 0; i < N; i++) {
		total += meals[i];
		each &= meals[i] == MEALS;
		if (pthread_mutex_trylock(&fork_mu[i]) == 0)
			MUST(pthread_mutex_unlock(&fork_mu[i]));
		else
			free_at_end = 0;
	}
	CHECK(total == N * MEALS, "total meals %d", total);
	CHECK(each, "every philosopher ate %d times", MEALS);
	CHECK(atomic_load(&neighbour_clash) == 0, "no two neighbours ate at once");
	CHECK(atomic_load(&fork_clash) == 0, "no fork was in two hands");
	CHECK(free_at_end, "all forks free at the end");
	fprintf(stderr, "trylock back-offs: %d\n", backoffs_total);
	return check_done();
}
