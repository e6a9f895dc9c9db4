/* What a new thread is given: glibc's stack rules (attr.c), the kernel's
 * rules for scheduling policies (schedattr.c), the real-time run queues
 * (sched.c), thread ids and the /proc paths naming them (tid.c), and the
 * stack classes of any size and guard (stack.c). Check runs each test in a
 * child process. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../runtime/attr.h"
#include "../../runtime/clock.h"
#include "../../runtime/sched.h"
#include "../../runtime/schedattr.h"
#include "../../runtime/stack.h"
#include "../../runtime/tid.h"
#include "suites.h"

START_TEST(attr_stack_must_hold_tls)
{
	size_t tls = gr_attr_tls_static();

	ck_assert_uint_gt(tls, 0);
	ck_assert_int_eq(gr_attr_check_stack(16384, 4096), tls + 2048 > 16384 ? -EINVAL : 0);
	ck_assert_int_eq(gr_attr_check_stack(tls + 4096, 4096), 0);
	ck_assert_int_eq(gr_attr_check_stack(1 << 20, 4096), 0);
	/* a guard too large for the size (glibc's overflow check) */
	ck_assert_int_eq(gr_attr_check_stack((size_t)-4096, 8192), -EINVAL);
	ck_assert_int_eq(gr_attr_check_user_stack(tls + 1024), -EINVAL);
	ck_assert_int_eq(gr_attr_check_user_stack(tls + 4096), 0);
}
END_TEST

START_TEST(attr_default_is_glibcs)
{
	pthread_attr_t a;
	size_t size, guard;

	ck_assert_int_eq(gr_start(), 0);
	ck_assert_int_eq(pthread_getattr_default_np(&a), 0);
	pthread_attr_getstacksize(&a, &size);
	pthread_attr_getguardsize(&a, &guard);
	pthread_attr_destroy(&a);
	ck_assert_uint_eq(gr_thread_defaults.stack_size, size);
	ck_assert_uint_eq(gr_thread_defaults.guard_size, guard);
}
END_TEST

START_TEST(schedattr_kernel_rules)
{
	gr_real_init();
	ck_assert_int_eq(gr_schedattr_check(SCHED_OTHER, 0, 12345, 0), -EINVAL);
	ck_assert_int_eq(gr_schedattr_check(SCHED_OTHER, 0, SCHED_OTHER, 1), -EINVAL);
	ck_assert_int_eq(gr_schedattr_check(SCHED_OTHER, 0, SCHED_FIFO, 0), -EINVAL);
	ck_assert_int_eq(gr_schedattr_check(SCHED_OTHER, 0, SCHED_FIFO, 100), -EINVAL);
	ck_assert_int_eq(gr_schedattr_check(SCHED_OTHER, 0, SCHED_BATCH, 0), 0);
	ck_assert_int_eq(gr_schedattr_check(SCHED_OTHER, 0, SCHED_IDLE, 0), 0);
}
END_TEST

static int ran[8], nran;

static void *note(void *arg)
{
	ran[nran++] = (int)(intptr_t)arg;
	return NULL;
}

START_TEST(sched_realtime_first_by_priority)
{
	static const int prio[] = {0, 10, 30, 20, 30};
	uint64_t h[5];

	ck_assert_int_eq(gr_start(), 0);
	for (int i = 0; i < 5; i++) {
		struct gr_create c = {.start = note, .arg = (void *)(intptr_t)i};
		struct gr_thread *t;
		ck_assert_int_eq(gr_thread_create(&c, &t), 0);
		/* set directly: the privilege check is the kernel's business */
		gr_runq_requeue(t, prio[i] ? SCHED_FIFO : SCHED_OTHER, prio[i]);
		h[i] = t->handle;
	}
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(gr_thread_join(h[i], 0, NULL), 0);
	ck_assert_int_eq(nran, 5);
	ck_assert_int_eq(ran[0], 2); /* 30, first made */
	ck_assert_int_eq(ran[1], 4); /* 30 */
	ck_assert_int_eq(ran[2], 3); /* 20 */
	ck_assert_int_eq(ran[3], 1); /* 10 */
	ck_assert_int_eq(ran[4], 0); /* SCHED_OTHER last */
}
END_TEST

