/* The stack pool: reuse newest first, lookups, and guards that really stop
 * an overflow (each guard kind; Check runs every test in a child process,
 * so a test may die of SIGSEGV on purpose). */
#include <signal.h>
#include <stdint.h>
#include <string.h>

#include "../../runtime/stack.h"
#include "suites.h"

START_TEST(stack_reuse_newest_first)
{
	struct gr_stack a, b, c;

	ck_assert_int_eq(gr_stack_alloc(64 * 1024, &a), 0);
	ck_assert_int_eq(gr_stack_alloc(64 * 1024, &b), 0);
	ck_assert_ptr_ne(a.lo, b.lo);
	ck_assert_uint_eq(a.size, 64 * 1024);
	/* packed: neighbouring slots are a stack and a guard page apart */
	ck_assert_uint_eq((uintptr_t)(a.lo > b.lo ? a.lo - b.lo : b.lo - a.lo), 64 * 1024 + 4096);
	gr_stack_free(&a);
	gr_stack_free(&b);
	ck_assert_int_eq(gr_stack_alloc(64 * 1024, &c), 0);
	ck_assert_ptr_eq(c.lo, b.lo);
	ck_assert_int_eq(gr_stack_alloc(64 * 1024, &c), 0);
	ck_assert_ptr_eq(c.lo, a.lo);
}
END_TEST

START_TEST(stack_sizes_round_to_pages)
{
	struct gr_stack a, b;

	ck_assert_int_eq(gr_stack_alloc(20000, &a), 0);
	ck_assert_uint_eq(a.size, 20480);
	ck_assert_int_eq(gr_stack_alloc(1 << 20, &b), 0);
	ck_assert_uint_eq(b.size, 1 << 20);
	memset(b.lo, 0xab, b.size); /* all of it is usable */
}
END_TEST

START_TEST(stack_find_names_slot_and_guard)
{
	struct gr_stack a, f;
	int in_guard = -1;

	ck_assert_int_eq(gr_stack_alloc(64 * 1024, &a), 0);
	ck_assert_int_eq(gr_stack_find(a.lo + 100, &f, &in_guard), 1);
	ck_assert_ptr_eq(f.lo, a.lo);
	ck_assert_int_eq(in_guard, 0);
	ck_assert_int_eq(gr_stack_find(a.lo + a.size - 1, &f, &in_guard), 1);
	ck_assert_ptr_eq(f.lo, a.lo);
	ck_assert_int_eq(gr_stack_find(a.lo - 1, &f, &in_guard), 1);
	ck_assert_ptr_eq(f.lo, a.lo);
	ck_assert_int_eq(in_guard, 1);
	int local;
	ck_assert_int_eq(gr_stack_find(&local, &f, &in_guard), 0);
}
END_TEST

/* Every slot of mappings many gigabytes long, whose slots are no power of
 * two (glibc's 8 MiB with a guard page, and an odd size), is found at its
 * edges: the first and last guard byte, the first and last usable byte;
 * the two classes' finds alternate, so that the last mapping found is
 * the other one half the time. */
START_TEST(stack_find_every_slot_of_long_mappings)
{
	enum { N = 700 };
	static struct gr_stack big[N], odd[N];
	struct gr_stack f;
	int in_guard;

	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(gr_stack_alloc_guarded(8 << 20, 4096, &big[i]), 0);
		ck_assert_int_eq(gr_stack_alloc_guarded(3 * 4096, 5 * 4096, &odd[i]), 0);
	}
	for (int i = 0; i < 2 * N; i++) {
		const struct gr_stack *s = i % 2 ? &odd[i / 2] : &big[N - 1 - i / 2];
		size_t guard = gr_stack_guard_size(s);
		const char *edge[4] = {s->lo - guard, s->lo - 1, s->lo, s->lo + s->size - 1};

		for (int e = 0; e < 4; e++) {
			ck_assert_int_eq(gr_stack_find(edge[e], &f, &in_guard), 1);
			ck_assert_ptr_eq(f.lo, s->lo);
			ck_assert_uint_eq(f.size, s->size);
			ck_assert_int_eq(in_guard, e < 2);
		}
	}
	for (int i = 0; i < N; i++) {
		gr_stack_free(&big[i]);
		gr_stack_free(&odd[i]);
	}
}
END_TEST

START_TEST(stack_many_stacks_few_mappings)
{
	struct gr_stack s;
	struct gr_stack_stats st;

	for (int i = 0; i < 40000; i++)
		ck_assert_int_eq(gr_stack_alloc(64 * 1024, &s), 0);
	gr_stack_stats(&st);
	/* 40,000 guarded stacks, beyond what per-stack mappings allow
	 * under vm.max_map_count, in a handful of mappings. */
	ck_assert_uint_lt(st.mappings, 40);
	ck_assert_uint_eq(st.madvise_guards + st.mprotect_guards + st.canaries, 40000);
}
END_TEST

static void overflow_into_guard(void)
{
	struct gr_stack s;

	ck_assert_int_eq(gr_stack_alloc(64 * 1024, &s), 0);
	s.lo[0] = 1;			  /* the lowest usable byte is fine */
	*(volatile char *)(s.lo - 1) = 1; /* the guard is not */
}

START_TEST(stack_madvise_guard_stops_overflow)
{
	overflow_into_guard();
}
END_TEST

START_TEST(stack_mprotect_guard_stops_overflow)
{
	gr_stack_test_limit_guards(0, 100);
	overflow_into_guard();
}
END_TEST

START_TEST(stack_canary_when_out_of_guards)
{
	struct gr_stack s;

	gr_stack_test_limit_guards(0, 0);
	ck_assert_int_eq(gr_stack_alloc(64 * 1024, &s), 0);
	ck_assert_int_eq(s.guard, GR_GUARD_CANARY);
	ck_assert_uint_eq(*(uint64_t *)s.lo, GR_CANARY);
}
END_TEST

Suite *stack_suite(void)
{
	Suite *s = suite_create("stack");
	TCase *tc = tcase_create("stack");

	tcase_add_test(tc, stack_reuse_newest_first);
	tcase_add_test(tc, stack_sizes_round_to_pages);
	tcase_add_test(tc, stack_find_names_slot_and_guard);
	tcase_add_test(tc, stack_find_every_slot_of_long_mappings);
	tcase_add_test(tc, stack_many_stacks_few_mappings);
	tcase_add_test_raise_signal(tc, stack_madvise_guard_stops_overflow, SIGSEGV);
	tcase_add_test_raise_signal(tc, stack_mprotect_guard_stops_overflow, SIGSEGV);
	tcase_add_test(tc, stack_canary_when_out_of_guards);
	suite_add_tcase(s, tc);
	return s;
}
