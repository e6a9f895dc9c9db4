/* Hazard: a program's own malloc that takes a pthread mutex (jemalloc),
 * called by a name lookup on libuv's pool (an OS thread of the runtime's
 * own) while green threads take and wait for that mutex on the runtime
 * thread. Found with node under
 * LD_PRELOAD="libjemalloc.so.2 libgreenify.so" (fs, crypto and dns.lookup
 * at once): the pool thread waited in glibc's lock in the kernel for
 * ever, and the thread whose lookup it ran with it (in 8 runs of 10 here,
 * in the default mode). Two causes:
 *   pool: the pool thread's hooks passed its lock calls straight to glibc
 *         as the runtime's own, so neither side followed the
 *         foreign-thread protocol (the plain way's unlock issues no
 *         FUTEX_WAKE, glibc's does not tell green waiters). A pool
 *         thread is now a foreign thread while it runs a job
 *         (runtime/pool.c).
 *   hub:  the hub freed an ended thread's TLS (glibc's _dl_deallocate_tls
 *         calls the program's free) and took the mutex as a green thread
 *         with the hub's holder id, 0, which its unlock then took for
 *         "not locked" and left as it was: locked, holder 0, for good.
 *         The plain way reads that as free; once the pool thread turned
 *         the atomic way on, every locker waited in the kernel for ever
 *         (the word at 2, no owner, no green thread left). The next green
 *         thread to run frees it now (runtime/sched.c).
 * Four threads malloc and free beside main's 200 lookups of 127.0.0.1;
 * every lookup is answered, every malloc succeeds. */
#define _GNU_SOURCE
#include <netdb.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"


enum { THREADS = 4, ROUNDS = 20000, LOOKUPS = 200 };

static pthread_mutex_t heap_lock = PTHREAD_MUTEX_INITIALIZER;

static void heap_enter(void)
{
	if (pthread_mutex_trylock(&heap_lock) != 0)
		pthread_mutex_lock(&heap_lock);
}

static void heap_leave(void)
{
	pthread_mutex_unlock(&heap_lock);
}

#include "program_malloc.h"

static void *churn(void *arg)
{
	long done = 0;

	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		void *p = malloc(16 + (size_t)(i % 300));

		done += p != NULL;
		free(p);
	}
	return (void *)(intptr_t)done;
}

int main(void)
{
	pthread_t th[THREADS];
	long done = 0;
	int answered = 0;

	alarm(20);
	for (int i = 0; i < THREADS; i++)
		MUST(pthread_create(&th[i], NULL, churn, NULL));
	for (int i = 0; i < LOOKUPS; i++) {
		struct addrinfo hints = {.ai_family = AF_INET, .ai_flags = AI_NUMERICHOST},
				*ai = NULL;

		if (getaddrinfo("127.0.0.1", NULL, &hints, &ai) == 0 && ai)
			answered++;
		if (ai)
			freeaddrinfo(ai);
	}
	for (int i = 0; i < THREADS; i++) {
		void *r;

		MUST(pthread_join(th[i], &r));
		done += (long)(intptr_t)r;
	}
	CHECK(answered == LOOKUPS, "every lookup answered while threads malloc (%d)", LOOKUPS);
	CHECK(done == (long)THREADS * ROUNDS, "every thread's mallocs succeeded");
	return check_done();
}
