/* Hazard: a barrier destroyed and freed as soon as one thread is back from
 * its wait.  glibc allows it ("a barrier can be destroyed as soon as no
 * threads are blocked on it"): its destroy waits until every thread of the
 * last round has left, so the others must never read the barrier again
 * once released, and destroy must wait for one that has not left yet.
 *
 * 1. 4 threads run 200 rounds, each on a fresh malloc'd barrier; in even
 *    rounds the serial thread destroys and frees it, in odd rounds thread 0
 *    does, whatever its wait returned.  The destroyer then mallocs the
 *    next round's barrier (often the same memory: a waiter still looking
 *    at the old one would see a new round 0 there and wait for ever).
 *    Exactly one serial thread per round, and a ticker thread keeps
 *    running all along (a thread sleeps 1 ms in every 10th round).
 * 2. A waiter is in a signal handler (which sleeps 100 ms) when the last
 *    thread arrives: the round ends, but pthread_barrier_destroy returns
 *    only after that waiter has left the barrier; then it is freed.  (The
 *    test reads glibc's arrival count, the barrier's first word, to know
 *    that both waiters are in before it signals.)
 * 3. 6 threads at once on a barrier of count 3 (POSIX lets more than count
 *    threads wait): two rounds, two serial threads, everyone released.
 * Also run preloaded under valgrind's memcheck (make memcheck): no read of
 * a freed barrier. */
/* run-also: memcheck */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "check.h"

#define THREADS 4
#define ROUNDS 200

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_barrier_t *cur; /* this round's barrier, under mu */
static int ready_round;	       /* the round cur is for, under mu */
static atomic_int serials[ROUNDS];
static atomic_int destroy_errors, other_results;
static atomic_int done, ticks;

static pthread_barrier_t *new_barrier(unsigned count)
{
	pthread_barrier_t *b = malloc(sizeof *b);

	if (b == NULL)
		abort();
	MUST(pthread_barrier_init(b, NULL, count));
	return b;
}

/* The destroyer of round r frees its barrier and publishes round r + 1's. */
static void finish_round(pthread_barrier_t *b, int r)
{
	if (pthread_barrier_destroy(b) != 0)
		atomic_fetch_add(&destroy_errors, 1);
	free(b);
	pthread_barrier_t *next = r + 1 < ROUNDS ? new_barrier(THREADS) : NULL;
	pthread_mutex_lock(&mu);
	cur = next;
	ready_round = r + 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

static void *rounds(void *arg)
{
	int me = (int)(intptr_t)arg;

	for (int r = 0; r < ROUNDS; r++) {
		pthread_mutex_lock(&mu);
		while (ready_round != r)
			pthread_cond_wait(&cv, &mu);
		pthread_barrier_t *b = cur;
		pthread_mutex_unlock(&mu);

		if (r % 10 == me)
			sleep_ms(1); /* the others really wait, the ticker ticks */
		int rc = pthread_barrier_wait(b);
		if (rc == PTHREAD_BARRIER_SERIAL_THREAD)
			atomic_fetch_add(&serials[r], 1);
		else if (rc != 0)
			atomic_fetch_add(&other_results, 1);
		/* From here on b is not ours to read: only the destroyer
		 * touches it, and another thread may already have freed it. */
		if (r % 2 == 0 ? rc == PTHREAD_BARRIER_SERIAL_THREAD : me == 0)
			finish_round(b, r);
	}
	return NULL;
}

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&done)) {
		struct timespec ts = { 0, 200000 };
		nanosleep(&ts, NULL);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

static pthread_barrier_t *sig_bar;
static atomic_int handler_done, in_handler;

static void on_usr1(int sig)
{
	(void)sig;
	atomic_store(&in_handler, 1);
	sleep_ms(100);
	atomic_store(&handler_done, 1);
}

static atomic_int waiter_serials;

static void *sig_waiter(void *arg)
{
	if (pthread_barrier_wait(arg) == PTHREAD_BARRIER_SERIAL_THREAD)
		atomic_fetch_add(&waiter_serials, 1);
	return NULL;
}

static pthread_barrier_t over;
static atomic_int over_serials, over_back;

static void *over_waiter(void *arg)
{
	(void)arg;
	if (pthread_barrier_wait(&over) == PTHREAD_BARRIER_SERIAL_THREAD)
		atomic_fetch_add(&over_serials, 1);
	atomic_fetch_add(&over_back, 1);
	return NULL;
}

/* Arrivals so far: glibc's struct pthread_barrier starts with them. */
static unsigned arrivals(pthread_barrier_t *b)
{
	return __atomic_load_n((unsigned *)(void *)b, __ATOMIC_ACQUIRE);
}

int main(void)
{
	pthread_t t[THREADS], tick, a, bt;
	int one_serial = 1;

	alarm(30);
	ready_round = 0;
	cur = new_barrier(THREADS);
	MUST(pthread_create(&tick, NULL, ticker, NULL));
	for (int i = 0; i < THREADS; i++)
		MUST(pthread_create(&t[i], NULL, rounds, (void *)(intptr_t)i));
	for (int i = 0; i < THREADS; i++)
		MUST(pthread_join(t[i], NULL));
	int ticks_during = atomic_load(&ticks);
	atomic_store(&done, 1);
	MUST(pthread_join(tick, NULL));
	for (int r = 0; r < ROUNDS; r++)
		one_serial &= atomic_load(&serials[r]) == 1;
	CHECK(one_serial, "%d rounds on fresh barriers: one serial thread each", ROUNDS);
	CHECK(atomic_load(&other_results) == 0, "every other wait returned 0");
	CHECK(atomic_load(&destroy_errors) == 0, "every destroy right after the wait returned 0");
	CHECK(cur == NULL && ready_round == ROUNDS, "every round finished");
	CHECK(ticks_during > 0, "the ticker kept running meanwhile");
	fprintf(stderr, "ticks during the rounds: %d\n", ticks_during);

	struct sigaction sa = { .sa_handler = on_usr1 };
	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGUSR1, &sa, NULL));
	sig_bar = new_barrier(3);
	MUST(pthread_create(&a, NULL, sig_waiter, sig_bar));
	MUST(pthread_create(&bt, NULL, sig_waiter, sig_bar));
	while (arrivals(sig_bar) != 2)
		sleep_ms(1);
	MUST(pthread_kill(a, SIGUSR1));
	while (!atomic_load(&in_handler))
		sleep_ms(1);
	CHECK(pthread_barrier_wait(sig_bar) == PTHREAD_BARRIER_SERIAL_THREAD,
	      "the last arrival is the serial thread");
	CHECK_ERR(pthread_barrier_destroy(sig_bar), 0, "destroy with a waiter in a handler");
	CHECK(atomic_load(&handler_done), "destroy returned after that waiter left");
	free(sig_bar);
	MUST(pthread_join(a, NULL));
	MUST(pthread_join(bt, NULL));
	CHECK(atomic_load(&waiter_serials) == 0, "the two earlier arrivals got 0");

	pthread_t ov[6];
	MUST(pthread_barrier_init(&over, NULL, 3));
	for (int i = 0; i < 6; i++)
		MUST(pthread_create(&ov[i], NULL, over_waiter, NULL));
	for (int i = 0; i < 6; i++)
		MUST(pthread_join(ov[i], NULL));
	CHECK(atomic_load(&over_serials) == 2 && atomic_load(&over_back) == 6,
	      "6 threads on a barrier of 3: two rounds, two serial threads");
	CHECK_ERR(pthread_barrier_destroy(&over), 0, "and it is destroyed");
	return check_done();
}
