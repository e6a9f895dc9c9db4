/* Calls that have no readiness event to wait for (name lookups; with
 * GREENIFY_FILE_IO=pool, file I/O) run on libuv's thread pool while the
 * green thread that made them parks (pool.c). */
#ifndef GR_POOL_H
#define GR_POOL_H

/* Runs fn(arg) on a pool thread and parks the current green thread until
 * it is done. fn runs on a foreign OS thread: everything it calls is libc
 * itself, and it must not touch the runtime. Returns 0, or -errno when the
 * pool cannot take the job (then nothing ran). */
int gr_pool_run(void (*fn)(void *), void *arg);

/* Jobs queued or running, here and on the workers of worker.h (the
 * deadlock check counts them). */
extern unsigned gr_pool_jobs;

#endif
