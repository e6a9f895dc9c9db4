/* Wait queues and the locks built on them, driven directly (no preload):
 * FIFO hand-over, timeouts that leave no stale waiter behind, every mutex
 * kind's rules, robust hand-over on owner death, condition timeouts that
 * re-acquire the mutex, semaphore hand-over, private vs shared futexes. */
#include <errno.h>
#include <linux/futex.h>
#include <stdint.h>

#include "../../runtime/clock.h"
#include "../../runtime/lock.h"
#include "../../runtime/sched.h"
#include "../../runtime/wait.h"
#include "suites.h"

static int order[64];
static int norder;
static pthread_mutex_t mu;

static uint64_t spawn(void *(*fn)(void *), intptr_t arg)
{
	struct gr_create c = {.start = fn, .arg = (void *)arg};
	struct gr_thread *t;

	ck_assert_int_eq(gr_thread_create(&c, &t), 0);
	return t->handle;
}

static void *lock_and_log(void *arg)
{
	ck_assert_int_eq(gr_mutex_lock(&mu, &GR_FOREVER), 0);
	order[norder++] = (int)(intptr_t)arg;
	ck_assert_int_eq(gr_mutex_unlock(&mu), 0);
	return NULL;
}

START_TEST(lock_mutex_hands_over_in_arrival_order)
{
	uint64_t h[5];

	pthread_mutex_init(&mu, NULL);
	ck_assert_int_eq(gr_start(), 0);
	ck_assert_int_eq(gr_mutex_lock(&mu, &GR_FOREVER), 0);
	for (int i = 0; i < 5; i++)
		h[i] = spawn(lock_and_log, i + 1);
	gr_yield(); /* all five queue up behind main */
	ck_assert_int_eq(mu.__data.__lock, 2);
	ck_assert_int_eq(gr_mutex_unlock(&mu), 0);
	/* handed to the oldest waiter, not freed */
	ck_assert_int_ne(mu.__data.__lock, 0);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(gr_thread_join(h[i], 0, NULL), 0);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(order[i], i + 1);
	ck_assert_int_eq(mu.__data.__lock, 0);
	ck_assert_int_eq(mu.__data.__nusers, 0);
}
END_TEST

static void *timed_locker(void *arg)
{
	struct timespec abs;
	struct gr_timeout to = {&abs, CLOCK_MONOTONIC, 0};

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &abs);
	abs.tv_nsec += 5000000;
	if (abs.tv_nsec >= GR_NSEC) {
		abs.tv_sec++;
		abs.tv_nsec -= GR_NSEC;
	}
	return (void *)(intptr_t)gr_mutex_lock(&mu, &to);
}

START_TEST(lock_timed_out_waiter_leaves_the_queue)
{
	void *r;

	pthread_mutex_init(&mu, NULL);
	ck_assert_int_eq(gr_start(), 0);
	ck_assert_int_eq(gr_mutex_lock(&mu, &GR_FOREVER), 0);
	uint64_t h = spawn(timed_locker, 0);
	ck_assert_int_eq(gr_thread_join(h, 0, &r), 0);
	ck_assert_int_eq((int)(intptr_t)r, -ETIMEDOUT);
	ck_assert_ptr_null(gr_first_waiter(&mu.__data.__lock));
	ck_assert_int_eq(mu.__data.__lock, 1); /* nobody waits any more */
	ck_assert_int_eq(gr_mutex_unlock(&mu), 0);
	ck_assert_int_eq(mu.__data.__lock, 0);
}
END_TEST

START_TEST(lock_mutex_kinds_follow_glibc)
{
	pthread_mutexattr_t a;
	pthread_mutex_t m;

	ck_assert_int_eq(gr_start(), 0);
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&m, &a);
	ck_assert_int_eq(gr_mutex_unlock(&m), -EPERM);
	ck_assert_int_eq(gr_mutex_lock(&m, &GR_FOREVER), 0);
	ck_assert_int_eq(gr_mutex_lock(&m, &GR_FOREVER), -EDEADLK);
	ck_assert_int_eq(gr_mutex_lock(&m, &GR_TRY), -EBUSY);
	ck_assert_int_eq(gr_mutex_unlock(&m), 0);

	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&m, &a);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(gr_mutex_lock(&m, &GR_FOREVER), 0);
	ck_assert_uint_eq(m.__data.__count, 3);
	m.__data.__count = ~0u; /* the counter's limit, as glibc checks it */
	ck_assert_int_eq(gr_mutex_lock(&m, &GR_FOREVER), -EAGAIN);
	m.__data.__count = 3;
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(gr_mutex_unlock(&m), 0);
	ck_assert_int_eq(gr_mutex_unlock(&m), -EPERM);
	ck_assert_int_eq(m.__data.__lock, 0);
}
END_TEST

static pthread_mutex_t robust;

static void *die_holding(void *arg)
{
	(void)arg;
	ck_assert_int_eq(gr_mutex_lock(&robust, &GR_FOREVER), 0);
	gr_park(GR_WAIT_SLEEP, NULL, gr_now() + 2000000);
	return NULL; /* finishes still holding it */
}

