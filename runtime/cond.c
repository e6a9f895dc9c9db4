/* Green condition variables. Waiters queue on the condition's address; the
 * object itself keeps only what pthread_cond_init put there (glibc's
 * __wrefs bit 1: the clock), so a static initializer, glibc's init, and a
 * condition signalled before the runtime started all work as they are.
 * No wake-up is lost: unlocking the mutex and queueing happen with no
 * switch in between.
 *
 * A process-shared condition (__wrefs bit 0) follows glibc's algorithm on
 * glibc's words instead (cond_shared.c). A private one that foreign OS
 * threads may use (foreign.h) keeps green waiters out of glibc's words:
 * a foreign signal tells the loop, and a green signal also runs glibc's
 * own signal when glibc's words count waiters (foreign threads in glibc's
 * wait): glibc's signal waits only for them, which run on their own OS
 * threads. */
#include "foreign.h"
#include "lock.h"
#include "real.h"
#include "wait.h"

/* glibc: __wrefs bit 1 set means CLOCK_MONOTONIC, bit 0 process-shared. */
#define COND_CLOCK_MONOTONIC 2
#define COND_SHARED	     1

clockid_t gr_cond_clock(const pthread_cond_t *c)
{
	return (c->__data.__wrefs & COND_CLOCK_MONOTONIC) ? CLOCK_MONOTONIC : CLOCK_REALTIME;
}

/* The wait itself; counted: in gr_foreign_parked meanwhile, from before
 * the unlock, so that a foreign signal that follows it sees us
 * (foreign.h). */
static inline __attribute__((always_inline)) int
wait_green(pthread_cond_t *c, pthread_mutex_t *m, const struct gr_timeout *to, int counted)
{
	int64_t deadline = 0;
	int waited, r;

	if (counted)
		__atomic_fetch_add(&gr_foreign_parked, 1, __ATOMIC_SEQ_CST);
	r = gr_mutex_unlock(m);
	if (r < 0) {
		if (counted)
			__atomic_fetch_sub(&gr_foreign_parked, 1, __ATOMIC_RELAXED);
		return r;
	}
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
	if (counted)
		__atomic_fetch_sub(&gr_foreign_parked, 1, __ATOMIC_RELAXED);
	/* The mutex is ours again before we return, timeout or not. */
	r = gr_mutex_lock(m, &GR_FOREVER);
	if (r < 0)
		return r; /* EOWNERDEAD / ENOTRECOVERABLE of a robust mutex */
	/* Woken by pthread_cancel: the caller acts on it now that the mutex
	 * is held again, as POSIX wants for the cleanup handlers. */
	return waited == -ETIMEDOUT ? -ETIMEDOUT : 0;
}

static __attribute__((noinline)) int wait_slow(pthread_cond_t *c, pthread_mutex_t *m,
					       const struct gr_timeout *to)
{
	if (c->__data.__wrefs & COND_SHARED)
		return gr_cond_wait_shared(c, m, to);
	return wait_green(c, m, to, 1);
}

int gr_cond_wait(pthread_cond_t *c, pthread_mutex_t *m, const struct gr_timeout *to)
{
	if (__builtin_expect((c->__data.__wrefs & COND_SHARED) | gr_foreign, 0))
		return wait_slow(c, m, to);
	return wait_green(c, m, to, 0);
}

/* A process-shared condition, or waiters in glibc's own wait (foreign
 * threads): __wrefs says either. */
static int signal_slow(pthread_cond_t *c, int all, unsigned wrefs)
{
	if (wrefs & COND_SHARED)
		return gr_cond_signal_shared(c, all);
	gr_wake_addr(c, all ? GR_WAKE_ALL : 1, GR_BITSET_ANY);
	if (wrefs >> 3)
		return all ? -gr_real.pthread_cond_broadcast(c) : -gr_real.pthread_cond_signal(c);
	return 0;
}

int gr_cond_signal(pthread_cond_t *c, int all)
{
	unsigned wrefs = __atomic_load_n(&c->__data.__wrefs, __ATOMIC_RELAXED);

	/* Anything but the clock bit. */
	if (__builtin_expect(wrefs & ~(unsigned)COND_CLOCK_MONOTONIC, 0))
		return signal_slow(c, all, wrefs);
	gr_wake_addr(c, all ? GR_WAKE_ALL : 1, GR_BITSET_ANY);
	return 0;
}

int gr_cond_destroy(pthread_cond_t *c)
{
	/* glibc's destroy waits for woken waiters to leave: for green ones,
	 * a green wait. */
	if (c->__data.__wrefs & COND_SHARED)
		gr_cond_destroy_wait(c);
	return -gr_real.pthread_cond_destroy(c);
}
