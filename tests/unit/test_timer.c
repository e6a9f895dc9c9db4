/* The deadlines: pop in deadline order whatever the insertion order (the
 * heap, the run of in-order entries, or both), and filtering drops exactly
 * the abandoned entries. */
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

static void free_timers(struct gr_timers *h)
{
	free(h->a);
	free(h->q);
}

START_TEST(timer_random_order)
{
	struct gr_timers h = {0};

	srand(42);
	for (int i = 0; i < 100000; i++)
		ck_assert_int_eq(gr_timers_add(&h, rand() % 1000, NULL), 0);
	pop_all_sorted(&h, 100000);
	free_timers(&h);
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
	free_timers(&h);
}
END_TEST

static int keep_even(const struct gr_tentry *e)
{
	return e->deadline % 2 == 0;
}

static size_t seen;

static void check_even(const struct gr_tentry *e)
{
	ck_assert_int_eq(e->deadline % 2, 0);
	seen++;
}

START_TEST(timer_filter_keeps_heap_order)
{
	struct gr_timers h = {0};

	srand(7);
	for (int i = 0; i < 20000; i++)
		gr_timers_add(&h, rand() % 100000, NULL);
	gr_timers_filter(&h, keep_even);
	size_t n = h.n;
	seen = 0;
	gr_timers_each(&h, check_even);
	ck_assert_uint_eq(seen, n);
	ck_assert_uint_gt(n, 8000);
	ck_assert_uint_lt(n, 12000);
	pop_all_sorted(&h, n);
	free_timers(&h);
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
	free_timers(&h);
}
END_TEST

/* Same-duration sleeps come in order and go to the run, a ring: its head
 * moves on as it pops, so later adds wrap round the array's end, and the
 * array grows while wrapped. Late entries in between go to the heap; pops
 * still come in deadline order, and each owner comes out once. */
START_TEST(timer_run_wraps_grows_and_mixes_with_heap)
{
	struct gr_timers h = {0};
	static char owners[40000];
	int64_t next = 1000;
	size_t popped = 0, added = 0;

	srand(3);
	for (int round = 0; round < 200; round++) {
		for (int i = 0; i < 150; i++, added++) {
			/* Mostly in order; one in ten earlier than the run's last. */
			int64_t d = rand() % 10 ? next++ : next - 1 - rand() % 500;
			ck_assert_int_eq(gr_timers_add(&h, d, &owners[added]), 0);
		}
		ck_assert_uint_gt(h.qn, 0);
		ck_assert_uint_gt(h.hn, 0);
		ck_assert_uint_eq(h.n, h.qn + h.hn);
		/* Pop most of what is there: the run's head goes round. Each
		 * pop is no later than what is left. */
		for (int i = 0; i < 100; i++, popped++) {
			const struct gr_tentry *e = gr_timers_top(&h);
			ck_assert_ptr_nonnull(e);
			int64_t d = e->deadline;
			char *o = e->owner;
			ck_assert_int_eq(*o, 0);
			*o = 1;
			gr_timers_pop(&h);
			ck_assert(!gr_timers_top(&h) || gr_timers_top(&h)->deadline >= d);
		}
	}
	ck_assert_uint_gt(h.cap, 1024); /* it grew while the run was wrapped */
	ck_assert_uint_eq(h.n, added - popped);
	while (gr_timers_top(&h)) {
		char *o = gr_timers_top(&h)->owner;
		ck_assert_int_eq(*o, 0);
		*o = 1;
		gr_timers_pop(&h);
		popped++;
	}
	ck_assert_uint_eq(popped, added);
	free_timers(&h);
}
END_TEST

static int keep_odd_owner(const struct gr_tentry *e)
{
	return ((const char *)e->owner - (const char *)0) % 2;
}

/* Filtering a wrapped run keeps it in order and drops exactly what keep()
 * refuses. */
START_TEST(timer_filter_wrapped_run_keeps_order)
{
	struct gr_timers h = {0};

	ck_assert_int_eq(gr_timers_reserve(&h, 1024), 0);
	for (int i = 0; i < 1000; i++)
		gr_timers_add(&h, i, (char *)0 + i);
	for (int i = 0; i < 900; i++)
		gr_timers_pop(&h);
	for (int i = 1000; i < 1800; i++) /* wraps past index 1023 */
		gr_timers_add(&h, i, (char *)0 + i);
	ck_assert_uint_eq(h.cap, 1024);
	ck_assert_uint_eq(h.qn, 900);
	ck_assert_uint_eq(h.hn, 0);
	gr_timers_filter(&h, keep_odd_owner);
	ck_assert_uint_eq(h.n, 450);
	for (int64_t want = 901; want < 1800; want += 2) {
		ck_assert_int_eq(gr_timers_top(&h)->deadline, want);
		gr_timers_pop(&h);
	}
	ck_assert_ptr_null(gr_timers_top(&h));
	free_timers(&h);
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
	tcase_add_test(tc, timer_run_wraps_grows_and_mixes_with_heap);
	tcase_add_test(tc, timer_filter_wrapped_run_keeps_order);
	suite_add_tcase(s, tc);
	return s;
}
