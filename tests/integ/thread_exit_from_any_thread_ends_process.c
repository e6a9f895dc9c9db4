/* expect: exit 4 */
/* Hazard: exit() from any thread ends the whole process at once, with
 * atexit handlers and stdio flushing, even while main is parked in
 * pthread_join and other threads sleep for a minute: the runtime must not
 * wait for them, and the status is exit's: 4 when all checks hold.
 * (run-integ.sh runs each program under a 30 s timeout.) */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

static void *sleep_a_minute(void *arg)
{
	sleep(60);
	printf("a sleeper outlived exit()\n");
	return arg;
}

static void *exit_soon(void *arg)
{
	(void)arg;
	sleep_ms(50);
	CHECK(1, "a thread calls exit(4) while main joins a sleeper");
	exit(check_done() == 0 ? 4 : 1);
}

static void at_exit(void)
{
	printf("atexit handler ran\n");
}

int main(void)
{
	pthread_t sleepers[10], t;

	MUST(atexit(at_exit));
	for (int i = 0; i < 10; i++)
		MUST(pthread_create(&sleepers[i], NULL, sleep_a_minute, NULL));
	MUST(pthread_create(&t, NULL, exit_soon, NULL));
	MUST(pthread_join(sleepers[0], NULL));
	printf("main's join of a sleeper returned\n");
	return 1;
}
