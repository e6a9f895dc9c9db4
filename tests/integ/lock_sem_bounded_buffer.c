/* Hazard: unnamed semaphores as the only synchronisation.  glibc's sem_wait
 * blocks in a futex wait inside the sem_t; on one OS thread that must park
 * the green thread, and sem_post must wake exactly as many as it counts.
 * The classic bounded buffer: `empty` counts free slots (8), `full` counts
 * filled ones, a third semaphore initialised to 1 is the mutex.  4 producers
 * x 2500 items, 4 consumers; each consumer stops at a -1 item that main
 * puts in after the producers end.  Every item is consumed exactly once
 * (count and checksums), and at the end the semaphores hold 8, 0 and 1. */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <unistd.h>

#include "check.h"

#define SLOTS 8
#define PRODUCERS 4
#define CONSUMERS 4
#define ITEMS 2500

static sem_t empty, full, mutex;
static long buf[SLOTS];
static int in, out;

static void put(long v)
{
	while (sem_wait(&empty) != 0)
		;
	while (sem_wait(&mutex) != 0)
		;
	buf[in] = v;
	in = (in + 1) % SLOTS;
	MUST(sem_post(&mutex));
	MUST(sem_post(&full));
}

static long take(void)
{
	long v;

	while (sem_wait(&full) != 0)
		;
	while (sem_wait(&mutex) != 0)
		;
	v = buf[out];
	out = (out + 1) % SLOTS;
	MUST(sem_post(&mutex));
	MUST(sem_post(&empty));
	return v;
}

static void *produce(void *arg)
{
	long base = (long)(intptr_t)arg * ITEMS;

	for (long i = 1; i <= ITEMS; i++)
		put(base + i);
	return NULL;
}

struct total {
	long items, sum, sum_sq;
};

static void *consume(void *arg)
{
	struct total *t = arg;
	long v;

	while ((v = take()) != -1) {
		t->items++;
		t->sum += v;
		t->sum_sq += v * v;
	}
	return NULL;
}

int main(void)
{
	pthread_t p[PRODUCERS], c[CONSUMERS];
	struct total tot[CONSUMERS] = { { 0, 0, 0 } };
	long items = 0, sum = 0, sum_sq = 0, want_sum = 0, want_sum_sq = 0;
	int ve = -1, vf = -1, vm = -1;

	alarm(20);
	MUST(sem_init(&empty, 0, SLOTS));
	MUST(sem_init(&full, 0, 0));
	MUST(sem_init(&mutex, 0, 1));
	for (int i = 0; i < CONSUMERS; i++)
		MUST(pthread_create(&c[i], NULL, consume, &tot[i]));
	for (int i = 0; i < PRODUCERS; i++)
		MUST(pthread_create(&p[i], NULL, produce, (void *)(intptr_t)i));
	for (int i = 0; i < PRODUCERS; i++)
		MUST(pthread_join(p[i], NULL));
	for (int i = 0; i < CONSUMERS; i++)
		put(-1);
	for (int i = 0; i < CONSUMERS; i++)
		MUST(pthread_join(c[i], NULL));

	for (int i = 0; i < CONSUMERS; i++) {
		items += tot[i].items;
		sum += tot[i].sum;
		sum_sq += tot[i].sum_sq;
	}
	for (long v = 1; v <= PRODUCERS * ITEMS; v++) {
		want_sum += v;
		want_sum_sq += v * v;
	}
	CHECK(items == PRODUCERS * ITEMS, "%ld items consumed", items);
	CHECK(sum == want_sum && sum_sq == want_sum_sq, "checksum %ld/%ld", sum, sum_sq);
	MUST(sem_getvalue(&empty, &ve));
	MUST(sem_getvalue(&full, &vf));
	MUST(sem_getvalue(&mutex, &vm));
	CHECK(ve == SLOTS && vf == 0 && vm == 1, "semaphores end at empty=%d full=%d mutex=%d", ve, vf,
	      vm);
	CHECK(sem_destroy(&empty) == 0 && sem_destroy(&full) == 0 && sem_destroy(&mutex) == 0,
	      "sem_destroy");
	return check_done();
}
