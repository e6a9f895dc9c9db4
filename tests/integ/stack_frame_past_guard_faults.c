/* expect: signal SIGSEGV */
/* Hazard: a frame that reaches past the end of a thread's stack must fault
 * in the guard, not land in whatever lies below (another thread's stack).
 * The thread has a 64 KiB stack and asks for a 1 MiB guard; its frame of
 * 512 KiB writes first at its far end, inside the guard: the process dies
 * of SIGSEGV, as natively. A second thread sleeps meanwhile. */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

static void *sleeper(void *arg)
{
	(void)arg;
	for (;;)
		sleep(1);
	return NULL;
}

static void __attribute__((noinline)) big_frame(void)
{
	volatile char frame[512 * 1024];

	frame[0] = 1; /* the lowest byte: 448 KiB below the stack */
	frame[sizeof(frame) - 1] = 2;
}

static void *overflow(void *arg)
{
	(void)arg;
	big_frame();
	return NULL;
}

int main(void)
{
	pthread_attr_t a;
	pthread_t s, t;

	printf("about to overflow\n");
	fflush(stdout);
	MUST(pthread_create(&s, NULL, sleeper, NULL));
	MUST(pthread_attr_init(&a));
	MUST(pthread_attr_setstacksize(&a, 64 * 1024));
	MUST(pthread_attr_setguardsize(&a, 1024 * 1024));
	MUST(pthread_create(&t, &a, overflow, NULL));
	pthread_join(t, NULL);
	printf("survived\n");
	return 0;
}
