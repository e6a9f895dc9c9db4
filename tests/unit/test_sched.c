/* The scheduler, driven directly (no preload): run order, parking with and
 * without deadlines, joins and their errors, errno per thread, stack reuse
 * through zombie records. Each test starts the runtime in its own child. */
#include <errno.h>
#include <stdint.h>

#include "../../runtime/clock.h"
#include "../../runtime/sched.h"
#include "../../runtime/attr.h"
#include "../../runtime/stack.h"
#include "suites.h"

static int order[64];
static int norder;

static void *log_id(void *arg)
{
	order[norder++] = (int)(intptr_t)arg;
	return (void *)((intptr_t)arg * 10);
}

static uint64_t spawn(void *(*fn)(void *), intptr_t arg)
{
	struct gr_create c = {.start = fn, .arg = (void *)arg};
	struct gr_thread *t;

	ck_assert_int_eq(gr_thread_create(&c, &t), 0);
	return t->handle;
}

START_TEST(sched_runs_threads_fifo)
{
	uint64_t h[3];
	void *r;

	ck_assert_int_eq(gr_start(), 0);
	for (int i = 0; i < 3; i++)
		h[i] = spawn(log_id, i + 1);
	ck_assert_int_eq(norder, 0); /* creating does not run them */
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(gr_thread_join(h[i], 0, &r), 0);
		ck_assert_ptr_eq(r, (void *)(intptr_t)((i + 1) * 10));
	}
	ck_assert_int_eq(norder, 3);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(order[i], i + 1);
}
END_TEST

/* As pthread_create makes a thread: unstarted, then started. */
static uint64_t spawn_fresh(void *(*fn)(void *), intptr_t arg)
{
	struct gr_create c = {.start = fn, .arg = (void *)arg, .unstarted = 1};
	struct gr_thread *t;

	gr_sched_run_fresh();
	ck_assert_int_eq(gr_thread_create(&c, &t), 0);
	gr_sched_start_new(t);
	return t->handle;
}

/* A thread made the way pthread_create makes one does not run before its
 * creator switches or makes the next one; then it runs before the threads
 * already queued, and the creator goes on right after it. */
START_TEST(sched_fresh_thread_runs_at_creators_next_switch_or_create)
{
	uint64_t q, a, b;

	ck_assert_int_eq(gr_start(), 0);
	q = spawn(log_id, 9); /* queued the plain way */
	a = spawn_fresh(log_id, 1);
	ck_assert_int_eq(norder, 0); /* the creator goes on first */
	b = spawn_fresh(log_id, 2);  /* a ran, and the creator went on */
	ck_assert_int_eq(norder, 1);
	ck_assert_int_eq(order[0], 1);
	gr_yield(); /* b first, then the one queued before */
	ck_assert_int_eq(norder, 3);
	ck_assert_int_eq(order[1], 2);
	ck_assert_int_eq(order[2], 9);
	ck_assert_int_eq(gr_thread_join(a, 0, NULL), 0);
	ck_assert_int_eq(gr_thread_join(b, 0, NULL), 0);
	ck_assert_int_eq(gr_thread_join(q, 0, NULL), 0);
	/* Joined while fresh: the join's park runs it. */
	void *r;
	a = spawn_fresh(log_id, 3);
	ck_assert_int_eq(gr_thread_join(a, 0, &r), 0);
	ck_assert_ptr_eq(r, (void *)(intptr_t)30);
	ck_assert_int_eq(norder, 4);
}
END_TEST

static void *yielder(void *arg)
{
	for (int i = 0; i < 3; i++) {
		order[norder++] = (int)(intptr_t)arg;
		gr_yield();
	}
	return NULL;
}

START_TEST(sched_yield_interleaves)
{
	ck_assert_int_eq(gr_start(), 0);
	uint64_t a = spawn(yielder, 1), b = spawn(yielder, 2);
	ck_assert_int_eq(gr_thread_join(a, 0, NULL), 0);
	ck_assert_int_eq(gr_thread_join(b, 0, NULL), 0);
	int want[] = {1, 2, 1, 2, 1, 2};
	ck_assert_int_eq(norder, 6);
	for (int i = 0; i < 6; i++)
		ck_assert_int_eq(order[i], want[i]);
}
END_TEST

