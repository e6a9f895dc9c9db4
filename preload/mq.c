/* POSIX message queues: mq_receive, mq_timedreceive, mq_send,
 * mq_timedsend. An mqd_t is an fd, readable while the queue has a message
 * and writable while it has room, so these are green by readiness. The try
 * that cannot block is the timed call with a time already past (the
 * epoch): it takes or adds a message if it can and fails with ETIMEDOUT
 * where it would wait, without changing the queue's O_NONBLOCK, which the
 * program and other processes share; then the thread parks on the queue's
 * readiness until it may succeed, or until the caller's absolute time
 * (CLOCK_REALTIME, checked against that clock each time the thread wakes).
 *
 * As natively: each is a cancellation point; a handler with SA_RESTART lets
 * the wait go on, one without ends it with EINTR; a queue the program
 * opened with O_NONBLOCK gives EAGAIN; a timeout that is not a valid time
 * is EINVAL, and one that cannot be read EFAULT, before anything else;
 * EMSGSIZE, EBADF, EINVAL (priority) are the kernel's, from the try.
 *
 * A queue's notification (mq_notify) is sent only when a message comes to
 * an empty queue that no receiver is blocked on in the kernel: a green
 * receiver that parked on readiness is none, so the notification went out
 * as well (glibc's rt/tst-mqueue5). Once the program has asked for one
 * notification, a receive that must wait is the blocking call on a worker
 * thread, where the kernel sees it waiting (it does not say when the
 * registration ends: from then on, for every queue).
 *
 * mq_close is glibc's close system call made inside libc, where the close
 * hook does not see it: it tells runtime/fdwait.c first, as close does, so
 * that a wait on the queue in another thread goes on with the queue. */
#include <mqueue.h>
#include <time.h>

#include "../runtime/clock.h"
#include "../runtime/fdwait.h"
#include "../runtime/ready.h"
#include "../runtime/uaccess.h"
#include "work.h"

static const struct timespec past; /* the epoch: "do not wait" */
static int notify_asked;	   /* an mq_notify registration succeeded */

/* glibc declares the timeouts nonnull, but the kernel takes NULL as "no
 * timeout", and so do we. */
#pragma GCC diagnostic ignored "-Wnonnull-compare"

struct mqop {
	mqd_t q;
	char *buf;
	size_t len;
	unsigned prio;	    /* mq_send */
	unsigned *prio_out; /* mq_receive */
	int send;
};

static ssize_t try_once(const struct mqop *m)
{
	ssize_t r;

	if (m->send)
		r = GR_REAL(mq_timedsend)(m->q, m->buf, m->len, m->prio, &past);
	else
		r = GR_REAL(mq_timedreceive)(m->q, m->buf, m->len, m->prio_out, &past);
	return r < 0 ? -errno : r;
}

struct mqjob {
	const struct mqop *m;
	const struct timespec *abs;
};

static long run_receive(void *p)
{
	const struct mqjob *j = p;
	const struct mqop *m = j->m;

	/* glibc declares mq_timedreceive's timeout nonnull: no timeout is
	 * mq_receive. */
	if (!j->abs)
		return gr_neg_errno(GR_REAL(mq_receive)(m->q, m->buf, m->len, m->prio_out));
	return gr_neg_errno(GR_REAL(mq_timedreceive)(m->q, m->buf, m->len, m->prio_out, j->abs));
}

/* A receive that must wait, blocked in the kernel on a worker (the top
 * comment); 1 when *r is its answer, 0 when no worker could be had. */
static int receive_on_worker(const struct mqop *m, const struct timespec *abs, ssize_t *r)
{
	struct mqjob j = {m, abs};
	long v;

	if (gr_work(run_receive, &j, GR_WORK_KICK | GR_WORK_RESTART | GR_WORK_CANCEL, &v) < 0)
		return 0;
	*r = v;
	return 1;
}

/* The call for a green thread; abs is the caller's timeout (NULL: none),
 * already read. Returns the call's result or -errno. A queue descriptor
 * closed (mq_close, close) or replaced (dup2) during the wait: the call
 * goes on with its queue, as a blocked one does in Linux, through the
 * private dup of it that the wait left in m->q (ready.h). */
