/* The pool of worker threads for blocking calls (worker.h).
 *
 * Jobs queue under one lock; a worker takes the oldest, runs it with
 * GR_SIG_OWN unblocked, and hands it back through a list the runtime
 * thread drains when a uv_async wakes its loop. A green thread whose wait
 * a signal or a cancellation interrupts kicks the worker (GR_SIG_OWN with
 * our mark, under the lock, only while that worker still runs this job)
 * and waits for the job to come back, kicking again on a short timer: a
 * kick that lands after the worker unblocked the signal but before it
 * entered the call is lost, and the call then waits as if nobody had
 * asked. A kick that lands once the call returned stays pending (the
 * worker blocks the signal again at once) and is consumed when the worker
 * next unblocks it, before its next call: it never interrupts another job.
 * A SIGURG of the program's that the kernel gives a worker in its call is
 * noted for the green threads (signal.c), and the call, which it cut
 * short for nobody, runs again. A SIGPIPE the kernel raised for a call
 * that failed with EPIPE (the worker blocks it) is taken back and goes
 * with the job to the calling thread, whose it would have been. */
#include "worker.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* gr_cancel_begin/end: in cancel.h where sched.h is split. */
#if __has_include("cancel.h")
#include "cancel.h"
#endif
#include "clock.h"
#include "config.h"
#include "log.h"
#include "pool.h"
#include "real.h"
#include "sched.h"
#include "tls.h"
#include "signal.h"

#define IDLE_NS	      (10 * GR_NSEC)	/* a worker idle this long ends */
#define KICK_FIRST_NS (1000 * 1000)	/* first re-kick after 1 ms... */
#define KICK_MAX_NS   (50 * 1000000)	/* ...backing off to 50 ms */
#define WORKER_STACK  (2 * 1024 * 1024) /* NSS modules may recurse deeply */

/* ABANDONED: taken back from the queue, as no worker is left to run it. */
enum { QUEUED, RUNNING, FINISHED, ABANDONED };

struct job {
	long (*fn)(void *);	 /* the call, on a worker */
	void *arg;		 /* its argument */
	long result;		 /* what fn returned */
	struct gr_thread *owner; /* the parked green thread */
	struct job *next;	 /* queue link, then finished-list link */
	pid_t tid;		 /* the worker running it (RUNNING) */
	int state;		 /* QUEUED, RUNNING, FINISHED, ABANDONED: under lock */
	int kicked;		 /* a kick was sent (under lock): an EINTR is
				    the caller's, not a spurious one */
	int piped;		 /* the call raised a SIGPIPE, in pipe_info */
	siginfo_t pipe_info;
	int done; /* handed back (runtime thread only) */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t more = PTHREAD_COND_INITIALIZER; /* a job was queued */
static struct job *head, *tail;			       /* queued jobs, oldest first */
static unsigned queued;				       /* jobs in that queue */
static struct job *finished;			       /* run, not yet handed back */
static unsigned threads, idle;			       /* workers alive, and waiting for a job */
static unsigned starting;    /* of threads, those whose pthread_create has not returned */
static int kicks;	     /* GR_SIG_OWN is ours: calls can be interrupted */
static uv_async_t async;     /* a worker finished a job */
static int started;	     /* async is set up */
static const char kick_mark; /* a kick's si_value points here */
static __thread int on_worker __attribute__((tls_model("initial-exec")));

int gr_work_on_worker(void)
{
	return on_worker;
}

int gr_work_kick_landed(const void *mark, void *uc)
{
	/* Its work: the call it interrupted returns EINTR. GR_SIG_OWN's
	 * action has SA_RESTART (the runtime thread's calls must not end
	 * because of it) where the architecture lets the handler undo the
	 * kernel's restart. */
	if (mark != &kick_mark || !on_worker)
		return 0;
	gr_ctx_fail_syscall(uc, gr_signal_may_fail);
	return 1;
}

unsigned gr_work_threads(void)
{
	unsigned n;

	gr_real.pthread_mutex_lock(&lock);
	n = threads;
	gr_real.pthread_mutex_unlock(&lock);
	return n;
}

/* A call that failed with EPIPE raised a SIGPIPE, which the kernel queued
 * for this worker (which blocks it): it is the calling thread's (signal.h),
 * and goes back with the job. */
static void take_sigpipe(struct job *j)
{
	static const struct timespec zero;
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGPIPE);
	j->piped = gr_real.sigtimedwait(&s, &j->pipe_info, &zero) == SIGPIPE;
}

