/* Hazard: a lock convoy. A glibc mutex is free once unlocked: the waiter
 * the unlock wakes still has to be scheduled, and the unlocking thread,
 * going round its loop, takes the mutex again at once (its trylock right
 * after the unlock succeeds). A runtime that hands the mutex to the waiter
 * at unlock makes that trylock fail, and the two threads then pass the
 * mutex back and forth with a switch at every lock, for as long as both
 * keep locking it (JVM threads slowed down by their compile-queue lock).
 *
 * Main holds the mutex while a waiter blocks in lock (or timedlock), then,
 * round after round: unlock, trylock at once. Natively the trylock wins
 * (the woken waiter needs microseconds to run, most rounds; a fast one on
 * the other core wins a few); it must win at least a quarter of them.
 * The waiter still gets the mutex in the end (its lock returns 0, its
 * timed lock does not time out), and every kind behaves so. */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

#define ROUNDS 40

struct ctx {
	pthread_mutex_t *m;
	int timed;
	atomic_int stop;
	atomic_int got;	 /* times the waiter held the mutex */
	atomic_int errs; /* lock, timedlock or unlock failures */
};

static void *waiter(void *arg)
{
	struct ctx *c = arg;

	for (;;) {
		int r;
		if (c->timed) {
			struct timespec ts = deadline_in(CLOCK_REALTIME, MS(10000));
			r = pthread_mutex_timedlock(c->m, &ts);
		} else {
			r = pthread_mutex_lock(c->m);
		}
		if (r != 0) {
			atomic_fetch_add(&c->errs, 1);
			return NULL;
		}
		atomic_fetch_add(&c->got, 1);
		int stop = atomic_load(&c->stop);
		if (pthread_mutex_unlock(c->m) != 0)
			atomic_fetch_add(&c->errs, 1);
		if (stop)
			return NULL;
	}
}

static void exercise(const char *name, int type, int timed)
{
	pthread_mutexattr_t attr;
	pthread_mutex_t m;
	pthread_t t;
	struct ctx c = {.m = &m, .timed = timed};
	int took = 0;

	MUST(pthread_mutexattr_init(&attr));
	MUST(pthread_mutexattr_settype(&attr, type));
	MUST(pthread_mutex_init(&m, &attr));
	MUST(pthread_mutexattr_destroy(&attr));
	MUST(pthread_mutex_lock(&m));
	MUST(pthread_create(&t, NULL, waiter, &c));
	for (int i = 0; i < ROUNDS; i++) {
		sleep_ms(2); /* holding it: the waiter blocks in its lock */
		MUST(pthread_mutex_unlock(&m));
		if (pthread_mutex_trylock(&m) == 0)
			took++;
		else
			MUST(pthread_mutex_lock(&m));
	}
	atomic_store(&c.stop, 1);
	MUST(pthread_mutex_unlock(&m));
	MUST(pthread_join(t, NULL));
	fprintf(stderr, "%s: trylock took it back %d of %d, waiter held it %d times\n", name, took,
		ROUNDS, atomic_load(&c.got));
	CHECK(took >= ROUNDS / 4, "%s: trylock right after unlock takes it, mostly", name);
	CHECK(atomic_load(&c.got) >= 1, "%s: the waiter gets it in the end", name);
	CHECK(atomic_load(&c.errs) == 0, "%s: the waiter's calls all succeed", name);
	MUST(pthread_mutex_destroy(&m));
}

int main(void)
{
	alarm(60);
	exercise("normal", PTHREAD_MUTEX_NORMAL, 0);
	exercise("default, timedlock waiter", PTHREAD_MUTEX_DEFAULT, 1);
	exercise("recursive", PTHREAD_MUTEX_RECURSIVE, 0);
	exercise("errorcheck", PTHREAD_MUTEX_ERRORCHECK, 0);
	return check_done();
}