static void *park_forever(void *arg)
{
	(void)arg;
	gr_park(GR_WAIT_SLEEP, NULL, gr_now() + 1000000000LL);
	return NULL;
}

START_TEST(tid_ids_index_and_paths)
{
	struct gr_create c = {.start = park_forever};
	struct gr_thread *t[3];
	char buf[128], want[128];

	ck_assert_int_eq(gr_start(), 0);
	ck_assert_int_eq(gr_tid_of(gr_rt.cur), gr_rt.os_tid);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(gr_thread_create(&c, &t[i]), 0);
	for (int i = 0; i < 3; i++) {
		ck_assert(gr_tid_is_green_range(gr_tid_of(t[i])));
		ck_assert_ptr_eq(gr_tid_find(gr_tid_of(t[i])), t[i]);
	}
	struct gr_thread *late;
	ck_assert_int_eq(gr_thread_create(&c, &late), 0); /* after the index was made */
	ck_assert_ptr_eq(gr_tid_find(gr_tid_of(late)), late);
	ck_assert_ptr_eq(gr_tid_find(gr_rt.os_tid), gr_rt.cur);
	ck_assert_ptr_null(gr_tid_find(12345678));

	snprintf(buf, sizeof(buf), "/proc/self/task/%d/comm", gr_tid_of(t[1]));
	snprintf(want, sizeof(want), "/proc/self/task/%d/comm", gr_rt.os_tid);
	ck_assert_str_eq(gr_tid_map_path(buf, buf + 64, 64), want);
	snprintf(buf, sizeof(buf), "/proc/%d/task/%d", (int)getpid(), gr_tid_of(t[2]));
	snprintf(want, sizeof(want), "/proc/%d/task/%d", (int)getpid(), gr_rt.os_tid);
	ck_assert_str_eq(gr_tid_map_path(buf, buf + 64, 64), want);
	snprintf(buf, sizeof(buf), "/proc/%d/status", gr_tid_of(t[0]));
	snprintf(want, sizeof(want), "/proc/%d/status", gr_rt.os_tid);
	ck_assert_str_eq(gr_tid_map_path(buf, buf + 64, 64), want);
	ck_assert_str_eq(gr_tid_map_path("/proc/self/status", buf, 64), "/proc/self/status");
	ck_assert_str_eq(gr_tid_map_path("/proc/12x/status", buf, 64), "/proc/12x/status");
	ck_assert_str_eq(gr_tid_map_path("/etc/passwd", buf, 64), "/etc/passwd");
}
END_TEST

START_TEST(stack_classes_of_any_size_and_guard)
{
	struct gr_stack s[50];
	struct gr_stack_stats st;
	int in_guard;

	for (int i = 0; i < 50; i++) {
		ck_assert_int_eq(
			gr_stack_alloc_guarded(64 * 1024 + i * 4096, (i % 3) * 8192, &s[i]), 0);
		ck_assert_uint_eq(gr_stack_guard_size(&s[i]),
				  i % 3 ? (size_t)(i % 3) * 8192 : 4096);
		struct gr_stack f;
		ck_assert_int_eq(gr_stack_find(s[i].lo - 1, &f, &in_guard), 1);
		ck_assert_int_eq(in_guard, 1);
		ck_assert_int_eq(gr_stack_find(s[i].lo, &f, &in_guard), 1);
		ck_assert_int_eq(in_guard, 0);
	}
	gr_stack_stats(&st);
	ck_assert_uint_ge(st.classes, 50);
	for (int i = 0; i < 50; i++)
		gr_stack_free(&s[i]);
}
END_TEST

Suite *thread_attr_suite(void)
{
	Suite *s = suite_create("thread_attr");
	TCase *tc = tcase_create("thread_attr");

	tcase_add_test(tc, attr_stack_must_hold_tls);
	tcase_add_test(tc, attr_default_is_glibcs);
	tcase_add_test(tc, schedattr_kernel_rules);
	tcase_add_test(tc, sched_realtime_first_by_priority);
	tcase_add_test(tc, tid_ids_index_and_paths);
	tcase_add_test(tc, stack_classes_of_any_size_and_guard);
	suite_add_tcase(s, tc);
	return s;
}
