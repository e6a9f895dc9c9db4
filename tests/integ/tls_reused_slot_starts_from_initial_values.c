/* needs: private-tls */
/* Hazard: a green thread's TLS block sits in a stack slot that the next
 * thread reuses, and only what the last thread wrote is cleared (a fresh
 * slot's never-touched pages are zero already). If a write escapes the
 * clearing, a thread starts with its predecessor's values: __thread
 * variables not at their initializers, .tbss not zero, errno not 0, the
 * unwinder's state of a thread that left by pthread_exit or cancellation.
 *   2,000 threads one after another (each reuses the slot of the one
 *   before), leaving in turn by return, by pthread_exit with a cleanup
 *   handler, and cancelled in a sleep with a cleanup handler: each first
 *   checks its .tdata (an int and a 3,000-byte buffer with a pattern),
 *   .tbss (4,000 bytes) and errno, then writes all of them;
 *   meanwhile a second thread keeps its own values across the switches;
 *   every cleanup handler runs once, every join gets its own value. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

enum { THREADS = 2000, DATA = 3000, BSS = 4000 };

static __thread int tv_int = 42;
static __thread unsigned char tv_data[DATA] = {[0] = 1, [1499] = 2, [DATA - 1] = 3};
static __thread unsigned char tv_bss[BSS];

static int fresh_bad, cleanups, joined_bad, keeper_bad;
static volatile int stop;

static int starts_fresh(void)
{
	int ok = tv_int == 42 && errno == 0;

	for (int k = 0; k < DATA; k++)
		ok &= tv_data[k] == (k == 0 ? 1 : k == 1499 ? 2 : k == DATA - 1 ? 3 : 0);
	for (int k = 0; k < BSS; k++)
		ok &= tv_bss[k] == 0;
	return ok;
}

static void dirty(long i)
{
	tv_int = (int)i;
	memset(tv_data, 0xA5, sizeof tv_data);
	memset(tv_bss, 0x5A, sizeof tv_bss);
	errno = EIO;
}

static void cleanup(void *arg)
{
	(void)arg;
	cleanups++;
}

static void *worker(void *arg)
{
	long i = (long)(intptr_t)arg;
	void *ret = (void *)(intptr_t)(i + 1);

	if (!starts_fresh())
		fresh_bad++;
	dirty(i);
	switch (i % 3) {
	case 0:
		return ret;
	case 1:
		pthread_cleanup_push(cleanup, NULL);
		pthread_exit(ret);
		pthread_cleanup_pop(0);
		break;
	default:
		pthread_cleanup_push(cleanup, NULL);
		for (;;)
			sleep_ms(1000); /* cancelled here */
		pthread_cleanup_pop(0);
	}
	return NULL;
}

static void *keeper(void *arg)
{
	(void)arg;
	tv_int = -1;
	memset(tv_bss, 7, sizeof tv_bss);
	while (!stop) {
		sleep_ms(1);
		if (tv_int != -1 || tv_bss[0] != 7 || tv_bss[BSS - 1] != 7)
			keeper_bad++;
	}
	return NULL;
}

int main(void)
{
	pthread_t k;
	int want_cleanups = 0;

	alarm(60);
	MUST(pthread_create(&k, NULL, keeper, NULL));
	for (long i = 0; i < THREADS; i++) {
		pthread_t t;
		void *r;
		MUST(pthread_create(&t, NULL, worker, (void *)(intptr_t)i));
		want_cleanups += i % 3 != 0;
		if (i % 3 == 2) {
			sleep_ms(0);
			MUST(pthread_cancel(t));
		}
		MUST(pthread_join(t, &r));
		if (r != (i % 3 == 2 ? PTHREAD_CANCELED : (void *)(intptr_t)(i + 1)))
			joined_bad++;
	}
	stop = 1;
	MUST(pthread_join(k, NULL));
	CHECK(fresh_bad == 0, "every thread starts at the initializers, zeros and errno 0 (%d did not)",
	      fresh_bad);
	CHECK(cleanups == want_cleanups,
	      "every pthread_exit and cancellation ran its cleanup handler once");
	CHECK(joined_bad == 0, "every join got that thread's value");
	CHECK(keeper_bad == 0, "the other thread kept its own values across the switches");
	CHECK(tv_int == 42 && tv_bss[0] == 0, "main's TLS untouched");
	return check_done();
}
