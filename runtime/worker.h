/* Blocking calls that have no readiness event to wait for (a file lock, a
 * System V semaphore, the open of a FIFO, a name lookup in NSS, kernel
 * AIO) run on worker threads of the runtime's own while the green thread
 * that made them parks (worker.c).
 *
 * The workers are a pool of their own, apart from libuv's four threads:
 * a job may block for minutes (a flock held by another process), so the
 * pool grows with demand, a thread per job that finds no idle worker, up to
 * GREENIFY_WORKERS, and a worker idle for a while ends. Workers block every
 * signal but the runtime's own (GR_SIG_OWN, signal.h), and that one only
 * while they are in a job's call, so that a signal for the waiting green
 * thread can end the call where the native call would end (EINTR), instead
 * of the call going on, and a lock being taken, behind the program's back:
 * the thread kicks the worker, and once the call is back its handlers run,
 * as the kernel runs them once it has stopped the call, and the call
 * restarts where the kernel would restart it. */
#ifndef GR_WORKER_H
#define GR_WORKER_H

/* How a job's call behaves when a signal handler runs in the thread that
 * waits for it, or a cancellation request comes (flags, or-ed). */
enum {
	GR_WORK_KICK = 1,    /* a handler interrupts the call (EINTR, or a
				partial transfer); else it runs to its end,
				and the handler after it */
	GR_WORK_RESTART = 2, /* with GR_WORK_KICK: when every handler had
				SA_RESTART, an interrupted call that got
				nothing done runs again, as the kernel
				restarts it */
	GR_WORK_CANCEL = 4,  /* a cancellation point: a request pending
				on the way in, or one that interrupts the
				call, unwinds the thread */
};

/* Runs fn(arg) on a worker thread and parks the current green thread until
 * it has returned. fn runs on a foreign OS thread: it calls libc itself
 * (never the runtime) and returns the call's result or -errno (the
 * worker's errno), which *result gets; it may run more than once (a
 * restart: the same call again). Returns 0, or -ENOSYS when no worker can
 * be had (then fn did not run this time: the caller makes the plain
 * call). An interrupted call gives what fn returned for it (-EINTR, a
 * partial count, or its result if it completed first); a job still queued
 * when interrupted does not run and gives -EINTR. The handlers of the
 * signals that came meanwhile have run when this returns. */
int gr_work(long (*fn)(void *), void *arg, int how, long *result);

/* Threads of the pool now, and the most there were (for the tests and the
 * stats). */
unsigned gr_work_threads(void);

/* From the trampoline, for a GR_SIG_OWN of ours carrying mark: 1 when it
 * is a kick landing on a worker thread (it has done its work: the call it
 * interrupted returns EINTR), else 0. */
int gr_work_kick_landed(const void *mark, void *uc);

/* Whether the calling OS thread is a worker: a signal of the program's
 * that the kernel gave it (GR_SIG_OWN, which a worker in its call does not
 * block) is the green threads'. */
int gr_work_on_worker(void);

/* In the child of fork: the workers are the parent's. */
void gr_work_after_fork(void);

#endif
