/* Hazard: the process's first name lookup starts libuv's pool, whose
 * threads glibc's pthread_create makes, and it calls the program's calloc
 * (the new thread's DTV). A program's malloc that takes a pthread mutex
 * (jemalloc's), held at that moment by a thread that computes inside it
 * and was preempted there: the pool was started from the runtime's own
 * code on the one OS thread, where the program's lock calls are glibc's,
 * so the lookup's calloc waited in the kernel for a holder that could
 * never run again (the whole process hung for good).
 *   A thread mallocs with a flag set that makes its heap_enter compute,
 *   holding the heap's mutex and calling nothing, until main says it is
 *   about to look up, then 50 ms more; main, once that thread is in
 *   there, makes the process's first getaddrinfo (of 127.0.0.1): it waits
 *   for the mutex, as natively, and is answered; the computing thread's
 *   malloc succeeds too, and a second lookup is answered. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

static pthread_mutex_t heap_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread int compute_in_heap; /* this thread's next heap_enter computes */
static unsigned long turns_50ms;     /* spin_turns for 50 ms of CPU */
static atomic_int computing;	     /* the computing thread holds the heap's mutex */
static atomic_int looking_up;	     /* main is about to make its first lookup */

static void heap_enter(void)
{
	pthread_mutex_lock(&heap_lock);
	if (compute_in_heap) {
		compute_in_heap = 0;
		atomic_store(&computing, 1);
		while (!atomic_load_explicit(&looking_up, memory_order_relaxed))
			spin_turns(1000);
		spin_turns(turns_50ms);
	}
}

static void heap_leave(void)
{
	pthread_mutex_unlock(&heap_lock);
}

#include "program_malloc.h"

static void *computer(void *arg)
{
	(void)arg;
	turns_50ms = spin_turns_per_ms() * 50;
	compute_in_heap = 1;
	void *p = malloc(64);
	int ok = p != NULL;
	free(p);
	return (void *)(intptr_t)ok;
}

static int lookup_loopback(void)
{
	struct addrinfo hints = {.ai_family = AF_INET, .ai_flags = AI_NUMERICHOST}, *ai = NULL;
	int ok = getaddrinfo("127.0.0.1", NULL, &hints, &ai) == 0 && ai &&
		 ntohl(((struct sockaddr_in *)ai->ai_addr)->sin_addr.s_addr) == INADDR_LOOPBACK;

	if (ai)
		freeaddrinfo(ai);
	return ok;
}

int main(void)
{
	pthread_t th;
	void *r;

	alarm(20); /* the hang guard: the hang blocked the process for good */
	MUST(pthread_create(&th, NULL, computer, NULL));
	wait_above(&computing, 0);
	atomic_store(&looking_up, 1);
	int first = lookup_loopback();
	MUST(pthread_join(th, &r));
	CHECK(first, "the first lookup, made while a thread computes holding malloc's mutex, "
		     "is answered");
	CHECK(r == (void *)1, "the computing thread's malloc succeeded");
	CHECK(lookup_loopback(), "a second lookup is answered");
	return check_done();
}
