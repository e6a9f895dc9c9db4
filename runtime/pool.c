#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>

#include "foreign.h"
#include "fork.h"
#include "real.h"
#include "sched.h"
#include "worker.h"

struct job {
	uv_work_t req;		 /* libuv's request; req.data points here */
	void (*fn)(void *);	 /* the call, on a pool thread */
	void *arg;		 /* its argument */
	struct gr_thread *owner; /* the parked green thread */
	int done;		 /* after_work ran */
	unsigned gen;		 /* the process's generation when queued */
};

unsigned gr_pool_jobs;
/* Bumped in every fork child: a completion the parent's pool posted before
 * the fork may still come in, for a job of a thread that is gone. */
static unsigned generation;

/* On a pool thread. The job runs the program's code (a lookup calls its
 * malloc, which may take a mutex green threads take too: jemalloc's; its
 * NSS modules; callbacks): meanwhile the thread is a foreign one to the
 * hooks (foreign.h), whose locks, conditions and futexes follow the
 * protocol green threads see. Between jobs it is the runtime's own again:
 * libuv's queue lock and condition are glibc's alone. */
static void work(uv_work_t *req)
{
	struct job *j = req->data;

	gr_tls_own_thread = 0;
	j->fn(j->arg);
	gr_tls_own_thread = 1;
}

static void after_work(uv_work_t *req, int status)
{
	struct job *j = req->data;

	(void)status;
	if (j->gen != generation)
		return; /* the parent's: its thread is gone (fork.c keeps its stack) */
	j->done = 1;
	gr_pool_jobs--;
	if (j->owner->state == GR_PARKED && j->owner->wait == GR_WAIT_POOL)
		gr_wake(j->owner, 0);
}

/* Queues req; pool threads start on the first job and inherit the mask
 * they are started with: they must take none of the program's signals,
 * which belong to green threads. */
static int queue(uv_work_t *req, uv_work_cb fn, uv_after_work_cb after)
{
	sigset_t all, old;
	int was = gr_rt.inside, r;

	sigfillset(&all);
	gr_real.pthread_sigmask(SIG_SETMASK, &all, &old);
	gr_rt.inside = 1;
	r = uv_queue_work(&gr_rt.loop, req, fn, after);
	gr_rt.inside = was;
	gr_real.pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

int gr_pool_run(void (*fn)(void *), void *arg)
{
	struct job j = {.fn = fn, .arg = arg, .owner = gr_rt.cur, .gen = generation};
	int r;

	j.req.data = &j;
	r = queue(&j.req, work, after_work);
	if (r < 0)
		return r;
	gr_pool_jobs++;
	/* The job lives on this stack: wait for it whatever wakes us (a signal
	 * handler does not cancel a name lookup). */
	while (!j.done)
		gr_park(GR_WAIT_POOL, &j, 0);
	return 0;
}

void gr_pool_after_fork(void)
{
	/* libuv's own child handler makes the pool start new threads at the
	 * next job: the parent's are not the child's. */
	generation++;
	gr_pool_jobs = 0;
	gr_work_after_fork(); /* the runtime's own workers too */
}
