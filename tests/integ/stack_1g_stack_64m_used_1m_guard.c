/* Hazard: a thread asks for a 1 GiB stack with a 1 MiB guard and uses 64
 * MiB of it; pthread_getattr_np reports the stack size and the guard size
 * it asked for; a second such thread runs beside it. */
#define _GNU_SOURCE
#include <pthread.h>

#include "check.h"

#define MIB ((size_t)1 << 20)

static pthread_barrier_t both;

static void *use(void *arg)
{
	char *p = __builtin_alloca(64 * MIB);
	pthread_attr_t a;
	size_t size = 0, guard = 0;

	for (size_t i = 0; i < 64 * MIB; i += 4096)
		p[i] = (char)(i >> 12);
	pthread_barrier_wait(&both);
	MUST(pthread_getattr_np(pthread_self(), &a));
	MUST(pthread_attr_getstacksize(&a, &size));
	MUST(pthread_attr_getguardsize(&a, &guard));
	pthread_attr_destroy(&a);
	(void)arg;
	return (void *)(long)(size >= 1024 * MIB && guard == MIB && p[64 * MIB - 4096] == (char)(16383));
}

int main(void)
{
	pthread_attr_t a;
	pthread_t t[2];
	void *r;
	int good = 0;

	MUST(pthread_barrier_init(&both, NULL, 2));
	MUST(pthread_attr_init(&a));
	MUST(pthread_attr_setstacksize(&a, 1024 * MIB));
	MUST(pthread_attr_setguardsize(&a, MIB));
	for (int i = 0; i < 2; i++)
		MUST(pthread_create(&t[i], &a, use, NULL));
	for (int i = 0; i < 2; i++) {
		MUST(pthread_join(t[i], &r));
		good += r != NULL;
	}
	CHECK(good == 2, "two 1 GiB stacks, 64 MiB used each, 1 MiB guards reported");
	pthread_attr_destroy(&a);
	return check_done();
}
