/* needs: private-tls */
/* Hazard: a program with 512 KiB of __thread data: glibc makes room for it
 * on every thread's stack (the default stack holds it and still leaves the
 * thread most of its size). Threads that fill their TLS and use 1 MiB of
 * locals run one after another and side by side. */
#define _GNU_SOURCE
#include <pthread.h>

#include "check.h"

static __thread char big[512 * 1024];

static void *fill(void *arg)
{
	volatile char locals[1 << 20];
	long n = (long)arg;

	memset(big, (int)n, sizeof(big));
	memset((char *)locals, 1, sizeof(locals));
	sched_yield();
	return (void *)(long)(big[sizeof(big) - 1] == (char)n && big[0] == (char)n &&
			      locals[100] == 1);
}

int main(void)
{
	pthread_t t[4];
	void *r;
	int good = 0;

	for (int round = 0; round < 2; round++) {
		for (long i = 0; i < 4; i++)
			MUST(pthread_create(&t[i], NULL, fill, (void *)(i + 1 + round * 4)));
		for (int i = 0; i < 4; i++) {
			MUST(pthread_join(t[i], &r));
			good += r != NULL;
		}
	}
	CHECK(good == 8, "8 threads each filled 512 KiB of TLS and 1 MiB of locals");
	CHECK(big[0] == 0, "main's TLS is its own");
	return check_done();
}
