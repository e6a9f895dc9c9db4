#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>

#include "real.h"
#include "sched.h"

struct job {
	uv_work_t req;		 /* libuv's request; req.data points here */
	void (*fn)(void *);	 /* the call, on a pool thread */
	void *arg;		 /* its argument */
	struct gr_thread *owner; /* the parked green thread */
	int done;		 /* after_work ran */
};

unsigned gr_pool_jobs;

static void work(uv_work_t *req)
{
	struct job *j = req->data;

	j->fn(j->arg);
}

static void after_work(uv_work_t *req, int status)
{
	struct job *j = req->data;

	(void)status;
	j->done = 1;
	gr_pool_jobs--;
	if (j->owner->state == GR_PARKED && j->owner->wait == GR_WAIT_POOL)
		gr_wake(j->owner, 0);
}

int gr_pool_run(void (*fn)(void *), void *arg)
{
	struct job j = {.fn = fn, .arg = arg, .owner = gr_rt.cur};
	sigset_t all, old;
	int r;

	j.req.data = &j;
	/* Pool threads start on the first job and inherit this mask: they must
	 * take none of the program's signals, which belong to green threads. */
	sigfillset(&all);
	gr_real.pthread_sigmask(SIG_SETMASK, &all, &old);
	gr_rt.inside = 1;
	r = uv_queue_work(&gr_rt.loop, &j.req, work, after_work);
	gr_rt.inside = 0;
	gr_real.pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0)
		return r;
	gr_pool_jobs++;
	/* The job lives on this stack: wait for it whatever wakes us (a signal
	 * handler does not cancel a name lookup). */
	while (!j.done)
		gr_park(GR_WAIT_POOL, &j, 0);
	return 0;
}
