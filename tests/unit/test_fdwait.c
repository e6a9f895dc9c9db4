/* Waiting on file descriptors (runtime/fdwait.c), driven directly: a reader
 * parked on an empty pipe wakes when a writer writes, a writer parked on a
 * full pipe wakes when the reader drains it, deadlines expire, closing the
 * fd leaves its waiters on the file (a private dup, closed with the last
 * hold), a number reused where no hook saw the close is waited on again,
 * one fd twice in a poll set waits for both, a regular file is refused
 * (-EPERM: the caller reads it directly), and what is known of a number's
 * file goes with the number (close, a new fd, close_range, a foreign
 * close). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../runtime/clock.h"
#include "../../runtime/fdwait.h"
#include "../../runtime/sched.h"
#include "suites.h"

static int p[2];

static uint64_t spawn(void *(*fn)(void *), intptr_t arg)
{
	struct gr_create c = {.start = fn, .arg = (void *)arg};
	struct gr_thread *t;

	ck_assert_int_eq(gr_thread_create(&c, &t), 0);
	return t->handle;
}

static void *write_later(void *arg)
{
	(void)arg;
	gr_park(GR_WAIT_SLEEP, NULL, gr_now() + 10000000);
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	return NULL;
}

START_TEST(fdwait_reader_wakes_when_data_arrives)
{
	char c;

	ck_assert_int_eq(pipe2(p, O_NONBLOCK), 0);
	ck_assert_int_eq(gr_start(), 0);
	uint64_t w = spawn(write_later, 0);
	ck_assert_int_eq(read(p[0], &c, 1), -1);
	ck_assert_int_eq(errno, EAGAIN);
	int64_t t0 = gr_now();
	ck_assert_int_eq(gr_fd_wait(p[0], GR_FD_READ, 0), 0);
	ck_assert_int_ge(gr_now() - t0, 10000000);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	ck_assert_int_eq(c, 'x');
	ck_assert_int_eq(gr_thread_join(w, 0, NULL), 0);
	ck_assert_uint_eq(gr_fd_waiters, 0);
}
END_TEST

static void *drain_later(void *arg)
{
	char buf[4096];

	(void)arg;
	gr_park(GR_WAIT_SLEEP, NULL, gr_now() + 10000000);
	while (read(p[0], buf, sizeof(buf)) > 0)
		;
	return NULL;
}

START_TEST(fdwait_writer_wakes_when_pipe_drains)
{
	char buf[4096] = {0};

	ck_assert_int_eq(pipe2(p, O_NONBLOCK), 0);
	ck_assert_int_eq(gr_start(), 0);
	while (write(p[1], buf, sizeof(buf)) > 0)
		;
	ck_assert_int_eq(errno, EAGAIN);
	uint64_t d = spawn(drain_later, 0);
	ck_assert_int_eq(gr_fd_wait(p[1], GR_FD_WRITE, 0), 0);
	ck_assert_int_gt(write(p[1], buf, sizeof(buf)), 0);
	ck_assert_int_eq(gr_thread_join(d, 0, NULL), 0);
}
END_TEST

START_TEST(fdwait_deadline_expires)
{
	ck_assert_int_eq(pipe2(p, O_NONBLOCK), 0);
	ck_assert_int_eq(gr_start(), 0);
	int64_t t0 = gr_now();
	ck_assert_int_eq(gr_fd_wait(p[0], GR_FD_READ, t0 + 20000000), -ETIMEDOUT);
	ck_assert_int_ge(gr_now() - t0, 20000000);
	/* and the fd can be waited on again */
	ck_assert_int_eq(gr_fd_wait(p[0], GR_FD_READ, gr_now() + 1000000), -ETIMEDOUT);
}
END_TEST

static int keep;

static void *close_then_write(void *arg)
{
	(void)arg;
	gr_park(GR_WAIT_SLEEP, NULL, gr_now() + 10000000);
	gr_fd_closing(p[0]);
	close(p[0]);
	ck_assert_int_eq(write(keep, "y", 1), 1);
	return NULL;
}

START_TEST(fdwait_close_leaves_waiters_on_the_file)
{
	int fd, q[2];
	char c;

	ck_assert_int_eq(pipe2(p, O_NONBLOCK), 0);
	keep = p[1];
	ck_assert_int_eq(gr_start(), 0);
	uint64_t c1 = spawn(close_then_write, 0);
	fd = p[0];
	/* As in Linux: the wait goes on with the file, under a private dup. */
	ck_assert_int_eq(gr_fd_wait_hold(&fd, GR_FD_READ, 0), 0);
	ck_assert_int_ne(fd, p[0]);
	ck_assert_int_eq(read(fd, &c, 1), 1);
	ck_assert_int_eq(c, 'y');
	gr_fd_release(fd);
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1); /* the last hold closed it */
	ck_assert_int_eq(gr_thread_join(c1, 0, NULL), 0);
	/* the number is reused at once, and waiting on the new fd works */
	ck_assert_int_eq(pipe2(q, O_NONBLOCK), 0);
	ck_assert_int_eq(gr_fd_wait(q[0], GR_FD_READ, gr_now() + 1000000), -ETIMEDOUT);
}
END_TEST

static void *write_q_later(void *arg)
{
	gr_park(GR_WAIT_SLEEP, NULL, gr_now() + 10000000);
	ck_assert_int_eq(write((int)(intptr_t)arg, "z", 1), 1);
	return NULL;
}

