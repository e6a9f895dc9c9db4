#define _GNU_SOURCE
/* Hazard: threads that compute without calling anything keep the one OS
 * thread. Two threads each run a loop of vector arithmetic with eight
 * 256-bit (AVX2, else 128-bit SSE2; NEON on aarch64) accumulators live in
 * registers, and no
 * call in the loop, while a ticker thread sleeps 1 ms and counts. Natively
 * the kernel preempts them; under the preload the runtime must, and must
 * give each loop its registers back exactly: the checksums are the same
 * as natively. Then a spinner waits in a pure loop for the ticker to tick
 * 20 more times: without preemption it would wait forever. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "check.h"

typedef uint32_t v8u __attribute__((vector_size(32)));
typedef uint32_t v4u __attribute__((vector_size(16)));

static atomic_int ticks;
static atomic_int stop;

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

#if defined(__aarch64__)
#define ITERS 15000000u /* under qemu-user too */
#else
#define ITERS 60000000u
#endif

#if defined(__x86_64__)
#define AVX2 __attribute__((target("avx2"), noinline))
#else
#define AVX2 __attribute__((noinline)) /* aarch64: NEON registers, 2 x 128 bits */
#endif

/* One mixing function, for a vector type of LANES 32-bit lanes: eight
 * independent chains, all in vector registers for the whole loop. */
#define MIX(NAME, ATTRS, VTYPE, LANES, ...)                                  \
	ATTRS static uint32_t NAME(uint32_t seed)                            \
	{                                                                    \
		VTYPE a[8], m = {__VA_ARGS__};                               \
		uint32_t sum = 0;                                            \
                                                                             \
		for (int i = 0; i < 8; i++)                                  \
			for (int j = 0; j < (LANES); j++)                    \
				a[i][j] = seed + (uint32_t)(i * (LANES) + j); \
		for (uint32_t n = 0; n < ITERS; n++) {                       \
			a[0] = a[0] * m + 1013904223u;                       \
			a[1] = a[1] * m + 12345u;                            \
			a[2] = (a[2] ^ (a[2] >> 7)) * m;                     \
			a[3] = a[3] * m + a[0];                              \
			a[4] = (a[4] + a[1]) * m;                            \
			a[5] = a[5] * m ^ a[2];                              \
			a[6] = (a[6] << 3) + a[3] * m;                       \
			a[7] = a[7] * m + a[4] + a[5] + a[6];                \
		}                                                            \
		for (int i = 0; i < 8; i++)                                  \
			for (int j = 0; j < (LANES); j++)                    \
				sum = sum * 31u + a[i][j];                   \
		return sum;                                                  \
	}

MIX(mix_avx2, AVX2, v8u, 8, 1664525u, 22695477u, 1103515245u, 134775813u, 214013u, 69069u, 1u, 3u)
MIX(mix_sse2, __attribute__((noinline)), v4u, 4, 1664525u, 22695477u, 1103515245u, 134775813u)

static int have_avx2;

struct job {
	uint32_t seed, want, got;
	int ticks_during;
};

static void *compute(void *arg)
{
	struct job *j = arg;
	int before = atomic_load(&ticks);

	j->got = have_avx2 ? mix_avx2(j->seed) : mix_sse2(j->seed);
	j->ticks_during = atomic_load(&ticks) - before;
	return NULL;
}

static int spun_until;

static void *spinner(void *arg)
{
	int until = atomic_load(&ticks) + 20, now;

	(void)arg;
	while ((now = atomic_load(&ticks)) < until) {
		/* A pure loop: no call at all. */
	}
	spun_until = now - until;
	return NULL;
}

int main(void)
{
	pthread_t tk, c[2], sp;
	struct job jobs[2] = {{.seed = 7}, {.seed = 1000003}};

#if defined(__x86_64__)
	__builtin_cpu_init();
	have_avx2 = __builtin_cpu_supports("avx2");
#endif
	/* The reference, computed here alone first. */
	for (int i = 0; i < 2; i++)
		jobs[i].want = have_avx2 ? mix_avx2(jobs[i].seed) : mix_sse2(jobs[i].seed);
	pthread_create(&tk, NULL, ticker, NULL);
	for (int i = 0; i < 2; i++)
		pthread_create(&c[i], NULL, compute, &jobs[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(c[i], NULL);
	for (int i = 0; i < 2; i++) {
		CHECK(jobs[i].got == jobs[i].want, "computing thread %d: registers kept (checksum)",
		      i);
		fprintf(stderr, "thread %d: %d ticks while it computed\n", i, jobs[i].ticks_during);
	}
	CHECK(jobs[0].ticks_during > 0 || jobs[1].ticks_during > 0,
	      "the ticker ticked while the others computed");
	pthread_create(&sp, NULL, spinner, NULL);
	pthread_join(sp, NULL);
	CHECK(spun_until >= 0, "a pure spin loop saw the ticker tick 20 times");
	atomic_store(&stop, 1);
	pthread_join(tk, NULL);
	return check_done();
}