static void *worker_main(void *unused)
{
	pid_t tid = (pid_t)gr_real.syscall(SYS_gettid);
	sigset_t kick;

	(void)unused;
	on_worker = 1;
	sigemptyset(&kick);
	if (kicks)
		sigaddset(&kick, GR_SIG_OWN);
	gr_real.pthread_mutex_lock(&lock);
	for (;;) {
		while (!head) {
			int64_t t = gr_now() + IDLE_NS;
			struct timespec until = {.tv_sec = t / GR_NSEC, .tv_nsec = t % GR_NSEC};
			int r;
			idle++;
			r = gr_real.pthread_cond_clockwait(&more, &lock, CLOCK_MONOTONIC, &until);
			idle--;
			if (r == ETIMEDOUT && !head) {
				threads--;
				gr_real.pthread_mutex_unlock(&lock);
				return NULL;
			}
		}
		struct job *j = head;
		head = j->next;
		if (!head)
			tail = NULL;
		queued--;
		j->state = RUNNING;
		j->tid = tid;
		gr_real.pthread_mutex_unlock(&lock);

		long r;
		for (;;) {
			gr_real.pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
			r = j->fn(j->arg);
			gr_real.pthread_sigmask(SIG_BLOCK, &kick, NULL);
			if (r == -EPIPE)
				take_sigpipe(j);
			gr_real.pthread_mutex_lock(&lock);
			if (r != -EINTR || j->kicked)
				break;
			/* A SIGURG of the program's cut it short. */
			gr_real.pthread_mutex_unlock(&lock);
		}
		j->result = r;
		j->state = FINISHED;
		j->next = finished;
		finished = j;
		uv_async_send(&async);
	}
}

/* On the runtime thread, in the loop: hands finished jobs back. */
static void on_finished(uv_async_t *h)
{
	struct job *list;

	(void)h;
	gr_real.pthread_mutex_lock(&lock);
	list = finished;
	finished = NULL;
	gr_real.pthread_mutex_unlock(&lock);
	while (list) {
		struct job *j = list;
		list = j->next;
		j->done = 1;
		gr_pool_jobs--;
		if (j->owner->state == GR_PARKED &&
		    (j->owner->wait == GR_WAIT_WORK || j->owner->wait == GR_WAIT_POOL) &&
		    j->owner->wait_obj == j)
			gr_wake(j->owner, 0);
	}
}

static int start(void)
{
	int was = gr_rt.inside, err;

	gr_rt.inside = 1;
	err = uv_async_init(&gr_rt.loop, &async, on_finished);
	if (err == 0)
		uv_unref((uv_handle_t *)&async); /* jobs keep the hub awake, not this */
	gr_rt.inside = was;
	if (err < 0)
		return err;
	/* Before the first worker starts: from now on its kicks land. */
	err = gr_signal_take_own();
	if (err < 0)
		gr_log(GR_LOG_WARN,
		       "cannot take SIGURG (%s): calls on workers will not be "
		       "interrupted by signals",
		       strerror(-err));
	kicks = err == 0;
	started = 1;
	return 0;
}

/* Takes j back from the queue, where it is. Under lock. */
static void unqueue(struct job *j)
{
	struct job **p = &head, *prev = NULL;

	while (*p != j) {
		prev = *p;
		p = &(*p)->next;
	}
	*p = j->next;
	if (tail == j)
		tail = prev;
	queued--;
}

/* A worker could not be started and none is left: the queued jobs go
 * back to their threads, which make their calls plainly (-ENOSYS), all but
 * mine, which is not handed out yet. Under lock. */
static void abandon_queued(struct job *mine)
{
	while (head) {
		struct job *j = head;
		unqueue(j);
		j->state = ABANDONED;
		if (j == mine)
			continue;
		j->done = 1;
		gr_pool_jobs--;
		if (j->owner->state == GR_PARKED && j->owner->wait_obj == j)
			gr_wake(j->owner, 0);
	}
}

/* Queues j, starting a worker if none is idle for it. 0, or -ENOSYS when
 * there is no worker and none can be started (j is not queued). The
 * worker starts outside the lock: glibc's pthread_create calls the
 * program's calloc, which may park this thread (a lock of its malloc that
 * another green thread holds), and the lock is every other submitter's
 * and the loop's (on_finished), on this one OS thread. */