START_TEST(fdwait_number_reused_unseen_is_added_again)
{
	int q[2], old;

	ck_assert_int_eq(pipe2(p, O_NONBLOCK), 0);
	ck_assert_int_eq(gr_start(), 0);
	/* An entry armed for p[0], then the number closed where no hook
	 * sees it (fclose in glibc) and handed to a new pipe. */
	ck_assert_int_eq(gr_fd_wait(p[0], GR_FD_READ, gr_now() + 1000000), -ETIMEDOUT);
	old = p[0];
	close(p[0]);
	ck_assert_int_eq(pipe2(q, O_NONBLOCK), 0);
	ck_assert_int_eq(q[0], old);
	uint64_t w = spawn(write_q_later, q[1]);
	ck_assert_int_eq(gr_fd_wait(q[0], GR_FD_READ, gr_now() + 5000000000LL), 0);
	ck_assert_int_eq(gr_thread_join(w, 0, NULL), 0);
}
END_TEST

START_TEST(fdwait_any_same_fd_twice_ors_events)
{
	struct pollfd fds[2];

	ck_assert_int_eq(pipe2(p, O_NONBLOCK), 0);
	ck_assert_int_eq(gr_start(), 0);
	/* The read end never becomes writable; the data makes it readable. */
	fds[0] = (struct pollfd){.fd = p[0], .events = POLLOUT};
	fds[1] = (struct pollfd){.fd = p[0], .events = POLLIN};
	uint64_t w = spawn(write_q_later, p[1]);
	ck_assert_int_eq(gr_fd_wait_any(fds, 2, gr_now() + 5000000000LL), 0);
	ck_assert_int_eq(poll(fds, 2, 0), 1);
	ck_assert_int_eq(gr_thread_join(w, 0, NULL), 0);
	ck_assert_uint_eq(gr_fd_waiters, 0);
}
END_TEST

START_TEST(fdwait_regular_file_is_refused)
{
	char path[] = "/tmp/gr-fdwait-XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	unlink(path);
	ck_assert_int_eq(gr_start(), 0);
	ck_assert_int_eq(gr_fd_wait(fd, GR_FD_READ, 0), -EPERM);
	ck_assert_int_eq(gr_fd_wait(-1, GR_FD_READ, 0), -EBADF);
}
END_TEST

START_TEST(fdwait_kind_forgotten_with_the_number)
{
	ck_assert_int_eq(gr_start(), 0);
	ck_assert_int_eq(gr_fd_kind(200), GR_FD_KIND_UNKNOWN);
	gr_fd_set_kind(200, GR_FD_KIND_REGULAR);
	gr_fd_set_notry(200);
	ck_assert_int_eq(gr_fd_kind(200), GR_FD_KIND_REGULAR);
	ck_assert_int_eq(gr_fd_notry(200), 1);
	gr_fd_closing(200); /* close, dup2 onto it */
	ck_assert_int_eq(gr_fd_kind(200), GR_FD_KIND_UNKNOWN);
	ck_assert_int_eq(gr_fd_notry(200), 0);
	gr_fd_set_kind(200, GR_FD_KIND_SOCKET);
	gr_fd_forget(200); /* a new fd under the number */
	ck_assert_int_eq(gr_fd_kind(200), GR_FD_KIND_UNKNOWN);
	/* close_range: the range only. */
	gr_fd_set_kind(199, GR_FD_KIND_FIFO);
	gr_fd_set_kind(200, GR_FD_KIND_FIFO);
	gr_fd_set_kind(202, GR_FD_KIND_FIFO);
	gr_fd_closing_range(200, 201);
	ck_assert_int_eq(gr_fd_kind(199), GR_FD_KIND_FIFO);
	ck_assert_int_eq(gr_fd_kind(200), GR_FD_KIND_UNKNOWN);
	ck_assert_int_eq(gr_fd_kind(202), GR_FD_KIND_FIFO);
	gr_fd_closing_range(202, ~0U); /* closefrom */
	ck_assert_int_eq(gr_fd_kind(202), GR_FD_KIND_UNKNOWN);
	/* A close on a foreign thread: every number. */
	gr_fd_set_kind(202, GR_FD_KIND_REGULAR);
	gr_fd_forget_all();
	ck_assert_int_eq(gr_fd_kind(199), GR_FD_KIND_UNKNOWN);
	ck_assert_int_eq(gr_fd_kind(202), GR_FD_KIND_UNKNOWN);
}
END_TEST

Suite *fdwait_suite(void)
{
	Suite *s = suite_create("fdwait");
	TCase *tc = tcase_create("fdwait");

	tcase_add_test(tc, fdwait_reader_wakes_when_data_arrives);
	tcase_add_test(tc, fdwait_writer_wakes_when_pipe_drains);
	tcase_add_test(tc, fdwait_deadline_expires);
	tcase_add_test(tc, fdwait_close_leaves_waiters_on_the_file);
	tcase_add_test(tc, fdwait_number_reused_unseen_is_added_again);
	tcase_add_test(tc, fdwait_any_same_fd_twice_ors_events);
	tcase_add_test(tc, fdwait_regular_file_is_refused);
	tcase_add_test(tc, fdwait_kind_forgotten_with_the_number);
	suite_add_tcase(s, tc);
	return s;
}
