/* Hazard: a program's own malloc, as jemalloc (which redis-server links)
 * is one: it takes a pthread mutex, and it keeps a record per thread in
 * TLS, linked on a global list its other calls walk.
 *
 *   mutex: the runtime calls malloc while it starts, inside the first
 *          pthread_create, on the thread that becomes the runtime thread,
 *          where the lock must be a plain one. When the hooks took that
 *          thread for a foreign OS thread (the runtime looked started, the
 *          thread was not yet marked as the runtime's), the lock waited for
 *          the hub to switch locks to the atomic way, which it could not:
 *          the first pthread_create never returned.
 *   list:  the runtime must not call the program's malloc with the thread
 *          pointer on TLS of its own that it then unmaps (its probe for
 *          glibc's per-thread cache did): the record linked there was
 *          left on the list, and the next walk of it faulted.
 *   key:   the malloc sets a key's value at a thread's first call, under
 *          its mutex (jemalloc registers its cleanup so): the runtime's
 *          table for green threads' values came from malloc, the same
 *          mutex, and the thread waited for itself.
 *   own:   an OS thread the runtime makes for itself (libuv's pool, which
 *          a getaddrinfo starts) must not call the program's malloc before
 *          it is marked as the runtime's: its free of its start record
 *          took the program's mutex as a foreign thread's, which waits for
 *          the hub, and the hub waited for the pool's threads to start
 *          (node with jemalloc preloaded hung at its first lookup).
 *
 * This program's malloc, calloc, realloc and free wrap glibc's under a
 * mutex taken with trylock, then lock, as jemalloc's are, and link each
 * thread's record at its first call (a key's destructor unlinks it at the
 * thread's end, for good, as jemalloc's purgatory state); four threads
 * allocate and free beside main, every block keeps its contents, and the
 * list, walked at each thread's first call and at the end, holds only
 * records that are whole; then a lookup starts libuv's pool. */
#define _GNU_SOURCE
#include <netdb.h>
#include <pthread.h>
#include <sys/socket.h>

#include "check.h"


enum { THREADS = 4, ROUNDS = 2000 };

enum { MAGIC = 0x7e11, ENDED = 0xdead };

struct rec {
	int magic;	  /* MAGIC while linked, ENDED once unlinked for good */
	struct rec *next; /* on records, under heap_lock */
};

static pthread_mutex_t heap_lock = PTHREAD_MUTEX_INITIALIZER;
static long locked_calls;     /* under heap_lock */
static struct rec *records;   /* every thread's that has called, under heap_lock */
static long bad_records;      /* under heap_lock: records found not whole */
static pthread_key_t rec_key; /* unlinks a thread's record at its end */
static int have_key;	      /* under heap_lock */
static __thread struct rec me;

/* Under heap_lock. */
static void walk_records(void)
{
	for (struct rec *r = records; r; r = r->next)
		bad_records += r->magic != MAGIC;
}

static void unlink_rec(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&heap_lock);
	for (struct rec **p = &records; *p; p = &(*p)->next)
		if (*p == &me) {
			*p = me.next;
			break;
		}
	me.magic = ENDED; /* a later free of this thread's does not link it again */
	pthread_mutex_unlock(&heap_lock);
}

static void heap_enter(void)
{
	if (pthread_mutex_trylock(&heap_lock) != 0)
		pthread_mutex_lock(&heap_lock);
	locked_calls++;
	if (me.magic == 0) {
		walk_records();
		me.magic = MAGIC;
		me.next = records;
		records = &me;
		if (!have_key)
			have_key = pthread_key_create(&rec_key, unlink_rec) == 0;
		if (have_key)
			pthread_setspecific(rec_key, &me);
	}
}

static void heap_leave(void)
{
	pthread_mutex_unlock(&heap_lock);
}

#include "program_malloc.h"

/* Allocates, fills, grows and frees blocks; the count of blocks whose
 * contents survived. */
static void *churn(void *arg)
{
	long seed = (long)(intptr_t)arg, intact = 0;

	for (int i = 0; i < ROUNDS; i++) {
		size_t n = 16 + (size_t)((seed * 31 + i * 7) % 500);
		unsigned char *p = malloc(n);

		if (!p)
			continue;
		memset(p, (int)(seed + i) & 0xff, n);
		unsigned char *q = realloc(p, n * 2);

		if (!q) {
			free(p);
			continue;
		}
		int ok = 1;

		for (size_t j = 0; j < n; j++)
			ok &= q[j] == (unsigned char)((seed + i) & 0xff);
		intact += ok;
		free(q);
	}
	return (void *)(intptr_t)intact;
}

int main(void)
{
	pthread_t th[THREADS];
	long intact = 0;
	int created = 0;

	for (int i = 0; i < THREADS; i++)
		created += pthread_create(&th[i], NULL, churn, (void *)(intptr_t)(i + 1)) == 0;
	CHECK(created == THREADS, "the first pthread_create returns and %d threads start", THREADS);
	intact += (long)(intptr_t)churn((void *)(intptr_t)0);
	for (int i = 0; i < created; i++) {
		void *r;

		MUST(pthread_join(th[i], &r));
		intact += (long)(intptr_t)r;
	}
	CHECK(intact == (long)(THREADS + 1) * ROUNDS, "every block kept its contents (%d rounds)",
	      (THREADS + 1) * ROUNDS);
	/* Once the others have ended: with green threads taking the program's
	 * mutex meanwhile, the lookup's own mallocs there are another hazard
	 * (memory_program_malloc_mutex_taken_by_name_lookup.c). */
	struct addrinfo hints = {.ai_family = AF_INET, .ai_flags = AI_NUMERICHOST}, *ai = NULL;
	int gai = getaddrinfo("127.0.0.1", NULL, &hints, &ai);

	CHECK(gai == 0 && ai && ai->ai_family == AF_INET, "getaddrinfo of 127.0.0.1 answers");
	if (ai)
		freeaddrinfo(ai);
	pthread_mutex_lock(&heap_lock);
	long calls = locked_calls;
	pthread_mutex_unlock(&heap_lock);
	CHECK(calls >= (long)(THREADS + 1) * ROUNDS * 3, "every call took the heap's mutex");
	pthread_mutex_lock(&heap_lock);
	walk_records();
	long bad = bad_records;
	pthread_mutex_unlock(&heap_lock);
	CHECK(bad == 0, "every thread record on the list is whole");
	return check_done();
}
