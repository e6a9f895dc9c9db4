/* Barrier hooks: pthread_barrier_wait and pthread_barrier_destroy (which
 * waits until the threads of the last round have left, as glibc's does).
 * The work is in runtime/barrier.c; here only the result's convention (an
 * error number, or PTHREAD_BARRIER_SERIAL_THREAD for the thread that
 * completed the round). Left to libc: barrier init, barrierattr_*. */
#include "hook.h"

#include "../runtime/lock.h"

GR_EXPORT int pthread_barrier_wait(pthread_barrier_t *b)
{
	int r;

	if (!gr_green())
		return GR_REAL(pthread_barrier_wait)(b);
	r = gr_barrier_wait(b);
	return r < 0 ? -r : r == 1 ? PTHREAD_BARRIER_SERIAL_THREAD : 0;
}

GR_EXPORT int pthread_barrier_destroy(pthread_barrier_t *b)
{
	if (!gr_green())
		return GR_REAL(pthread_barrier_destroy)(b);
	return -gr_barrier_destroy(b);
}
