/* The raw context switch, without the scheduler: two contexts ping-pong
 * through gr_ctx_switch. Prints ns per one-way switch for the assembly and
 * the ucontext implementations, twice: with both contexts switching from
 * the same call site, as every green thread does (the scheduler has one),
 * and from two different call sites, where every return mispredicts. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#include "../../arch/ctx.h"

static struct gr_ctx a, b;
static ucontext_t a_uc;
static int two_sites;

/* Both contexts loop here: one call site for the switch. */
static void __attribute__((noinline)) pingpong(struct gr_ctx *from, struct gr_ctx *to, long n)
{
	for (long i = 0; i < n; i++)
		gr_ctx_switch(from, to);
}

static void other(void *arg)
{
	(void)arg;
	if (two_sites)
		for (;;)
			gr_ctx_switch(&b, &a);
	for (;;)
		pingpong(&b, &a, LONG_MAX);
}

static double run(int use_ucontext, int sites, long iters)
{
	struct timespec t0, t1;
	void *stack = mmap(NULL, 65536, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (gr_ctx_select(use_ucontext) != 0)
		return -1;
	two_sites = sites == 2;
	gr_ctx_init_current(&a, &a_uc);
	gr_ctx_make(&b, stack, 65536, other, NULL);
	gr_ctx_switch(&a, &b); /* warm up */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (two_sites)
		for (long i = 0; i < iters; i++)
			gr_ctx_switch(&a, &b);
	else
		pingpong(&a, &b, iters);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / (2.0 * iters);
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 10000000;
	double asm1 = gr_ctx_have_asm ? run(0, 1, iters) : -1;
	double asm2 = gr_ctx_have_asm ? run(0, 2, iters) : -1;
	double uc1 = run(1, 1, iters / 10);

	printf("micro_switch iters=%ld asm_ns_per_switch=%.2f (one call site) %.2f (two call "
	       "sites) ucontext_ns_per_switch=%.2f\n",
	       iters, asm1, asm2, uc1);
	return 0;
}
