/* The context switch: control really moves between stacks, values live
 * across switches survive (callee-saved registers), and each context keeps
 * its own floating-point control state (rounding mode in MXCSR and the x87
 * control word on x86_64, FPCR on aarch64). Run for both implementations. */
#include <fenv.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "../../arch/ctx.h"
#include "suites.h"

#define STACK (64 * 1024)

static struct gr_ctx main_ctx, co_ctx;
static ucontext_t main_uc;
static volatile int trace[16];
static volatile int ntrace;

static void *new_stack(void)
{
	void *p = mmap(NULL, STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(p, MAP_FAILED);
	return p;
}

static void co_main(void *arg)
{
	/* Locals that must survive the switches below. */
	uint64_t a = (uintptr_t)arg, b = a * 3, c = a ^ 0x5555, d = a + 7;

	for (int i = 0; i < 3; i++) {
		trace[ntrace++] = 100 + i;
		gr_ctx_switch(&co_ctx, &main_ctx);
		a += 1;
		b += 3;
		c ^= 1;
		d += 2;
	}
	trace[ntrace++] = (int)(a + b + c + d) & 0xffff;
	gr_ctx_switch(&co_ctx, &main_ctx);
	abort(); /* never resumed again */
}

static void run_pingpong(int use_ucontext)
{
	uint64_t x = 11, y = 22, z = 33;
	uint64_t a = 42;

	ck_assert_int_eq(gr_ctx_select(use_ucontext), 0);
	gr_ctx_init_current(&main_ctx, &main_uc);
	gr_ctx_make(&co_ctx, new_stack(), STACK, co_main, (void *)(uintptr_t)a);
	ntrace = 0;
	for (int i = 0; i < 4; i++) {
		trace[ntrace++] = i;
		gr_ctx_switch(&main_ctx, &co_ctx);
		x += y;
		y += z;
		z += x;
	}
	ck_assert_int_eq(ntrace, 8);
	int want[] = {0, 100, 1, 101, 2, 102, 3};
	for (int i = 0; i < 7; i++)
		ck_assert_int_eq(trace[i], want[i]);
	uint64_t fa = a + 3, fb = a * 3 + 9, fc = (a ^ 0x5555) ^ 1, fd = a + 7 + 6;
	ck_assert_int_eq(trace[7], (int)(fa + fb + fc + fd) & 0xffff);
	/* x, y, z lived in callee-saved registers across the switches. */
	ck_assert_uint_eq(x, 484);
	ck_assert_uint_eq(y, 638);
	ck_assert_uint_eq(z, 847);
}

START_TEST(switch_asm_pingpong)
{
	if (!gr_ctx_have_asm)
		return;
	run_pingpong(0);
}
END_TEST

START_TEST(switch_ucontext_pingpong)
{
	run_pingpong(1);
}
END_TEST

/* FPU control state per context. On x86_64 the SSE unit's rounding field
 * (MXCSR) is carried at every switch; the x87 control word, which
 * fegetround() reads there, only once gr_ctx_fpu_changing() announced that
 * it may change (the preload's fenv hooks do). */
#if defined(__x86_64__)
#include <xmmintrin.h>
static int sse_round(void)
{
	return (int)(_mm_getcsr() >> 13) & 3; /* 0 near, 1 down, 2 up, 3 zero */
}
#endif

static int co_mode_seen, co_mode_after;

#if defined(__x86_64__)
static int co_sse_seen, co_sse_after;

static void mxcsr_co(void *arg)
{
	(void)arg;
	co_sse_seen = sse_round();			 /* inherited from the creator */
	_mm_setcsr((_mm_getcsr() & ~0x6000u) | 0x6000u); /* toward zero */
	gr_ctx_switch(&co_ctx, &main_ctx);
	co_sse_after = sse_round();
	gr_ctx_switch(&co_ctx, &main_ctx);
	abort();
}

static void set_sse_round(int rc)
{
	_mm_setcsr((_mm_getcsr() & ~0x6000u) | (unsigned)rc << 13);
}

static void run_mxcsr(int use_ucontext)
{
	ck_assert_int_eq(gr_ctx_select(use_ucontext), 0);
	gr_ctx_init_current(&main_ctx, &main_uc);
	set_sse_round(2);
	gr_ctx_make(&co_ctx, new_stack(), STACK, mxcsr_co, NULL);
	set_sse_round(1);
	gr_ctx_switch(&main_ctx, &co_ctx);
	ck_assert_int_eq(co_sse_seen, 2);
	ck_assert_int_eq(sse_round(), 1); /* main's own came back */
	set_sse_round(0);
	gr_ctx_switch(&main_ctx, &co_ctx);
	ck_assert_int_eq(co_sse_after, 3);
	ck_assert_int_eq(sse_round(), 0);
}

#endif

static void x87_co(void *arg)
{
	(void)arg;
	co_mode_seen = fegetround();
	gr_ctx_fpu_changing(); /* as the fesetround hook does */
	fesetround(FE_TOWARDZERO);
	gr_ctx_switch(&co_ctx, &main_ctx);
	co_mode_after = fegetround();
	gr_ctx_switch(&co_ctx, &main_ctx);
	abort();
}

static void run_x87(int use_ucontext)
{
	ck_assert_int_eq(gr_ctx_select(use_ucontext), 0);
	gr_ctx_init_current(&main_ctx, &main_uc);
	gr_ctx_make(&co_ctx, new_stack(), STACK, x87_co, NULL);
	/* main's frame is saved before anyone announced a change... */
	gr_ctx_switch(&main_ctx, &co_ctx);
	ck_assert_int_eq(co_mode_seen, FE_TONEAREST);
	/* ...so it gets the word every thread had: not co's new one. */
	ck_assert_int_eq(fegetround(), FE_TONEAREST);
	fesetround(FE_UPWARD);
	gr_ctx_switch(&main_ctx, &co_ctx);
	ck_assert_int_eq(co_mode_after, FE_TOWARDZERO);
	ck_assert_int_eq(fegetround(), FE_UPWARD);
}

#if defined(__x86_64__)
START_TEST(switch_asm_mxcsr_per_context)
{
	if (!gr_ctx_have_asm)
		return;
	run_mxcsr(0);
}
END_TEST

START_TEST(switch_ucontext_mxcsr_per_context)
{
	run_mxcsr(1);
}
END_TEST

#endif

START_TEST(switch_asm_x87_per_context_once_announced)
{
	if (!gr_ctx_have_asm)
		return;
	run_x87(0);
}
END_TEST

START_TEST(switch_ucontext_x87_per_context)
{
	run_x87(1);
}
END_TEST

/* The slow way to set the thread pointer (arch_prctl on x86_64 without
 * FSGSBASE, made as a raw system call) really moves it: to a block of our
 * own whose first word points at itself, as the TLS ABI wants of a thread
 * pointer, and back. Nothing in between may touch TLS (errno included). */
START_TEST(switch_tp_slow_moves_thread_pointer)
{
	static uint64_t block[8] __attribute__((aligned(64)));
	void *mine, *seen, *back;

	if (gr_ctx_tp_init() < 0)
		return; /* no thread pointer of our own on this architecture */
	mine = gr_ctx_get_tp();
	block[0] = (uint64_t)(uintptr_t)block;
	gr_ctx_set_tp_slow(block);
	seen = gr_ctx_get_tp();
	gr_ctx_set_tp_slow(mine);
	back = gr_ctx_get_tp();
	ck_assert_ptr_eq(seen, block);
	ck_assert_ptr_eq(back, mine);
}
END_TEST

Suite *switch_suite(void)
{
	Suite *s = suite_create("switch");
	TCase *tc = tcase_create("switch");

	tcase_add_test(tc, switch_asm_pingpong);
	tcase_add_test(tc, switch_ucontext_pingpong);
#if defined(__x86_64__)
	tcase_add_test(tc, switch_asm_mxcsr_per_context);
	tcase_add_test(tc, switch_ucontext_mxcsr_per_context);
#endif
	tcase_add_test(tc, switch_asm_x87_per_context_once_announced);
	tcase_add_test(tc, switch_ucontext_x87_per_context);
	tcase_add_test(tc, switch_tp_slow_moves_thread_pointer);
	suite_add_tcase(s, tc);
	return s;
}
