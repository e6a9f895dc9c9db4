/* Backtraces of suspended contexts (runtime/backtrace.c), for both
 * switches: unwinding from a saved context finds the functions that
 * switched away, static ones named from the .symtab; a second context
 * suspended at the same place has the same shape, one suspended elsewhere
 * does not. */
#include <check.h>
#include <string.h>
#include <sys/mman.h>

#include "../../runtime/backtrace.h"
#include "../../runtime/real.h"
#include "suites.h"

#define STACK (64 * 1024)

static struct gr_ctx main_ctx, co_ctx[2], other_ctx; /* static: tp 0 */
static ucontext_t main_uc;

static __attribute__((noinline)) void bt_leaf(struct gr_ctx *self)
{
	gr_ctx_switch(self, &main_ctx);
	__asm__ volatile("" ::: "memory"); /* no tail call */
}

static __attribute__((noinline)) void bt_other(struct gr_ctx *self)
{
	gr_ctx_switch(self, &main_ctx);
	__asm__ volatile("" ::: "memory");
}

static void bt_co(void *arg)
{
	struct gr_ctx *self = arg;

	for (;;)
		(self == &co_ctx[0] || self == &co_ctx[1] ? bt_leaf : bt_other)(self);
}

static void suspended(struct gr_thread *t, struct gr_ctx *c)
{
	void *stack = mmap(NULL, STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(stack, MAP_FAILED);
	gr_ctx_make(c, stack, STACK, bt_co, c);
	gr_ctx_switch(&main_ctx, c);
	memset(t, 0, sizeof(*t));
	t->ctx = *c;
	t->stack.lo = stack;
	t->stack.size = STACK;
}

static void check_unwinds(int use_ucontext)
{
	struct gr_thread t[2];
	struct gr_bt bt;
	char names[2048] = "", name[256];

	gr_real_init();
	ck_assert_int_eq(gr_ctx_select(use_ucontext), 0);
	gr_ctx_init_current(&main_ctx, &main_uc);
	if (!gr_bt_available || !gr_bt_ready())
		return; /* this build or machine has no unwinder: nothing to test */
	suspended(&t[0], &co_ctx[0]);
	suspended(&t[1], &co_ctx[1]);
	ck_assert_int_eq(gr_bt_unwind(&t[0], &bt), 0);
	ck_assert_int_ge(bt.n, 2);
	for (int i = 0; i < bt.n; i++) {
		gr_bt_name(bt.ip[i], name, sizeof(name));
		strncat(names, name, sizeof(names) - strlen(names) - 2);
		strcat(names, "\n");
	}
	gr_bt_names_done();
	ck_assert_msg(strstr(names, "bt_leaf+0x") != NULL, "frames:\n%s", names);
	ck_assert_msg(strstr(names, "bt_co+0x") != NULL, "frames:\n%s", names);
	ck_assert_msg(strstr(names, "bt_leaf+0x") < strstr(names, "bt_co+0x"),
		      "innermost first:\n%s", names);
	/* The same place on another stack: the same shape. */
	ck_assert_int_eq(gr_bt_same(&t[1], &bt), 1);
}

START_TEST(backtrace_names_static_functions_asm)
{
	check_unwinds(0);
}
END_TEST

START_TEST(backtrace_names_static_functions_ucontext)
{
	check_unwinds(1);
}
END_TEST

/* Suspended in another function: not the shape of bt_leaf's stack. */
START_TEST(backtrace_other_place_other_shape)
{
	struct gr_thread t;
	struct gr_bt bt;

	gr_real_init();
	ck_assert_int_eq(gr_ctx_select(0), 0);
	gr_ctx_init_current(&main_ctx, &main_uc);
	if (!gr_bt_available || !gr_bt_ready())
		return;
	suspended(&t, &co_ctx[0]);
	ck_assert_int_eq(gr_bt_unwind(&t, &bt), 0);
	{
		struct gr_thread o;
		suspended(&o, &other_ctx); /* not a co_ctx: bt_co calls bt_other */
		ck_assert_int_eq(gr_bt_same(&o, &bt), 0);
	}
}
END_TEST

Suite *backtrace_suite(void)
{
	Suite *s = suite_create("backtrace");
	TCase *tc = tcase_create("backtrace");

	tcase_add_test(tc, backtrace_names_static_functions_asm);
	tcase_add_test(tc, backtrace_names_static_functions_ucontext);
	tcase_add_test(tc, backtrace_other_place_other_shape);
	suite_add_tcase(s, tc);
	return s;
}
