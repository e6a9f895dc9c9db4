/* Hazard: condition variables must never lose a wake-up.  A green wait that
 * released the mutex before it was queued, or a signal that found nobody
 * queued yet and was dropped, hangs these (the alarm turns that into a
 * failure) or loses items:
 *   a bounded buffer of 4 slots, 3 producers x 3000 items, 3 consumers, with
 *     not_full / not_empty signalled one at a time: every item consumed
 *     exactly once (count and checksum);
 *   two threads that hand a turn back and forth 2000 times with one cond and
 *     pthread_cond_signal;
 *   5 waiters released by one broadcast after all are known to wait;
 *   3 waiters each released by one signal per token. */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

/* ---- bounded buffer ---- */
#define SLOTS 4
#define PRODUCERS 3
#define CONSUMERS 3
#define ITEMS 3000

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static long buf[SLOTS];
static int head, count, producers_left = PRODUCERS;

struct consumer_total {
	long items, sum, sum_sq;
};

static void *produce(void *arg)
{
	long base = (long)(intptr_t)arg * ITEMS;

	for (long i = 1; i <= ITEMS; i++) {
		pthread_mutex_lock(&mu);
		while (count == SLOTS)
			pthread_cond_wait(&not_full, &mu);
		buf[(head + count) % SLOTS] = base + i;
		count++;
		pthread_cond_signal(&not_empty);
		pthread_mutex_unlock(&mu);
	}
	pthread_mutex_lock(&mu);
	if (--producers_left == 0)
		pthread_cond_broadcast(&not_empty);
	pthread_mutex_unlock(&mu);
	return NULL;
}

static void *consume(void *arg)
{
	struct consumer_total *tot = arg;

	for (;;) {
		pthread_mutex_lock(&mu);
		while (count == 0 && producers_left > 0)
			pthread_cond_wait(&not_empty, &mu);
		if (count == 0) {
			pthread_mutex_unlock(&mu);
			return NULL;
		}
		long v = buf[head];
		head = (head + 1) % SLOTS;
		count--;
		pthread_cond_signal(&not_full);
		pthread_mutex_unlock(&mu);
		tot->items++;
		tot->sum += v;
		tot->sum_sq += v * v;
	}
}

/* ---- ping-pong ---- */
#define TURNS 2000

static pthread_mutex_t pp_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pp_cv = PTHREAD_COND_INITIALIZER;
static int turn; /* 0: ping's turn, 1: pong's */
static int pp_moves[2];

static void *ping_pong(void *arg)
{
	int me = (int)(intptr_t)arg;

	for (int i = 0; i < TURNS; i++) {
		pthread_mutex_lock(&pp_mu);
		while (turn != me)
			pthread_cond_wait(&pp_cv, &pp_mu);
		pp_moves[me]++;
		turn = !me;
		pthread_cond_signal(&pp_cv);
		pthread_mutex_unlock(&pp_mu);
	}
	return NULL;
}

/* ---- broadcast and per-token signal ---- */
#define WAITERS 5

static pthread_mutex_t bc_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bc_cv = PTHREAD_COND_INITIALIZER;
static int bc_waiting, bc_flag, bc_released;
static int tokens, tokens_taken;

static void *wait_for_flag(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&bc_mu);
	bc_waiting++;
	while (!bc_flag)
		pthread_cond_wait(&bc_cv, &bc_mu);
	bc_released++;
	pthread_mutex_unlock(&bc_mu);
	return NULL;
}

static void *take_token(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&bc_mu);
	while (tokens == 0)
		pthread_cond_wait(&bc_cv, &bc_mu);
	tokens--;
	tokens_taken++;
	pthread_mutex_unlock(&bc_mu);
	return NULL;
}

int main(void)
{
	pthread_t prod[PRODUCERS], cons[CONSUMERS], pp[2], w[WAITERS];
	struct consumer_total tot[CONSUMERS] = { { 0, 0, 0 } };
	long items = 0, sum = 0, sum_sq = 0, want_sum = 0, want_sum_sq = 0;
	int all_waiting = 0;

	alarm(20);

	for (int i = 0; i < CONSUMERS; i++)
		MUST(pthread_create(&cons[i], NULL, consume, &tot[i]));
	for (int i = 0; i < PRODUCERS; i++)
		MUST(pthread_create(&prod[i], NULL, produce, (void *)(intptr_t)i));
	for (int i = 0; i < PRODUCERS; i++)
		MUST(pthread_join(prod[i], NULL));
	for (int i = 0; i < CONSUMERS; i++)
		MUST(pthread_join(cons[i], NULL));
	for (int i = 0; i < CONSUMERS; i++) {
		items += tot[i].items;
		sum += tot[i].sum;
		sum_sq += tot[i].sum_sq;
	}
	for (long v = 1; v <= PRODUCERS * ITEMS; v++) {
		want_sum += v;
		want_sum_sq += v * v;
	}
	CHECK(items == PRODUCERS * ITEMS, "bounded buffer: %ld items consumed", items);
	CHECK(sum == want_sum && sum_sq == want_sum_sq, "bounded buffer: checksum %ld/%ld", sum,
	      sum_sq);
	CHECK(count == 0, "bounded buffer: empty at the end");

	MUST(pthread_create(&pp[0], NULL, ping_pong, (void *)0));
	MUST(pthread_create(&pp[1], NULL, ping_pong, (void *)1));
	MUST(pthread_join(pp[0], NULL));
	MUST(pthread_join(pp[1], NULL));
	CHECK(pp_moves[0] == TURNS && pp_moves[1] == TURNS, "ping-pong: %d + %d turns", pp_moves[0],
	      pp_moves[1]);

	for (int i = 0; i < WAITERS; i++)
		MUST(pthread_create(&w[i], NULL, wait_for_flag, NULL));
	for (int64_t t0 = mono_ns(); mono_ns() - t0 < MS(5000); sleep_ms(1)) {
		pthread_mutex_lock(&bc_mu);
		all_waiting = bc_waiting == WAITERS;
		if (all_waiting) {
			/* Each waiter counted itself under the mutex and then
			 * waited, so all of them are in pthread_cond_wait now. */
			bc_flag = 1;
			pthread_cond_broadcast(&bc_cv);
		}
		pthread_mutex_unlock(&bc_mu);
		if (all_waiting)
			break;
	}
	for (int i = 0; i < WAITERS; i++)
		MUST(pthread_join(w[i], NULL));
	CHECK(all_waiting && bc_released == WAITERS, "broadcast: %d of %d waiters released",
	      bc_released, WAITERS);

	for (int i = 0; i < 3; i++)
		MUST(pthread_create(&w[i], NULL, take_token, NULL));
	sleep_ms(20);
	for (int i = 0; i < 3; i++) {
		pthread_mutex_lock(&bc_mu);
		tokens++;
		pthread_cond_signal(&bc_cv);
		pthread_mutex_unlock(&bc_mu);
		sleep_ms(5);
	}
	for (int i = 0; i < 3; i++)
		MUST(pthread_join(w[i], NULL));
	CHECK(tokens_taken == 3 && tokens == 0, "signal per token: %d tokens taken", tokens_taken);
	return check_done();
}
