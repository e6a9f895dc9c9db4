/* Hazard: the runtime starts a worker thread (for a call with no
 * readiness: an NSS lookup, a file lock) when a job finds none idle, from
 * the green thread whose call it is, in glibc's pthread_create, which
 * calls the program's calloc (the new thread's DTV). A program's malloc
 * that takes a pthread mutex (jemalloc's), held at that moment by a thread
 * asleep inside it, parks that green thread there: it did so holding the
 * workers' queue lock (glibc's), and the next thread to submit a job (or
 * the loop handing one back) waited for that lock in the kernel on the one
 * OS thread, for good.
 *   A thread mallocs with a flag set that makes its heap_enter sleep 100 ms
 *   holding the heap's mutex; once it is in there, main makes the
 *   process's first getpwnam("root") (the first worker's start under the
 *   preload): it waits for the mutex, as natively, and is answered (uid
 *   0); so is a second thread's getpwnam, made once main's has begun; the
 *   sleeper's malloc succeeds too, and a last lookup is answered. */
#define _GNU_SOURCE
#include <pwd.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"

static pthread_mutex_t heap_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread int sleep_in_heap; /* this thread's next heap_enter sleeps */
static atomic_int asleep;	   /* the sleeper holds the heap's mutex */
static atomic_int looking_up;	   /* main's first lookup has begun */

static void heap_enter(void)
{
	pthread_mutex_lock(&heap_lock);
	if (sleep_in_heap) {
		struct timespec ts = {0, 100 * 1000000};

		sleep_in_heap = 0;
		atomic_store(&asleep, 1);
		nanosleep(&ts, NULL);
	}
}

static void heap_leave(void)
{
	pthread_mutex_unlock(&heap_lock);
}

#include "program_malloc.h"

static void *sleeper(void *arg)
{
	(void)arg;
	sleep_in_heap = 1;
	void *p = malloc(64);
	int ok = p != NULL;
	free(p);
	return (void *)(intptr_t)ok;
}

static int lookup_root(void)
{
	struct passwd *pw = getpwnam("root");

	return pw && pw->pw_uid == 0;
}

static void *looker(void *arg)
{
	(void)arg;
	wait_above(&looking_up, 0);
	return (void *)(intptr_t)lookup_root();
}

int main(void)
{
	pthread_t th, other;
	void *r, *second;

	alarm(20); /* the hang guard: the hang blocked the process for good */
	MUST(pthread_create(&other, NULL, looker, NULL));
	MUST(pthread_create(&th, NULL, sleeper, NULL));
	wait_above(&asleep, 0);
	atomic_store(&looking_up, 1);
	int first = lookup_root();
	MUST(pthread_join(th, &r));
	MUST(pthread_join(other, &second));
	CHECK(first, "the first lookup, made while a thread sleeps holding malloc's mutex, "
		     "is answered");
	CHECK(second == (void *)1, "the lookup another thread made meanwhile is answered");
	CHECK(r == (void *)1, "the sleeper's malloc succeeded");
	CHECK(lookup_root(), "a last lookup is answered");
	return check_done();
}
