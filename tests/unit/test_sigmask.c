/* Per-green-thread signal masks, driven directly (no preload): the OS
 * thread's mask is the intersection of the live threads' masks, new
 * threads inherit their creator's, libc's errors and unblockable signals.
 * Each test starts the runtime in its own child (Check forks). */
#include <errno.h>
#include <signal.h>
#include <stdint.h>

#include "../../runtime/real.h"
#include "../../runtime/sched.h"
#include "../../runtime/signal.h"
#include "suites.h"

static const uint64_t usr1 = GR_SIGBIT(SIGUSR1);
static int inherited, os_blocked_before, os_blocked_after;

/* Whether the OS thread's real mask blocks sig. */
static int os_blocks(int sig)
{
	sigset_t cur;

	ck_assert_int_eq(gr_real.pthread_sigmask(SIG_BLOCK, NULL, &cur), 0);
	return sigismember(&cur, sig);
}

static uint64_t spawn(void *(*fn)(void *))
{
	struct gr_create c = {.start = fn};
	struct gr_thread *t;

	ck_assert_int_eq(gr_thread_create(&c, &t), 0);
	return t->handle;
}

static void *unblock_and_yield(void *arg)
{
	uint64_t old;

	(void)arg;
	inherited = (gr_rt.cur->sig_mask & usr1) != 0;
	os_blocked_before = os_blocks(SIGUSR1);
	ck_assert_int_eq(gr_sigmask(SIG_UNBLOCK, &usr1, &old), 0);
	ck_assert_uint_eq(old & usr1, usr1);
	os_blocked_after = os_blocks(SIGUSR1);
	gr_yield(); /* main looks at the OS mask while we live */
	return NULL;
}

START_TEST(sigmask_os_mask_is_the_intersection)
{
	uint64_t old;

	ck_assert_int_eq(gr_start(), 0);
	ck_assert_int_eq(gr_sigmask(SIG_BLOCK, &usr1, &old), 0);
	ck_assert_int_eq(os_blocks(SIGUSR1), 1); /* main is the only thread */
	uint64_t h = spawn(unblock_and_yield);
	gr_yield();
	ck_assert_int_eq(inherited, 1);
	ck_assert_int_eq(os_blocked_before, 1); /* both block it */
	ck_assert_int_eq(os_blocked_after, 0);	/* one takes it */
	ck_assert_int_eq(os_blocks(SIGUSR1), 0);
	ck_assert_int_eq(gr_thread_join(h, 0, NULL), 0);
	ck_assert_int_eq(os_blocks(SIGUSR1), 1); /* it took it and is gone */
	ck_assert_int_eq(gr_sigmask(SIG_UNBLOCK, &usr1, &old), 0);
	ck_assert_int_eq(os_blocks(SIGUSR1), 0);
}
END_TEST

static void *nothing(void *arg)
{
	return arg;
}

START_TEST(sigmask_thread_without_mask_unblocks_for_all)
{
	uint64_t old, none = 0;

	ck_assert_int_eq(gr_start(), 0);
	ck_assert_int_eq(gr_sigmask(SIG_BLOCK, &usr1, &old), 0);
	uint64_t h = spawn(nothing);
	ck_assert_int_eq(os_blocks(SIGUSR1), 1);
	/* A thread created while main blocks nothing blocks nothing. */
	ck_assert_int_eq(gr_sigmask(SIG_SETMASK, &none, &old), 0);
	uint64_t h2 = spawn(nothing);
	ck_assert_int_eq(gr_sigmask(SIG_SETMASK, &usr1, &old), 0);
	ck_assert_int_eq(os_blocks(SIGUSR1), 0); /* h2 takes it */
	ck_assert_int_eq(gr_thread_join(h2, 0, NULL), 0);
	ck_assert_int_eq(os_blocks(SIGUSR1), 1);
	ck_assert_int_eq(gr_thread_join(h, 0, NULL), 0);
}
END_TEST

START_TEST(sigmask_errors_and_unblockable)
{
	uint64_t old = 7, all = ~(uint64_t)0;

	ck_assert_int_eq(gr_start(), 0);
	ck_assert_int_eq(gr_sigmask(12345, &usr1, &old), -EINVAL);
	ck_assert_uint_eq(old, 7); /* untouched on error */
	ck_assert_int_eq(gr_sigmask(12345, NULL, &old), 0);
	ck_assert_int_eq(gr_sigmask(SIG_SETMASK, &all, &old), 0);
	ck_assert_uint_eq(gr_rt.cur->sig_mask, ~GR_SIG_UNBLOCKABLE);
	ck_assert_int_eq(os_blocks(SIGKILL), 0);
	ck_assert_int_eq(os_blocks(SIGUSR2), 1);
	ck_assert_int_eq(gr_sigmask(SIG_SETMASK, &old, &all), 0);
	ck_assert_int_eq(os_blocks(SIGUSR2), 0);
}
END_TEST

Suite *sigmask_suite(void)
{
	Suite *s = suite_create("sigmask");
	TCase *tc = tcase_create("sigmask");

	tcase_add_test(tc, sigmask_os_mask_is_the_intersection);
	tcase_add_test(tc, sigmask_thread_without_mask_unblocks_for_all);
	tcase_add_test(tc, sigmask_errors_and_unblockable);
	suite_add_tcase(s, tc);
	return s;
}
