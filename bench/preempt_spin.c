/* Spin-wait handoffs (issue 14): two threads pass a token ROUNDS times,
 * each waiting for its turn in a loop of the CPU's spin hint (x86 pause,
 * aarch64 yield) without any call, as a JVM's or a hand-made spin lock
 * does. On one core the waiter must give way for the other to run: the
 * kernel does it at its slice; greenify at the next preemption tick when
 * the waiter sits at the hint. Prints the time per handoff.
 *
 *   preempt_spin [ROUNDS]   (default 50) */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static atomic_int turn;
static int rounds = 50;

static inline void hint(void)
{
#if defined(__x86_64__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}

static void *player(void *arg)
{
	int me = (int)(long)arg;

	for (int i = 0; i < rounds; i++) {
		while (atomic_load_explicit(&turn, memory_order_acquire) != me)
			hint();
		atomic_store_explicit(&turn, !me, memory_order_release);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t a, b;
	struct timespec t0, t1;

	if (argc > 1)
		rounds = atoi(argv[1]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_create(&a, NULL, player, (void *)0L);
	pthread_create(&b, NULL, player, (void *)1L);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double us = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / 1e3;
	printf("rounds=%d us_per_handoff=%.1f total_ms=%.1f\n", rounds, us / (2.0 * rounds),
	       us / 1000);
	return 0;
}
