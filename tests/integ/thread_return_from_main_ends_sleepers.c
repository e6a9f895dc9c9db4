/* expect: exit 3 */
/* Hazard: returning from main ends the process with all its threads, like
 * exit(): the runtime must not keep the process alive for threads that
 * still sleep (for a minute here; run-integ.sh runs each program under a
 * 30 s timeout), and main's return value is the exit status: 3 when all
 * checks hold. */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

static atomic_int started;

static void *sleep_a_minute(void *arg)
{
	atomic_fetch_add(&started, 1);
	sleep(60);
	printf("a sleeper outlived main's return\n");
	return arg;
}

int main(void)
{
	pthread_t t;
	pthread_attr_t attr;

	MUST(pthread_attr_init(&attr));
	MUST(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED));
	for (int i = 0; i < 5; i++) {
		MUST(pthread_create(&t, NULL, sleep_a_minute, NULL));
		MUST(pthread_create(&t, &attr, sleep_a_minute, NULL));
	}
	while (atomic_load(&started) < 10)
		sleep_ms(1);
	CHECK(1, "main returns while 10 threads (5 detached) sleep for a minute");
	return check_done() == 0 ? 3 : 1;
}
