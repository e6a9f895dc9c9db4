/* Process-shared barriers: glibc's algorithm (pthread_barrier_wait.c) on
 * glibc's struct pthread_barrier { in, current_round, count, shared, out },
 * so that threads of other processes, greenified or not, wait at the same
 * barrier. `in` counts every arrival since the last reset, a round ends
 * when current_round reaches the arrival's multiple of count, and the last
 * thread out of the last round before `in` would overflow resets it. Each
 * futex wait of glibc's is a green wait that is also a kernel wait
 * (kwait.h), each wake wakes our green waiters of the word and the
 * kernel's. */
#include <limits.h>
#include <stdint.h>

#include "kwait.h"
#include "lock.h"
#include "wait.h"

#define IN_THRESHOLD (UINT_MAX / 2)

struct barrier {
	unsigned in;
	unsigned current_round;
	unsigned count;
	int shared; /* FUTEX_PRIVATE_FLAG when process-shared (glibc's LLL_SHARED) */
	unsigned out;
};

static void wait_word(struct barrier *b, unsigned *w, unsigned val)
{
	/* A handler that ran does not end a barrier wait: the caller looks
	 * at the word again. */
	gr_kwait(w, val, b->shared != 0, w, GR_BITSET_ANY, GR_WAIT_BARRIER, b, 0);
}

static void wake_all(unsigned *w, int shared)
{
	gr_wake_addr(w, GR_WAKE_ALL, GR_BITSET_ANY);
	gr_futex_wake(w, GR_WAKE_ALL, shared);
}

int gr_barrier_wait_shared(pthread_barrier_t *pb)
{
	struct barrier *b = (struct barrier *)pb;
	unsigned i, count, max_in, cr, o;

	for (;;) {
		i = __atomic_fetch_add(&b->in, 1, __ATOMIC_ACQ_REL) + 1;
		count = b->count;
		if (count == 0)
			return -EINVAL;
		max_in = IN_THRESHOLD - IN_THRESHOLD % count;
		if (i <= max_in)
			break;
		/* Past the last round before a reset: wait for it. */
		while (i > max_in) {
			wait_word(b, &b->in, i);
			i = __atomic_load_n(&b->in, __ATOMIC_RELAXED);
		}
	}
	cr = __atomic_load_n(&b->current_round, __ATOMIC_RELAXED);
	while (cr + count <= i) {
		unsigned newcr = i - i % count;
		if (__atomic_compare_exchange_n(&b->current_round, &cr, newcr, 1, __ATOMIC_RELEASE,
						__ATOMIC_RELAXED)) {
			cr = newcr;
			wake_all(&b->current_round, b->shared != 0);
			if (i <= cr)
				goto leave;
			break;
		}
	}
	while (i > cr) {
		wait_word(b, &b->current_round, cr);
		cr = __atomic_load_n(&b->current_round, __ATOMIC_RELAXED);
	}
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
leave:
	o = __atomic_fetch_add(&b->out, 1, __ATOMIC_RELEASE) + 1;
	if (o == max_in) {
		int shared = b->shared != 0;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		__atomic_store_n(&b->current_round, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&b->out, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&b->in, 0, __ATOMIC_RELEASE);
		wake_all(&b->in, shared);
	}
	return i % count == 0; /* the preload says PTHREAD_BARRIER_SERIAL_THREAD */
}
