/* expect: signal SIGSEGV */
/* expect-stderr-preload: greenify: stack overflow in green thread */
/* Hazard: a green thread that runs off the end of its stack must not
 * scribble over a neighbour's stack or the runtime's memory.  Unbounded
 * recursion in a thread with a 64 KiB stack hits the guard page: natively
 * the process dies of SIGSEGV, and under the preload too, after the library
 * has said on stderr which green thread overflowed. */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <unistd.h>

#include "check.h"

static atomic_int depth_reached;

/* 1 KiB frames, and work after the call, so it is no tail call and no loop. */
__attribute__((noinline)) static long recurse(long depth)
{
	volatile char frame[1024];

	frame[0] = (char)depth;
	frame[sizeof frame - 1] = (char)depth;
	atomic_store(&depth_reached, (int)depth);
	if (depth > (1L << 40))
		return depth;
	return recurse(depth + 1) + frame[0] + frame[sizeof frame - 1];
}

static void *overflow(void *arg)
{
	(void)arg;
	return (void *)recurse(0);
}

int main(void)
{
	pthread_t t;
	pthread_attr_t attr;

	MUST(pthread_attr_init(&attr));
	/* 64 KiB, or the platform's minimum where that is more (aarch64: 128 KiB). */
	MUST(pthread_attr_setstacksize(&attr, 64 * 1024 < PTHREAD_STACK_MIN ? PTHREAD_STACK_MIN
								       : 64 * 1024));
	printf("a thread with a 64 KiB stack recurses without end\n");
	fflush(stdout);
	MUST(pthread_create(&t, &attr, overflow, NULL));
	MUST(pthread_join(t, NULL));
	/* Not reached. */
	printf("survived a stack overflow at depth %d\n", atomic_load(&depth_reached));
	return 1;
}
