/* Kernel-visible waits and process-shared locks, driven directly (no
 * preload): an OS thread's FUTEX_WAKE reaches a green waiter of a shared
 * word, and one of a private word once private objects work the atomic
 * way; a green wake of a word nobody waits on any more counts 0 even
 * right after a waiter timed out; a process-shared robust mutex sits on
 * the runtime thread's kernel robust list, in glibc's format, while held;
 * the table of green holders survives growth and deletions. */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../runtime/foreign.h"
#include "../../runtime/kwait.h"
#include "../../runtime/lock.h"
#include "../../runtime/real.h"
#include "../../runtime/sched.h"
#include "../../runtime/wait.h"
#include "suites.h"

static uint32_t word;
static int op; /* the wake's futex op */

static uint64_t spawn(void *(*fn)(void *), void *arg)
{
	struct gr_create c = {.start = fn, .arg = arg};
	struct gr_thread *t;

	ck_assert_int_eq(gr_thread_create(&c, &t), 0);
	return t->handle;
}

static void *os_waker(void *arg)
{
	struct timespec ts = {0, 20000000};

	(void)arg;
	nanosleep(&ts, NULL);
	__atomic_store_n(&word, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &word, op, 1, NULL, NULL, 0);
	return NULL;
}

static void *green_futex_waiter(void *arg)
{
	(void)arg;
	return (void *)gr_futex(&word, op == FUTEX_WAKE ? FUTEX_WAIT : FUTEX_WAIT_PRIVATE, 0, NULL,
				NULL, 0);
}

static void os_thread_wakes_green(int wake_op)
{
	pthread_t os;
	void *r;

	word = 0;
	op = wake_op;
	uint64_t h = spawn(green_futex_waiter, NULL);
	gr_yield(); /* it waits */
	ck_assert_int_eq(gr_real.pthread_create(&os, NULL, os_waker, NULL), 0);
	ck_assert_int_eq(gr_thread_join(h, 0, &r), 0);
	ck_assert_int_eq((long)r, 0);
	gr_real.pthread_join(os, NULL);
}

START_TEST(kwait_os_thread_wakes_shared_futex_waiter)
{
	ck_assert_int_eq(gr_start(), 0);
	os_thread_wakes_green(FUTEX_WAKE);
}
END_TEST

START_TEST(kwait_os_thread_wakes_private_futex_waiter_once_atomic)
{
	ck_assert_int_eq(gr_start(), 0);
	gr_foreign_on();
	os_thread_wakes_green(FUTEX_WAKE_PRIVATE);
}
END_TEST

static void *timed_shared_waiter(void *arg)
{
	struct timespec ts = {0, 5000000};

	(void)arg;
	return (void *)gr_futex(&word, FUTEX_WAIT, 0, &ts, NULL, 0);
}

START_TEST(kwait_wake_after_timeout_counts_nobody)
{
	void *r;

	ck_assert_int_eq(gr_start(), 0);
	word = 0;
	for (int i = 0; i < 3; i++) {
		uint64_t h = spawn(timed_shared_waiter, NULL);
		ck_assert_int_eq(gr_thread_join(h, 0, &r), 0);
		ck_assert_int_eq((long)r, -ETIMEDOUT);
		ck_assert_int_eq(gr_futex(&word, FUTEX_WAKE, 1, NULL, NULL, 0), 0);
	}
}
END_TEST

START_TEST(kwait_pshared_robust_mutex_on_kernel_robust_list)
{
	pthread_mutexattr_t a;
	pthread_mutex_t m;
	struct robust_list_head *head;
	size_t len;

	ck_assert_int_eq(gr_start(), 0);
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&m, &a);
	ck_assert_int_eq(syscall(SYS_get_robust_list, 0, &head, &len), 0);
	ck_assert_ptr_eq(head->list.next, &head->list);
	ck_assert_int_eq(gr_mutex_lock(&m, &GR_FOREVER), 0);
	/* The kernel's view: the OS thread's tid in the word, the mutex on
	 * its list, nothing pending. */
	ck_assert_int_eq(m.__data.__lock, gettid());
	ck_assert_ptr_eq(head->list.next, (void *)&m.__data.__list.__next);
	ck_assert_ptr_null(head->list_op_pending);
	ck_assert_int_eq(gr_mutex_lock(&m, &GR_TRY), -EBUSY);
	ck_assert_int_eq(gr_mutex_unlock(&m), 0);
	ck_assert_int_eq(m.__data.__lock, 0);
	ck_assert_ptr_eq(head->list.next, &head->list);
}
END_TEST

START_TEST(kwait_held_table_grows_and_deletes)
{
	static char objs[1000];
	struct gr_thread *t = &gr_main_thread;

	for (int i = 0; i < 1000; i++)
		gr_held_set(&objs[i], t);
	for (int i = 1; i < 1000; i += 2)
		gr_held_del(&objs[i]);
	for (int i = 0; i < 1000; i++)
		ck_assert_ptr_eq(gr_held_get(&objs[i]), i % 2 ? NULL : t);
	for (int i = 0; i < 1000; i += 2)
		gr_held_del(&objs[i]);
	for (int i = 0; i < 1000; i++)
		ck_assert_ptr_null(gr_held_get(&objs[i]));
}
END_TEST

Suite *kwait_suite(void)
{
	Suite *s = suite_create("kwait");
	TCase *tc = tcase_create("kwait");

	tcase_add_test(tc, kwait_os_thread_wakes_shared_futex_waiter);
	tcase_add_test(tc, kwait_os_thread_wakes_private_futex_waiter_once_atomic);
	tcase_add_test(tc, kwait_wake_after_timeout_counts_nobody);
	tcase_add_test(tc, kwait_pshared_robust_mutex_on_kernel_robust_list);
	tcase_add_test(tc, kwait_held_table_grows_and_deletes);
	suite_add_tcase(s, tc);
	return s;
}