static ssize_t green(struct mqop *m, const struct timespec *abs)
{
	int what = m->send ? GR_FD_WRITE : GR_FD_READ;

	for (;;) {
		ssize_t r = try_once(m);
		int64_t deadline = 0;
		if (r != -ETIMEDOUT)
			return r;
		if (!m->send && __atomic_load_n(&notify_asked, __ATOMIC_RELAXED) &&
		    receive_on_worker(m, abs, &r))
			return r;
		if (abs) {
			struct timespec now;
			clock_gettime(CLOCK_REALTIME, &now);
			int64_t left = gr_ts_ns(abs) - gr_ts_ns(&now);
			if (left <= 0)
				return -ETIMEDOUT;
			deadline = gr_now() + left;
		}
		int fd = (int)m->q, w = gr_ready_wait(&fd, what, deadline, 1);
		m->q = (mqd_t)fd;
		if (w < 0 && w != -ETIMEDOUT)
			return w;
	}
}

/* The plain call, or -1 when the green one applies (the caller's timeout
 * is then in *t). */
static int plain(mqd_t q, const struct timespec *abs, struct timespec *t)
{
	if (!gr_green() || gr_fd_nonblocking((int)q) != 0)
		return 1; /* a bad mqd_t too: the call says EBADF */
	if (!abs)
		return 0;
	/* An unreadable or invalid time fails at once in the kernel. */
	return gr_copy_in(t, abs, sizeof(*t)) < 0 || t->tv_sec < 0 || t->tv_nsec < 0 ||
	       t->tv_nsec >= GR_NSEC;
}

static ssize_t call(struct mqop *m, const struct timespec *abs)
{
	mqd_t q = m->q;
	ssize_t r;

	gr_cancel_begin();
	r = green(m, abs);
	if (m->q != q)
		gr_fd_release((int)m->q);
	gr_cancel_end(r == -EINTR);
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	gr_maybe_yield();
	return r;
}

GR_EXPORT ssize_t mq_timedreceive(mqd_t q, char *restrict buf, size_t len, unsigned *restrict prio,
				  const struct timespec *restrict abs)
{
	struct mqop m = {.q = q, .buf = buf, .len = len, .prio_out = prio};
	struct timespec t = {0, 0};
	int saved = errno;
	ssize_t r;

	if (plain(q, abs, &t))
		return GR_REAL(mq_timedreceive)(q, buf, len, prio, abs);
	r = call(&m, abs ? &t : NULL);
	if (r >= 0)
		errno = saved;
	return r;
}

GR_EXPORT ssize_t mq_receive(mqd_t q, char *buf, size_t len, unsigned *prio)
{
	struct mqop m = {.q = q, .buf = buf, .len = len, .prio_out = prio};
	int saved = errno;
	ssize_t r;

	if (plain(q, NULL, NULL))
		return GR_REAL(mq_receive)(q, buf, len, prio);
	r = call(&m, NULL);
	if (r >= 0)
		errno = saved;
	return r;
}

GR_EXPORT int mq_timedsend(mqd_t q, const char *buf, size_t len, unsigned prio,
			   const struct timespec *abs)
{
	struct mqop m = {.q = q, .buf = (char *)buf, .len = len, .prio = prio, .send = 1};
	struct timespec t = {0, 0};
	int saved = errno;
	ssize_t r;

	if (plain(q, abs, &t))
		return GR_REAL(mq_timedsend)(q, buf, len, prio, abs);
	r = call(&m, abs ? &t : NULL);
	if (r >= 0)
		errno = saved;
	return (int)r;
}

GR_EXPORT int mq_send(mqd_t q, const char *buf, size_t len, unsigned prio)
{
	struct mqop m = {.q = q, .buf = (char *)buf, .len = len, .prio = prio, .send = 1};
	int saved = errno;
	ssize_t r;

	if (plain(q, NULL, NULL))
		return GR_REAL(mq_send)(q, buf, len, prio);
	r = call(&m, NULL);
	if (r >= 0)
		errno = saved;
	return (int)r;
}

GR_EXPORT int mq_close(mqd_t q)
{
	if (gr_green())
		gr_fd_closing((int)q);
	return GR_REAL(mq_close)(q);
}

GR_EXPORT int mq_notify(mqd_t q, const struct sigevent *sev)
{
	int r = GR_REAL(mq_notify)(q, sev);

	if (r == 0 && sev)
		__atomic_store_n(&notify_asked, 1, __ATOMIC_RELAXED);
	return r;
}
