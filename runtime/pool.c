#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>

#include "foreign.h"
#include "fork.h"
#include "real.h"
#include "sched.h"
#include "tls.h"
#include "wait.h"
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

/* libuv starts its pool threads at its first job, inside uv_queue_work
 * (uv_once), and glibc's pthread_create calls the program's calloc there
 * (the new thread's DTV): a malloc with a lock of its own (jemalloc's)
 * may have to wait for a green thread that holds it. So the first job is
 * queued by a green thread that waits as one (gr_pool_thread_create), and
 * every other job waits for the pool to be up: libuv's once, in progress,
 * would make the OS thread wait in glibc. */
enum { POOL_DOWN, POOL_STARTING, POOL_UP };
static int pool_state;
static struct gr_thread *starter; /* the green thread starting the pool */

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

int gr_pool_thread_create(pthread_t *th, const pthread_attr_t *libuv_attr, void *(*start)(void *),
			  void *arg)
{
	/* Anything else (the hub, a callback) keeps the runtime's way. */
	int green = pool_state == POOL_STARTING && gr_rt.cur == starter;
	pthread_attr_t attr;
	size_t stack;
	sigset_t all;
	int err;

	err = gr_foreign_own_start(&start, &arg);
	if (err < 0)
		return err;
	/* From here to glibc's return, the program's code glibc calls runs as
	 * the starter's: a lock its malloc waits for parks only this thread,
	 * and the others run meanwhile. */
	if (green)
		gr_rt.inside = 0;
	/* It takes none of the program's signals, which belong to green
	 * threads: the attr says so, as the starter's mask is its own. */
	sigfillset(&all);
	pthread_attr_init(&attr);
	if (libuv_attr && pthread_attr_getstacksize(libuv_attr, &stack) == 0)
		pthread_attr_setstacksize(&attr, stack);
	err = -pthread_attr_setsigmask_np(&attr, &all);
	if (err == 0)
		err = gr_tls_os_thread_create(th, &attr, start, arg);
	pthread_attr_destroy(&attr);
	if (green)
		gr_rt.inside = 1;
	if (err < 0)
		gr_real.__libc_free(arg); /* the trampoline's, which never ran */
	return err;
}

static int queue(uv_work_t *req, uv_work_cb fn, uv_after_work_cb after)
{
	int was = gr_rt.inside, r;

	gr_rt.inside = 1;
	r = uv_queue_work(&gr_rt.loop, req, fn, after);
	gr_rt.inside = was;
	return r;
}

/* Queues the first job, which starts the pool. */
static int queue_starting(uv_work_t *req, uv_work_cb fn, uv_after_work_cb after)
{
	int r;

	pool_state = POOL_STARTING;
	starter = gr_rt.cur;
	r = queue(req, fn, after);
	starter = NULL;
	pool_state = POOL_UP;
	gr_wake_addr(&pool_state, GR_WAKE_ALL, GR_BITSET_ANY);
	return r;
}

int gr_pool_run(void (*fn)(void *), void *arg)
{
	struct job j = {.fn = fn, .arg = arg, .owner = gr_rt.cur, .gen = generation};
	int r;

	j.req.data = &j;
	while (pool_state == POOL_STARTING) /* another thread's start */
		gr_wait_addr(&pool_state, GR_BITSET_ANY, GR_WAIT_POOL, &pool_state, 0);
	r = pool_state == POOL_UP ? queue(&j.req, work, after_work)
				  : queue_starting(&j.req, work, after_work);
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
	/* libuv's child handler resets its once (registered as the start
	 * begins): the next job starts the child's pool, from this thread or
	 * another, whatever the parent's was doing. */
	pool_state = POOL_DOWN;
	starter = NULL;
	gr_work_after_fork(); /* the runtime's own workers too */
}
