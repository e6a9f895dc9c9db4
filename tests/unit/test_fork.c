/* The child of fork (runtime/fork.c), driven directly: a green thread that
 * is not main forks while main joins it, one thread sleeps and another waits
 * on a pipe. The child must hold only the forking thread (queues, timers
 * and fd waiters empty), answer a join of a lost thread as glibc's child
 * does, and then sleep, wait on an fd and run new threads on a loop of its
 * own. The parent's threads go on as before. */
#include <errno.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../runtime/clock.h"
#include "../../runtime/fdwait.h"
#include "../../runtime/sched.h"
#include "suites.h"

#define MS(n) ((int64_t)(n)*1000000)

static int pfd[2];
static uint64_t sleeper_h, waiter_h;

static void *sleeper(void *arg)
{
	gr_park(GR_WAIT_SLEEP, NULL, gr_now() + MS(100));
	return arg;
}

static void *waiter(void *arg)
{
	return gr_fd_wait(pfd[0], GR_FD_READ, 0) == 0 ? arg : NULL;
}

static void *echo(void *arg)
{
	return arg;
}

static uint64_t spawn(void *(*fn)(void *), intptr_t arg)
{
	struct gr_create c = {.start = fn, .arg = (void *)arg};
	struct gr_thread *t;

	return gr_thread_create(&c, &t) == 0 ? t->handle : 0;
}

/* In the child: 0 when all holds, else which check failed (its exit code;
 * the child must not use Check's own channel). */
static int child_checks(const struct gr_thread *self)
{
	void *r = (void *)1;
	int64_t t0;

	if (gr_rt.cur != self || gr_rt.all != self || self->all_next)
		return 1;
	if (gr_rt.live != 1 || gr_rt.runq_head || gr_rt.live_timers || gr_fd_waiters)
		return 2;
	if (gr_thread_join(sleeper_h, 0, &r) != 0 || r != NULL)
		return 3;
	if (gr_thread_join(sleeper_h, 0, &r) != -ESRCH)
		return 4;
	if (gr_thread_done(waiter_h) != 1 || gr_thread_detach(waiter_h) != 0)
		return 5;
	t0 = gr_now();
	if (gr_park(GR_WAIT_SLEEP, NULL, t0 + MS(20)) != -ETIMEDOUT || gr_now() - t0 < MS(20))
		return 6;
	if (gr_thread_join(spawn(echo, 7), 0, &r) != 0 || r != (void *)7)
		return 7;
	if (write(pfd[1], "c", 1) != 1 || gr_fd_wait(pfd[0], GR_FD_READ, MS(1000)) != 0)
		return 8;
	return 0;
}

static void *forker(void *arg)
{
	int status = -1;
	pid_t pid;

	(void)arg;
	pid = fork();
	if (pid == 0)
		_exit(child_checks(gr_rt.cur));
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return (void *)-1;
	return (void *)(intptr_t)WEXITSTATUS(status);
}

START_TEST(fork_child_keeps_only_the_caller)
{
	uint64_t f;
	void *r;

	ck_assert_int_eq(pipe(pfd), 0);
	ck_assert_int_eq(gr_start(), 0);
	sleeper_h = spawn(sleeper, 1);
	waiter_h = spawn(waiter, 2);
	f = spawn(forker, 0);
	ck_assert(sleeper_h && waiter_h && f);
	gr_yield(); /* the three run until they wait */
	ck_assert_int_eq(gr_thread_join(f, 0, &r), 0);
	ck_assert_int_eq((int)(intptr_t)r, 0); /* the child's checks */
	/* The parent's waiter still waits on its pipe: the child's byte, read
	 * by nobody there, wakes it here too. */
	ck_assert_int_eq(gr_thread_join(waiter_h, 0, &r), 0);
	ck_assert_ptr_eq(r, (void *)2);
	ck_assert_int_eq(gr_thread_join(sleeper_h, 0, &r), 0);
	ck_assert_ptr_eq(r, (void *)1);
}
END_TEST

Suite *fork_suite(void)
{
	Suite *s = suite_create("fork");
	TCase *tc = tcase_create("fork");

	tcase_add_test(tc, fork_child_keeps_only_the_caller);
	suite_add_tcase(s, tc);
	return s;
}
