/* What the hooks of calls run on worker threads share (runtime/worker.h):
 * the job that carries a call's arguments to the worker and its result
 * back, and the way back to libc's convention. */
#ifndef GR_PRELOAD_WORK_H
#define GR_PRELOAD_WORK_H

#include "hook.h"

#include <errno.h>

/* gr_cancel_begin/end: in cancel.h where sched.h is split. */
#if __has_include("../runtime/cancel.h")
#include "../runtime/cancel.h"
/* fopen's and freopen's open of a FIFO, made green (open.c): before glibc's
 * call, a green open of the path in the direction of mode and a
 * non-blocking one of the other, held in held[] so that glibc's own open
 * of the path finds its other end and does not wait; after it, both let
 * go. 0 (also when the path is no FIFO, or the open cannot wait), or -1
 * with errno when the green open failed (the call then answers NULL). */
int gr_fifo_ahead(const char *path, const char *mode, int held[2]);
void gr_fifo_behind(const int held[2]);

#endif
#include "../runtime/worker.h"

/* A call's result as the worker saw it: the value, or -errno. */
static inline long gr_neg_errno(long r)
{
	return r < 0 ? -errno : r;
}

/* libc's convention: -1 and errno, or the value; on success errno is what
 * it was when the call was made (a failed try on the way must not show). */
static inline long gr_work_ret(long r, int saved_errno)
{
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	errno = saved_errno;
	gr_maybe_yield();
	return r;
}

/* fopen's and freopen's open of a FIFO, made green (open.c): before glibc's
 * call, a green open of the path in the direction of mode and a
 * non-blocking one of the other, held in held[] so that glibc's own open
 * of the path finds its other end and does not wait; after it, both let
 * go. 0 (also when the path is no FIFO, or the open cannot wait), or -1
 * with errno when the green open failed (the call then answers NULL). */
int gr_fifo_ahead(const char *path, const char *mode, int held[2]);
void gr_fifo_behind(const int held[2]);

#endif