START_TEST(sched_park_deadline_times_out)
{
	ck_assert_int_eq(gr_start(), 0);
	int64_t t0 = gr_now();
	ck_assert_int_eq(gr_park(GR_WAIT_SLEEP, NULL, t0 + 20 * 1000000LL), -ETIMEDOUT);
	int64_t took = gr_now() - t0;
	ck_assert_int_ge(took, 20 * 1000000LL);
	ck_assert_int_lt(took, 2000 * 1000000LL);
}
END_TEST

static struct gr_thread *sleeper;

static void *waker(void *arg)
{
	(void)arg;
	gr_wake(sleeper, 7);
	return NULL;
}

START_TEST(sched_wake_beats_deadline)
{
	ck_assert_int_eq(gr_start(), 0);
	sleeper = gr_rt.cur;
	uint64_t w = spawn(waker, 0);
	int64_t t0 = gr_now();
	ck_assert_int_eq(gr_park(GR_WAIT_SLEEP, NULL, t0 + 10 * GR_NSEC), 7);
	ck_assert_int_lt(gr_now() - t0, GR_NSEC);
	ck_assert_int_eq(gr_thread_join(w, 0, NULL), 0);
	/* The abandoned deadline does not wake anyone later. */
	ck_assert_int_eq(gr_park(GR_WAIT_SLEEP, NULL, gr_now() + 5000000), -ETIMEDOUT);
}
END_TEST

static void *sleep_ms(void *arg)
{
	gr_park(GR_WAIT_SLEEP, NULL, gr_now() + (intptr_t)arg * 1000000LL);
	return arg;
}

START_TEST(sched_join_errors)
{
	void *r;

	ck_assert_int_eq(gr_start(), 0);
	ck_assert_int_eq(gr_thread_join(gr_rt.cur->handle, 0, &r), -EDEADLK);
	uint64_t h = spawn(sleep_ms, 30);
	ck_assert_int_eq(gr_thread_join(h, -1, &r), -EBUSY);
	ck_assert_int_eq(gr_thread_join(h, gr_now() + 1000000, &r), -ETIMEDOUT);
	ck_assert_int_eq(gr_thread_done(h), 0);
	ck_assert_int_eq(gr_thread_join(h, 0, &r), 0);
	ck_assert_ptr_eq(r, (void *)30);
	ck_assert_int_eq(gr_thread_join(h, 0, &r), -ESRCH);
	ck_assert_int_eq(gr_thread_done(h), -ESRCH);
	ck_assert_int_eq(gr_thread_join(12345 * 64, 0, &r), -ESRCH);

	uint64_t d = spawn(sleep_ms, 5);
	ck_assert_int_eq(gr_thread_detach(d), 0);
	ck_assert_int_eq(gr_thread_detach(d), -EINVAL);
	ck_assert_int_eq(gr_thread_join(d, 0, &r), -EINVAL);
}
END_TEST

START_TEST(sched_finished_thread_frees_stack_before_join)
{
	struct gr_stack_stats before, after;
	void *r;

	ck_assert_int_eq(gr_start(), 0);
	uint64_t a = spawn(log_id, 4);
	gr_stack_stats(&before);
	gr_yield(); /* a runs and finishes */
	ck_assert_int_eq(gr_thread_done(a), 1);
	gr_stack_stats(&after);
	ck_assert_uint_lt(after.in_use, before.in_use);
	uint64_t b = spawn(log_id, 5);
	/* b got a's stack back (the address bits of a handle, without the
	 * generation in its low 6 and high 16 bits), yet the handles differ
	 * and a's result waits. */
	ck_assert_uint_eq(a & 0xffffffffffc0ULL, b & 0xffffffffffc0ULL);
	ck_assert_uint_ne(a, b);
	ck_assert_int_eq(gr_thread_join(b, 0, &r), 0);
	ck_assert_ptr_eq(r, (void *)50);
	ck_assert_int_eq(gr_thread_join(a, 0, &r), 0);
	ck_assert_ptr_eq(r, (void *)40);
}
END_TEST

