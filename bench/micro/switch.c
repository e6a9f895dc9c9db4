/* The raw context switch, without the scheduler: two contexts ping-pong
 * through gr_ctx_switch. Prints ns per one-way switch for the assembly and
 * the ucontext implementations. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#include "../../arch/ctx.h"

static struct gr_ctx a, b;
static ucontext_t a_uc;

static void other(void *arg)
{
	(void)arg;
	for (;;)
		gr_ctx_switch(&b, &a);
}

static double run(int use_ucontext, long iters)
{
	struct timespec t0, t1;
	void *stack = mmap(NULL, 65536, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (gr_ctx_select(use_ucontext) != 0)
		return -1;
	gr_ctx_init_current(&a, &a_uc);
	gr_ctx_make(&b, stack, 65536, other, NULL);
	gr_ctx_switch(&a, &b); /* warm up */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < iters; i++)
		gr_ctx_switch(&a, &b);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / (2.0 * iters);
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 10000000;
	double asm_ns = gr_ctx_have_asm ? run(0, iters) : -1;
	double uc_ns = run(1, iters / 10);

	printf("micro_switch iters=%ld asm_ns_per_switch=%.2f ucontext_ns_per_switch=%.2f\n",
	       iters, asm_ns, uc_ns);
	return 0;
}
