/* Calls that have no readiness event to wait for (name lookups; with
 * GREENIFY_FILE_IO=pool, file I/O) run on libuv's thread pool while the
 * green thread that made them parks (pool.c). */
#ifndef GR_POOL_H
#define GR_POOL_H

#include <pthread.h>

/* Runs fn(arg) on a pool thread and parks the current green thread until
 * it is done. fn runs on a foreign OS thread: everything it calls is libc
 * itself, and it must not touch the runtime. Returns 0, or -errno when the
 * pool cannot take the job (then nothing ran). */
int gr_pool_run(void (*fn)(void *), void *arg);

/* libuv's pthread_create of a pool thread (preload/thread.c passes it
 * here, as libuv calls it from inside the runtime): a thread of the
 * runtime's own (foreign.h) with every signal blocked. Made by the green
 * thread that queues the first job, the program's code glibc calls for it
 * (its calloc) runs as that thread's. 0 or -errno. */
int gr_pool_thread_create(pthread_t *th, const pthread_attr_t *libuv_attr, void *(*start)(void *),
			  void *arg);

/* Jobs queued or running, here and on the workers of worker.h (the
 * deadlock check counts them). */
extern unsigned gr_pool_jobs;

#endif
