/* Hazard: a program's own malloc that reads a table under a pthread
 * rwlock (an allocator's arena list, which its other threads rewrite under
 * the write lock), called by a name lookup on libuv's pool while green
 * threads take the write lock. The pool thread's rwlock calls went to
 * glibc as the runtime's own, outside the foreign-thread protocol, while
 * the green threads took the lock the plain way, which another OS thread's
 * glibc cannot see: a reader on the pool and a green writer could be
 * inside together, and a pool reader waiting in the kernel for a green
 * writer was never woken.
 *
 * Every malloc, calloc, realloc and free holds the read lock while it
 * counts itself in 'inside' (atomically) and reads the table's
 * generation; two threads rewrite the table under the write lock, each
 * time checking that no reader is inside and bumping the generation,
 * until main has looked 127.0.0.1 up 200 times. Every lookup is answered,
 * every rewrite found no reader inside, and the generation counts every
 * rewrite. A writer gives way now and then holding the write lock, so
 * that readers on the pool wait for it (10 runs of 10 hung before). */
#define _GNU_SOURCE
#include <netdb.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"


enum { WRITERS = 2, LOOKUPS = 200 };

static pthread_rwlock_t table_lock = PTHREAD_RWLOCK_INITIALIZER;
static atomic_int inside;   /* readers between their lock and unlock */
static long generation;	    /* under table_lock */
static long readers_seen;   /* atomically: reads of generation made */
static atomic_int overlaps; /* a rewrite found a reader inside */
static atomic_int stop;	    /* main has looked up every name */

static void read_table(void)
{
	pthread_rwlock_rdlock(&table_lock);
	atomic_fetch_add(&inside, 1);
	__atomic_fetch_add(&readers_seen, generation >= 0, __ATOMIC_RELAXED);
	atomic_fetch_add(&inside, -1);
	pthread_rwlock_unlock(&table_lock);
}

static void heap_enter(void)
{
	read_table();
}

static void heap_leave(void)
{
}

#include "program_malloc.h"

static void *rewrite(void *arg)
{
	long i;

	(void)arg;
	for (i = 0; !atomic_load(&stop); i++) {
		pthread_rwlock_wrlock(&table_lock);
		if (atomic_load(&inside) != 0)
			atomic_fetch_add(&overlaps, 1);
		generation++;
		if (i % 8 == 0)
			sched_yield(); /* holding it: a reader comes and waits */
		pthread_rwlock_unlock(&table_lock);
	}
	return (void *)(intptr_t)i;
}

static void *nothing(void *arg)
{
	return arg;
}

static int look_up(void)
{
	struct addrinfo hints = {.ai_family = AF_INET, .ai_flags = AI_NUMERICHOST}, *ai = NULL;
	int ok = getaddrinfo("127.0.0.1", NULL, &hints, &ai) == 0 && ai;

	if (ai)
		freeaddrinfo(ai);
	return ok;
}

int main(void)
{
	pthread_t th[WRITERS];
	int answered = 0;

	alarm(20);
	/* The first lookup, before the writers: under the preload (once a
	 * thread has started the runtime) it starts libuv's pool, whose
	 * threads' start allocates on the runtime thread, which must not wait
	 * for a thread of the program (README, Limitations). */
	MUST(pthread_create(&th[0], NULL, nothing, NULL));
	MUST(pthread_join(th[0], NULL));
	answered += look_up();
	for (int i = 0; i < WRITERS; i++)
		MUST(pthread_create(&th[i], NULL, rewrite, NULL));
	for (int i = 1; i < LOOKUPS; i++)
		answered += look_up();
	atomic_store(&stop, 1);
	long rewrites = 0;
	for (int i = 0; i < WRITERS; i++) {
		void *r;

		MUST(pthread_join(th[i], &r));
		rewrites += (long)(intptr_t)r;
	}
	pthread_rwlock_rdlock(&table_lock);
	long gen = generation;
	pthread_rwlock_unlock(&table_lock);
	CHECK(answered == LOOKUPS, "every lookup answered while threads rewrite the table (%d)",
	      LOOKUPS);
	CHECK(atomic_load(&overlaps) == 0, "no rewrite found a reader inside");
	CHECK(gen == rewrites, "every rewrite counted");
	CHECK(__atomic_load_n(&readers_seen, __ATOMIC_RELAXED) > 0, "the allocations read the table");
	return check_done();
}
