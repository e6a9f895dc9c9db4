/* Green condition variables. Waiters queue on the condition's address; the
 * object itself keeps only what pthread_cond_init put there (glibc's
 * __wrefs bit 1: the clock), so a static initializer, glibc's init, and a
 * condition signalled before the runtime started all work as they are.
 * No wake-up is lost: unlocking the mutex and queueing happen with no
 * switch in between. */
#include "lock.h"
#include "wait.h"

/* glibc: __wrefs bit 1 set means CLOCK_MONOTONIC. */
#define COND_CLOCK_MONOTONIC 2

clockid_t gr_cond_clock(const pthread_cond_t *c)
{
	return (c->__data.__wrefs & COND_CLOCK_MONOTONIC) ? CLOCK_MONOTONIC : CLOCK_REALTIME;
}

int gr_cond_wait(pthread_cond_t *c, pthread_mutex_t *m, const struct gr_timeout *to)
{
	int64_t deadline = 0;
	int waited, r;

	r = gr_mutex_unlock(m);
	if (r < 0)
		return r;
	waited = gr_timeout_deadline(to, &deadline);
	while (waited == 0) {
		waited = gr_wait_addr(c, GR_BITSET_ANY, GR_WAIT_COND, c, deadline);
		/* A signal handler ran: a condition wait carries on (glibc
		 * does), until its deadline. */
		if (waited == -EINTR && !gr_rt.cur->cancel_kicked)
			waited = deadline && gr_now() >= deadline ? -ETIMEDOUT : 0;
		else
			break;
	}
	/* The mutex is ours again before we return, timeout or not. */
	r = gr_mutex_lock(m, &GR_FOREVER);
	if (r < 0)
		return r; /* EOWNERDEAD / ENOTRECOVERABLE of a robust mutex */
	/* Woken by pthread_cancel: the caller acts on it now that the mutex
	 * is held again, as POSIX wants for the cleanup handlers. */
	return waited == -ETIMEDOUT ? -ETIMEDOUT : 0;
}

int gr_cond_signal(pthread_cond_t *c, int all)
{
	gr_wake_addr(c, all ? GR_WAKE_ALL : 1, GR_BITSET_ANY);
	return 0;
}