static int submit(struct job *j)
{
	int spawn, err = 0;

	if (!started && start() < 0)
		return -ENOSYS;
	gr_real.pthread_mutex_lock(&lock);
	spawn = queued + 1 > idle + starting && threads < gr_config.workers;
	if (spawn) {
		threads++; /* counted now: a submitter meanwhile queues for it */
		starting++;
	} else if (threads == 0) {
		gr_real.pthread_mutex_unlock(&lock);
		return -ENOSYS;
	}
	j->state = QUEUED;
	j->next = NULL;
	if (tail)
		tail->next = j;
	else
		head = j;
	tail = j;
	queued++;
	gr_real.pthread_cond_signal(&more);
	gr_real.pthread_mutex_unlock(&lock);
	if (!spawn)
		return 0;
	/* Every signal blocked (they are the program's). */
	err = gr_tls_own_thread_start(worker_main, NULL, WORKER_STACK, NULL, 0);
	gr_real.pthread_mutex_lock(&lock);
	starting--;
	if (err < 0) {
		threads--;
		gr_log(GR_LOG_WARN, "cannot start a worker thread (%u running): %s", threads,
		       strerror(-err));
		if (threads == 0)
			abandon_queued(j);
	}
	err = j->state == ABANDONED ? -ENOSYS : 0;
	gr_real.pthread_mutex_unlock(&lock);
	return err;
}

/* Ends j early: a queued job leaves the queue (-EINTR, it never ran), a
 * running one gets a kick. */
static void interrupt(struct job *j)
{
	gr_real.pthread_mutex_lock(&lock);
	if (j->state == QUEUED) {
		unqueue(j);
		j->result = -EINTR;
		j->done = 1;
		gr_pool_jobs--;
	} else if (j->state == RUNNING) {
		j->kicked = 1;
		gr_signal_send_own(j->tid, &kick_mark);
	}
	gr_real.pthread_mutex_unlock(&lock);
}

/* Runs j once on a worker and parks until it is back. 0, or -ENOSYS (no
 * worker). *kicked: a signal or a cancellation interrupted it. */
static int run(struct job *j, int how, int *kicked)
{
	int64_t backoff = 0; /* 0: not interrupting */
	int kick;

	if (submit(j) < 0)
		return -ENOSYS;
	kick = (how & GR_WORK_KICK) && kicks; /* known once the pool started */
	gr_pool_jobs++;
	/* The job lives on this stack: whatever wakes us, wait for it. A
	 * call that signals may interrupt waits as GR_WAIT_WORK, so that
	 * they wake us (signal.c) but run no handler here meanwhile. */
	while (!j->done) {
		int w = gr_park(kick ? GR_WAIT_WORK : GR_WAIT_POOL, j,
				backoff ? gr_now() + backoff : 0);
		if (j->done || !kick)
			continue;
		if (!backoff) {
			if (w != -EINTR)
				continue;
			backoff = KICK_FIRST_NS; /* a signal or a cancellation came */
		} else if (backoff < KICK_MAX_NS) {
			backoff *= 2;
		}
		interrupt(j);
	}
	*kicked = backoff != 0;
	return j->state == ABANDONED ? -ENOSYS : 0; /* another's start failed */
}

int gr_work(long (*fn)(void *), void *arg, int how, long *result)
{
	struct gr_thread *self = gr_rt.cur;

	for (;;) {
		struct job j = {.fn = fn, .arg = arg, .owner = self};
		int kicked = 0, ran, again;

		/* The way in is a safe point: a signal pending before the call
		 * runs its handler first, and then does not interrupt it. */
		if (how & GR_WORK_CANCEL)
			gr_cancel_begin();
		else if (gr_rt.sig_pending || self->sig_pending)
			gr_signal_safe_point();
		if (run(&j, how, &kicked) < 0) {
			if (how & GR_WORK_CANCEL)
				gr_cancel_end(0);
			return -ENOSYS;
		}
		*result = j.result;
		/* The kernel raised it for the call: the caller's, as if it
		 * had made it (a kill()'s SIGPIPE taken instead stays the
		 * process's). */
		if (j.piped)
			gr_signal_requeue(self, &j.pipe_info,
					  gr_signal_is_own_kernel(&j.pipe_info));
		/* The call has stopped: the handlers held off meanwhile run
		 * now, as the kernel runs them once it has stopped a call. It
		 * then restarts a call that got nothing done when no handler
		 * ran (the signal went elsewhere, or is ignored now) or every
		 * one had SA_RESTART, where the call is restartable; never
		 * after a cancellation. */
		ran = gr_signal_interrupted();
		again = kicked && j.result == -EINTR && !self->cancel_kicked &&
			(ran == 0 || ((how & GR_WORK_RESTART) && self->sig_restart));
		if (how & GR_WORK_CANCEL)
			gr_cancel_end(j.result == -EINTR);
		if (!again)
			return 0;
	}
}

void gr_work_after_fork(void)
{
	/* The workers, and every job but none of this thread's, stayed in the
	 * parent; one of them may have held the lock. */
	pthread_mutex_t l = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t c = PTHREAD_COND_INITIALIZER;

	lock = l;
	more = c;
	head = tail = finished = NULL;
	queued = threads = idle = 0;
	if (started)
		async.pending = 0; /* a wake-up of the parent's */
}
