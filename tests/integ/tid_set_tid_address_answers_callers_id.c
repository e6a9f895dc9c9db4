/* Hazard: set_tid_address answers the calling thread's id, and a program
 * may compare it with gettid: stress-ng's pthread stressor gets its
 * thread's clear-child-tid address with prctl(PR_GET_TID_ADDRESS), sets it
 * again, and fails the run when the answer is not gettid's. Under the
 * preload the kernel would answer the OS thread's id, which only main's
 * shares. Main and 4 threads each do what stress-ng does; every answer is
 * the caller's gettid, and every thread is joined (the address each
 * thread set is the one glibc's join waits on). */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

enum { THREADS = 4 };

static atomic_int wrong, asked;

static void *set_again(void *arg)
{
	unsigned long addr = 0;

	if (prctl(PR_GET_TID_ADDRESS, &addr, 0, 0, 0) == 0 && addr) {
		long tid = syscall(SYS_set_tid_address, addr);
		atomic_fetch_add(&asked, 1);
		if (tid != gettid())
			atomic_fetch_add(&wrong, 1);
	}
	return arg;
}

int main(void)
{
	pthread_t t[THREADS];

	alarm(20);
	set_again(NULL);
	for (int i = 0; i < THREADS; i++)
		MUST(pthread_create(&t[i], NULL, set_again, NULL));
	for (int i = 0; i < THREADS; i++)
		MUST(pthread_join(t[i], NULL));
	CHECK(atomic_load(&asked) == THREADS + 1, "main and %d threads set their address again",
	      THREADS);
	CHECK(atomic_load(&wrong) == 0, "each answer is the caller's gettid");
	return check_done();
}
