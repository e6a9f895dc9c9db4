/* Hazard: pthread_once whose init routine blocks.  glibc makes late callers
 * wait on a futex inside the once control; on one OS thread that wait must
 * park the green thread, or the initialiser (which sleeps 100 ms) never
 * gets to finish.  8 threads call pthread_once together: the routine runs
 * exactly once, every caller returns 0 only after it finished and sees the
 * value it set, and a later call (from main) does not run it again.  A
 * second once control, used first by main alone, is not run again by the
 * threads either.  An init routine may itself call pthread_once on another
 * control. */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

#define THREADS 8

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_once_t inner_once = PTHREAD_ONCE_INIT;
static pthread_once_t early_once = PTHREAD_ONCE_INIT;
static atomic_int runs, inner_runs, early_runs;
static atomic_int value;
static int64_t init_done_at;

static void inner_init(void)
{
	atomic_fetch_add(&inner_runs, 1);
}

static void slow_init(void)
{
	atomic_fetch_add(&runs, 1);
	sleep_ms(100);
	pthread_once(&inner_once, inner_init);
	init_done_at = mono_ns();
	atomic_store(&value, 42);
}

static void early_init(void)
{
	atomic_fetch_add(&early_runs, 1);
}

struct caller {
	int rc, early_rc;
	int seen;          /* value right after pthread_once returned */
	int64_t returned_at;
};

static pthread_mutex_t start_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t start_cv = PTHREAD_COND_INITIALIZER;
static int go;

static void *call_once(void *arg)
{
	struct caller *c = arg;

	pthread_mutex_lock(&start_mu);
	while (!go)
		pthread_cond_wait(&start_cv, &start_mu);
	pthread_mutex_unlock(&start_mu);
	c->rc = pthread_once(&once, slow_init);
	c->returned_at = mono_ns();
	c->seen = atomic_load(&value);
	c->early_rc = pthread_once(&early_once, early_init);
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS];
	struct caller c[THREADS];
	int all_rc = 1, all_seen = 1, all_after = 1;

	alarm(20);
	CHECK_ERR(pthread_once(&early_once, early_init), 0, "main runs the early once alone");

	for (int i = 0; i < THREADS; i++)
		MUST(pthread_create(&t[i], NULL, call_once, &c[i]));
	pthread_mutex_lock(&start_mu);
	go = 1;
	pthread_cond_broadcast(&start_cv);
	pthread_mutex_unlock(&start_mu);
	for (int i = 0; i < THREADS; i++)
		MUST(pthread_join(t[i], NULL));

	for (int i = 0; i < THREADS; i++) {
		all_rc &= c[i].rc == 0 && c[i].early_rc == 0;
		all_seen &= c[i].seen == 42;
		all_after &= c[i].returned_at >= init_done_at;
	}
	CHECK(all_rc, "every pthread_once returned 0");
	CHECK(atomic_load(&runs) == 1, "the blocking init ran once (%d)", atomic_load(&runs));
	CHECK(all_seen, "every caller saw the initialised value");
	CHECK(all_after, "no caller returned before the init finished");
	CHECK(atomic_load(&inner_runs) == 1, "the nested once ran once");
	CHECK_ERR(pthread_once(&once, slow_init), 0, "main calls it afterwards");
	CHECK(atomic_load(&runs) == 1, "and it did not run again");
	CHECK(atomic_load(&early_runs) == 1, "the early once ran only in main");
	return check_done();
}
