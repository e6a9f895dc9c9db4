/* needs: private-tls */
/* Hazard: a program with a large .tbss (256 KiB of zero-initialised
 * __thread data). glibc gives every new thread zeros there; green threads
 * reuse stack slots, and a fresh slot's untouched pages are zero already,
 * so the clearing is easy to skip in the wrong case. A thread that sees its
 * predecessor's bytes computes with stale state.
 *   3 threads alive at once fill the whole array with their own byte,
 *   sleep, and check it is still theirs;
 *   then 300 threads one after another (each reusing a slot a previous
 *   one filled) each find all zeros first, fill it, and check it after a
 *   sleep. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

enum { BIG = 256 * 1024, TOGETHER = 3, AFTER = 300 };

static __thread unsigned char big[BIG];

static int not_zero, not_kept;

static void *worker(void *arg)
{
	unsigned char mine = (unsigned char)(1 + (intptr_t)arg % 250);

	for (size_t k = 0; k < BIG; k += 512)
		if (big[k] || big[k + 511]) {
			not_zero++;
			break;
		}
	memset(big, mine, sizeof big);
	sleep_ms(2);
	for (size_t k = 0; k < BIG; k += 512)
		if (big[k] != mine || big[k + 511] != mine) {
			not_kept++;
			break;
		}
	return NULL;
}

int main(void)
{
	pthread_t t[TOGETHER];

	alarm(60);
	for (long i = 0; i < TOGETHER; i++)
		MUST(pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i));
	for (int i = 0; i < TOGETHER; i++)
		MUST(pthread_join(t[i], NULL));
	for (long i = 0; i < AFTER; i++) {
		pthread_t one;
		MUST(pthread_create(&one, NULL, worker, (void *)(intptr_t)(i + TOGETHER)));
		MUST(pthread_join(one, NULL));
	}
	CHECK(not_zero == 0, "every thread finds its 256 KiB .tbss zero (%d did not)", not_zero);
	CHECK(not_kept == 0, "every thread keeps its own bytes across a sleep");
	CHECK(big[0] == 0 && big[BIG - 1] == 0, "main's copy untouched");
	return check_done();
}
