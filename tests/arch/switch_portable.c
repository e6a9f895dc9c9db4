/* The context switch on its own, for architectures we can only emulate
 * (aarch64 under qemu-user): no Check, no libuv, just arch/. Checks that
 * control moves between stacks, callee-saved values survive, and each
 * context keeps its own rounding mode. Prints "N passed, M failed". */
#include <fenv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "../../arch/ctx.h"

static struct gr_ctx main_ctx, co_ctx;
static ucontext_t main_uc;
static int passed, failed;
static int co_seen_round, co_steps;

#define CHECK(cond)                                                         \
	do {                                                                \
		if (cond)                                                   \
			passed++;                                           \
		else {                                                      \
			failed++;                                           \
			printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		}                                                           \
	} while (0)

static void co(void *arg)
{
	uint64_t acc = (uintptr_t)arg;

	co_seen_round = fegetround();
	fesetround(FE_TOWARDZERO);
	for (;;) {
		acc = acc * 31 + 7;
		co_steps++;
		gr_ctx_switch(&co_ctx, &main_ctx);
		if (fegetround() != FE_TOWARDZERO)
			co_seen_round = -1;
		if (acc == 0)
			abort();
	}
}

static void run(int use_ucontext)
{
	void *stack = mmap(NULL, 65536, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t a = 1, b = 2, c = 3;

	co_steps = 0;
	CHECK(gr_ctx_select(use_ucontext) == 0);
	gr_ctx_fpu_changing(); /* this test changes the rounding mode */
	gr_ctx_init_current(&main_ctx, &main_uc);
	fesetround(FE_UPWARD);
	gr_ctx_make(&co_ctx, stack, 65536, co, (void *)5);
	fesetround(FE_DOWNWARD);
	for (int i = 0; i < 1000; i++) {
		gr_ctx_switch(&main_ctx, &co_ctx);
		a += b;
		b += c;
		c += 1;
	}
	CHECK(co_steps == 1000);
	CHECK(co_seen_round == FE_UPWARD);
	CHECK(fegetround() == FE_DOWNWARD);
	CHECK(a == 1 + 1000 * 2 + 3 * 1000 * 999 / 2 + 999 * 998 * 1000 / 6);
	CHECK(c == 1003);
	fesetround(FE_TONEAREST);
}

int main(void)
{
	if (gr_ctx_have_asm)
		run(0);
	run(1);
	printf("%s switch: %d passed, %d failed\n", gr_ctx_have_asm ? "asm+ucontext" : "ucontext",
	       passed, failed);
	return failed != 0;
}
