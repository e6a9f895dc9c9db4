/* Hazard: locks taken while the program is still single-threaded (before
 * the first pthread_create, so possibly before the runtime starts) must keep
 * their meaning once threads exist: main still owns them, other threads
 * block on them and get them when main lets go.  Checked with mutexes of the
 * three static kinds (normal; recursive, locked twice; errorcheck) and a
 * semaphore posted twice, all set up before any thread exists. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <unistd.h>

#include "check.h"

#define THREADS 4

static pthread_mutex_t normal = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t recursive = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static pthread_mutex_t errorcheck = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;
static sem_t sem;

static atomic_int ready;
static long in_normal, in_recursive, in_errorcheck;
static atomic_int sem_taken;

/* What each thread saw while main still held everything. */
struct seen {
	int try_normal, try_recursive, try_errorcheck, unlock_errorcheck;
	int lock_normal, lock_recursive, lock_errorcheck;
	int relock_recursive, relock_errorcheck;
};

static void *contend(void *arg)
{
	struct seen *s = arg;

	s->try_normal = pthread_mutex_trylock(&normal);
	s->try_recursive = pthread_mutex_trylock(&recursive);
	s->try_errorcheck = pthread_mutex_trylock(&errorcheck);
	s->unlock_errorcheck = pthread_mutex_unlock(&errorcheck);
	atomic_fetch_add(&ready, 1);

	s->lock_normal = pthread_mutex_lock(&normal);
	long v = in_normal;
	sched_yield();
	in_normal = v + 1;
	pthread_mutex_unlock(&normal);

	s->lock_recursive = pthread_mutex_lock(&recursive);
	s->relock_recursive = pthread_mutex_lock(&recursive);
	v = in_recursive;
	sched_yield();
	in_recursive = v + 1;
	pthread_mutex_unlock(&recursive);
	pthread_mutex_unlock(&recursive);

	s->lock_errorcheck = pthread_mutex_lock(&errorcheck);
	s->relock_errorcheck = pthread_mutex_lock(&errorcheck);
	v = in_errorcheck;
	sched_yield();
	in_errorcheck = v + 1;
	pthread_mutex_unlock(&errorcheck);

	if (sem_trywait(&sem) == 0)
		atomic_fetch_add(&sem_taken, 1);
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS];
	struct seen seen[THREADS];
	int64_t t0;

	alarm(20);
	/* Single-threaded still. */
	CHECK_ERR(pthread_mutex_lock(&normal), 0, "before threads: lock normal");
	CHECK_ERR(pthread_mutex_lock(&recursive), 0, "before threads: lock recursive");
	CHECK_ERR(pthread_mutex_lock(&recursive), 0, "before threads: lock recursive again");
	CHECK_ERR(pthread_mutex_lock(&errorcheck), 0, "before threads: lock errorcheck");
	CHECK(sem_init(&sem, 0, 0) == 0, "before threads: sem_init 0");
	CHECK(sem_post(&sem) == 0 && sem_post(&sem) == 0, "before threads: sem_post twice");

	for (int i = 0; i < THREADS; i++)
		MUST(pthread_create(&t[i], NULL, contend, &seen[i]));
	t0 = mono_ns();
	while (atomic_load(&ready) < THREADS && mono_ns() - t0 < MS(5000))
		sleep_ms(1);
	CHECK(atomic_load(&ready) == THREADS, "all threads probed the locks");
	sleep_ms(50); /* let them block in pthread_mutex_lock */
	CHECK(in_normal == 0, "no thread got the normal mutex while main held it");
	CHECK_ERR(pthread_mutex_lock(&errorcheck), EDEADLK, "main still owns the errorcheck mutex");
	CHECK_ERR(pthread_mutex_trylock(&recursive), 0, "main still owns the recursive mutex (count 3)");

	CHECK_ERR(pthread_mutex_unlock(&normal), 0, "main unlocks normal");
	CHECK_ERR(pthread_mutex_unlock(&recursive), 0, "main unlocks recursive (count 2)");
	CHECK_ERR(pthread_mutex_unlock(&recursive), 0, "main unlocks recursive (count 1)");
	sleep_ms(20);
	CHECK(in_recursive == 0, "no thread got the recursive mutex while main held it once");
	CHECK_ERR(pthread_mutex_unlock(&recursive), 0, "main unlocks recursive (count 0)");
	CHECK_ERR(pthread_mutex_unlock(&errorcheck), 0, "main unlocks errorcheck");
	for (int i = 0; i < THREADS; i++)
		MUST(pthread_join(t[i], NULL));

	for (int i = 0; i < THREADS; i++) {
		CHECK_ERR(seen[i].try_normal, EBUSY, "thread %d: trylock normal held by main", i);
		CHECK_ERR(seen[i].try_recursive, EBUSY, "thread %d: trylock recursive held by main", i);
		CHECK_ERR(seen[i].try_errorcheck, EBUSY, "thread %d: trylock errorcheck held by main", i);
		CHECK_ERR(seen[i].unlock_errorcheck, EPERM, "thread %d: unlock errorcheck held by main", i);
		CHECK_ERR(seen[i].lock_normal, 0, "thread %d: lock normal", i);
		CHECK_ERR(seen[i].lock_recursive, 0, "thread %d: lock recursive", i);
		CHECK_ERR(seen[i].relock_recursive, 0, "thread %d: relock recursive", i);
		CHECK_ERR(seen[i].lock_errorcheck, 0, "thread %d: lock errorcheck", i);
		CHECK_ERR(seen[i].relock_errorcheck, EDEADLK, "thread %d: relock errorcheck", i);
	}
	CHECK(in_normal == THREADS, "normal: %ld increments", in_normal);
	CHECK(in_recursive == THREADS, "recursive: %ld increments", in_recursive);
	CHECK(in_errorcheck == THREADS, "errorcheck: %ld increments", in_errorcheck);
	CHECK(atomic_load(&sem_taken) == 2, "the 2 posts made before threads: %d taken",
	      atomic_load(&sem_taken));
	CHECK_ERR(pthread_mutex_trylock(&normal), 0, "normal is free at the end");
	CHECK_ERR(pthread_mutex_trylock(&errorcheck), 0, "errorcheck is free at the end");
	CHECK_ERR(pthread_mutex_unlock(&errorcheck), 0, "and main owns it now");
	return check_done();
}