/* A slot used 2^22 times comes round to its first generations again: a
 * new handle must then skip those an unjoined thread of the slot still
 * has, and every join still gets its own thread's value. */
START_TEST(sched_handle_generation_wrap_skips_unjoined)
{
	struct gr_create c = {.start = log_id, .arg = (void *)1};
	const uint64_t addr = (((uint64_t)1 << 48) - 64);
	struct gr_thread *t;
	uint64_t h[4];
	void *r;

	ck_assert_int_eq(gr_start(), 0);
	ck_assert_int_eq(gr_thread_create(&c, &t), 0);
	h[0] = t->handle;
	uint64_t id0 = t->id;
	gr_yield(); /* finishes unjoined: a record, and its slot is free */
	ck_assert_int_eq(gr_thread_done(h[0]), 1);
	/* The numbers come round: the next thread, in h[0]'s slot, would have
	 * h[0]'s generation; the one after it h[1]'s, which moved on. */
	gr_rt.next_id = id0 + (1u << 22);
	for (int i = 1; i < 4; i++) {
		h[i] = spawn(log_id, i + 1);
		ck_assert_uint_eq(h[i] & addr, h[0] & addr); /* the same slot */
		for (int j = 0; j < i; j++)
			ck_assert_uint_ne(h[i], h[j]);
		gr_yield();
		ck_assert_int_eq(gr_thread_done(h[i]), 1);
	}
	for (int i = 3; i >= 0; i--) {
		ck_assert_int_eq(gr_thread_join(h[i], 0, &r), 0);
		ck_assert_ptr_eq(r, (void *)(intptr_t)((i + 1) * 10));
	}
}
END_TEST

static void *errno_keeper(void *arg)
{
	errno = (int)(intptr_t)arg;
	for (int i = 0; i < 5; i++) {
		gr_yield();
		if (errno != (int)(intptr_t)arg)
			return (void *)1;
	}
	return NULL;
}

START_TEST(sched_errno_per_thread)
{
	void *r1, *r2;

	ck_assert_int_eq(gr_start(), 0);
	errno = 0;
	uint64_t a = spawn(errno_keeper, EIO), b = spawn(errno_keeper, ENOENT);
	ck_assert_int_eq(gr_thread_join(a, 0, &r1), 0);
	ck_assert_int_eq(gr_thread_join(b, 0, &r2), 0);
	ck_assert_ptr_null(r1);
	ck_assert_ptr_null(r2);
	ck_assert_int_eq(errno, 0);
}
END_TEST

START_TEST(sched_ten_thousand_sleepers_overlap)
{
	static uint64_t h[10000];

	ck_assert_int_eq(gr_start(), 0);
	int64_t t0 = gr_now();
	for (int i = 0; i < 10000; i++)
		h[i] = spawn(sleep_ms, 100);
	for (int i = 0; i < 10000; i++)
		ck_assert_int_eq(gr_thread_join(h[i], 0, NULL), 0);
	int64_t took = gr_now() - t0;
	ck_assert_int_ge(took, 100 * 1000000LL);
	ck_assert_int_lt(took, 3 * GR_NSEC); /* serial would be 1,000 s */
	ck_assert_uint_eq(gr_rt.created, 10000);
	ck_assert_uint_ge(gr_rt.peak_live, 2);
}
END_TEST

Suite *sched_suite(void)
{
	Suite *s = suite_create("sched");
	TCase *tc = tcase_create("sched");

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, sched_runs_threads_fifo);
	tcase_add_test(tc, sched_fresh_thread_runs_at_creators_next_switch_or_create);
	tcase_add_test(tc, sched_yield_interleaves);
	tcase_add_test(tc, sched_park_deadline_times_out);
	tcase_add_test(tc, sched_wake_beats_deadline);
	tcase_add_test(tc, sched_join_errors);
	tcase_add_test(tc, sched_finished_thread_frees_stack_before_join);
	tcase_add_test(tc, sched_handle_generation_wrap_skips_unjoined);
	tcase_add_test(tc, sched_errno_per_thread);
	tcase_add_test(tc, sched_ten_thousand_sleepers_overlap);
	suite_add_tcase(s, tc);
	return s;
}
