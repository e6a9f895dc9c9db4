/* The deadline heap: pops in deadline order whatever the insertion order,
 * and filtering drops exactly the abandoned entries. */
#include <stdlib.h>

#include "../../runtime/timer.h"
#include "suites.h"

static int64_t pop_all_sorted(struct gr_timers *h, size_t expect)
{
	int64_t last = INT64_MIN;
	size_t n = 0;

	while (gr_timers_top(h)) {
		int64_t d = gr_timers_top(h)->deadline;
		ck_assert(d >= last);
		last = d;
		gr_timers_pop(h);
		n++;
	}
	ck_assert_uint_eq(n, expect);
	return last;
}

START_TEST(timer_random_order)
{
	struct gr_timers h = {0};

	srand(42);
	for (int i = 0; i < 100000; i++)
		ck_assert_int_eq(gr_timers_add(&h, rand() % 1000, NULL), 0);
	pop_all_sorted(&h, 100000);
	free(h.a);
}
END_TEST

START_TEST(timer_increasing_and_decreasing)
{
	struct gr_timers h = {0};

	for (int i = 0; i < 5000; i++)
		gr_timers_add(&h, i, NULL);
	for (int i = 5000; i > 0; i--)
		gr_timers_add(&h, i, NULL);
	ck_assert_int_eq(gr_timers_top(&h)->deadline, 0);
	ck_assert_int_eq(pop_all_sorted(&h, 10000), 5000);
	free(h.a);
}
END_TEST

static int keep_even(const struct gr_tentry *e)
{
	return e->deadline % 2 == 0;
}

START_TEST(timer_filter_keeps_heap_order)
{
	struct gr_timers h = {0};

	srand(7);
	for (int i = 0; i < 20000; i++)
		gr_timers_add(&h, rand() % 100000, NULL);
	gr_timers_filter(&h, keep_even);
	size_t n = h.n;
	for (size_t i = 0; i < h.n; i++)
		ck_assert_int_eq(h.a[i].deadline % 2, 0);
	ck_assert_uint_gt(n, 8000);
	ck_assert_uint_lt(n, 12000);
	pop_all_sorted(&h, n);
	free(h.a);
}
END_TEST

/* Room reserved up front: adding that many never moves the array (a park
 * never allocates). */
START_TEST(timer_reserve_keeps_adds_in_place)
{
	struct gr_timers h = {0};

	ck_assert_int_eq(gr_timers_reserve(&h, 3000), 0);
	ck_assert_uint_ge(h.cap, 3000);
	const struct gr_tentry *a = h.a;
	for (int i = 0; i < 3000; i++)
		ck_assert_int_eq(gr_timers_add(&h, 3000 - i, NULL), 0);
	ck_assert_ptr_eq(h.a, a);
	ck_assert_int_eq(gr_timers_reserve(&h, 10), 0); /* never shrinks */
	ck_assert_ptr_eq(h.a, a);
	pop_all_sorted(&h, 3000);
	free(h.a);
}
END_TEST

Suite *timer_suite(void)
{
	Suite *s = suite_create("timer");
	TCase *tc = tcase_create("timer");

	tcase_add_test(tc, timer_random_order);
	tcase_add_test(tc, timer_increasing_and_decreasing);
	tcase_add_test(tc, timer_filter_keeps_heap_order);
	tcase_add_test(tc, timer_reserve_keeps_adds_in_place);
	suite_add_tcase(s, tc);
	return s;
}