START_TEST(lock_robust_passes_on_with_eownerdead)
{
	pthread_mutexattr_t a;

	ck_assert_int_eq(gr_start(), 0);
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&robust, &a);
	uint64_t h = spawn(die_holding, 0);
	gr_yield();
	/* main waits while the owner sleeps, then dies */
	ck_assert_int_eq(gr_mutex_lock(&robust, &GR_FOREVER), -EOWNERDEAD);
	ck_assert_int_eq(gr_mutex_consistent(&robust), 0);
	ck_assert_int_eq(gr_mutex_unlock(&robust), 0);
	ck_assert_int_eq(gr_mutex_lock(&robust, &GR_FOREVER), 0);
	ck_assert_int_eq(gr_mutex_unlock(&robust), 0);
	ck_assert_int_eq(gr_thread_join(h, 0, NULL), 0);

	/* dies again; this time nobody makes it consistent */
	h = spawn(die_holding, 0);
	ck_assert_int_eq(gr_thread_join(h, 0, NULL), 0);
	ck_assert_int_eq(gr_mutex_lock(&robust, &GR_FOREVER), -EOWNERDEAD);
	ck_assert_int_eq(gr_mutex_unlock(&robust), 0);
	ck_assert_int_eq(gr_mutex_lock(&robust, &GR_FOREVER), -ENOTRECOVERABLE);
}
END_TEST

START_TEST(lock_cond_timeout_reacquires_mutex)
{
	pthread_cond_t c = PTHREAD_COND_INITIALIZER;
	struct timespec abs;
	struct gr_timeout to = {&abs, CLOCK_REALTIME, 0};

	pthread_mutex_init(&mu, NULL);
	ck_assert_int_eq(gr_start(), 0);
	clock_gettime(CLOCK_REALTIME, &abs);
	abs.tv_nsec = (abs.tv_nsec + 10000000) % GR_NSEC;
	abs.tv_sec += abs.tv_nsec < 10000000;
	ck_assert_int_eq(gr_mutex_lock(&mu, &GR_FOREVER), 0);
	ck_assert_int_eq(gr_cond_wait(&c, &mu, &to), -ETIMEDOUT);
	ck_assert_int_eq(mu.__data.__owner, gr_rt.cur->owner_id);
	ck_assert_ptr_null(gr_first_waiter(&c));
	ck_assert_int_eq(gr_mutex_unlock(&mu), 0);
}
END_TEST

static sem_t sem;

static void *sem_taker(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)gr_sem_wait(&sem, &GR_FOREVER);
}

START_TEST(lock_sem_post_hands_unit_to_waiter)
{
	void *r;

	sem_init(&sem, 0, 0);
	ck_assert_int_eq(gr_start(), 0);
	uint64_t h = spawn(sem_taker, 0);
	gr_yield();
	ck_assert_int_eq(gr_sem_post(&sem), 0);
	/* the unit went to the waiter, so a trywait here finds none */
	ck_assert_int_eq(gr_sem_wait(&sem, &GR_TRY), -EAGAIN);
	ck_assert_int_eq(gr_thread_join(h, 0, &r), 0);
	ck_assert_int_eq((int)(intptr_t)r, 0);
	*(uint32_t *)&sem = SEM_VALUE_MAX;
	ck_assert_int_eq(gr_sem_post(&sem), -EOVERFLOW);
}
END_TEST

static uint32_t word;

static void *shared_waiter(void *arg)
{
	struct timespec ts = {0, 20000000};

	(void)arg;
	return (void *)gr_futex(&word, FUTEX_WAIT, 0, &ts, NULL, 0);
}

START_TEST(lock_futex_private_wake_misses_shared_waiter)
{
	void *r;

	ck_assert_int_eq(gr_start(), 0);
	uint64_t h = spawn(shared_waiter, 0);
	gr_yield();
	ck_assert_int_eq(gr_futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), 0);
	ck_assert_int_eq(gr_thread_join(h, 0, &r), 0);
	ck_assert_int_eq((long)r, -ETIMEDOUT);
	ck_assert_int_eq(gr_futex(&word, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0), -EAGAIN);
	h = spawn(shared_waiter, 0);
	gr_yield();
	ck_assert_int_eq(gr_futex(&word, FUTEX_WAKE, 1, NULL, NULL, 0), 1);
	ck_assert_int_eq(gr_thread_join(h, 0, &r), 0);
	ck_assert_int_eq((long)r, 0);
}
END_TEST

Suite *lock_suite(void)
{
	Suite *s = suite_create("lock");
	TCase *tc = tcase_create("lock");

	tcase_add_test(tc, lock_mutex_hands_over_in_arrival_order);
	tcase_add_test(tc, lock_timed_out_waiter_leaves_the_queue);
	tcase_add_test(tc, lock_mutex_kinds_follow_glibc);
	tcase_add_test(tc, lock_robust_passes_on_with_eownerdead);
	tcase_add_test(tc, lock_cond_timeout_reacquires_mutex);
	tcase_add_test(tc, lock_sem_post_hands_unit_to_waiter);
	tcase_add_test(tc, lock_futex_private_wake_misses_shared_waiter);
	suite_add_tcase(s, tc);
	return s;
}
