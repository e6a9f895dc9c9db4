/* Green barriers, once and spin locks.
 *
 * Barrier: glibc's struct pthread_barrier { in, current_round, count,
 * shared, out }: pthread_barrier_init (glibc's) sets count and zeroes the
 * rest; here `in` counts arrivals of the current round. The last arrival
 * gets PTHREAD_BARRIER_SERIAL_THREAD and releases the others.
 *
 * Once: glibc's pthread_once_t, bit 0 "in progress", bit 1 "done". An
 * initialiser that blocks makes the other callers wait for it.
 *
 * Spin lock: glibc's own trylock and unlock do the work, since the int
 * means different things on different architectures (on x86_64 1 is free).
 * A green thread that finds it held yields until it is free: spinning would
 * never let the holder run. */
#include <stdint.h>

#include "lock.h"
#include "real.h"
#include "wait.h"

struct barrier {
	unsigned in;
	unsigned current_round;
	unsigned count;
	int shared;
	unsigned out;
};

int gr_barrier_wait(pthread_barrier_t *pb)
{
	struct barrier *b = (struct barrier *)pb;

	if (b->shared)
		return gr_barrier_wait_shared(pb); /* barrier_shared.c */
	if (b->count == 0)
		return -EINVAL;
	/* glibc's own counter runs over rounds; only the remainder is ours. */
	b->in %= b->count;
	if (++b->in == b->count) {
		b->in = 0;
		b->current_round++;
		gr_wake_addr(b, 0x7fffffff, GR_BITSET_ANY);
		return 1; /* the preload says PTHREAD_BARRIER_SERIAL_THREAD */
	}
	/* Until the round ends: a signal handler that ran in between may
	 * have made us miss the wake-up, never the round's end. */
	unsigned round = b->current_round;
	while (b->current_round == round)
		gr_wait_addr(b, GR_BITSET_ANY, GR_WAIT_BARRIER, pb, 0);
	return 0;
}

#define ONCE_IN_PROGRESS 1
#define ONCE_DONE	 2

int gr_once(pthread_once_t *once, void (*init)(void))
{
	while (*once & ONCE_IN_PROGRESS)
		gr_wait_addr(once, GR_BITSET_ANY, GR_WAIT_ONCE, once, 0);
	if (*once & ONCE_DONE)
		return 0;
	*once = ONCE_IN_PROGRESS;
	init();
	*once = ONCE_DONE;
	gr_wake_addr(once, 0x7fffffff, GR_BITSET_ANY);
	return 0;
}

int gr_spin_lock(pthread_spinlock_t *l, int try_only)
{
	while (gr_real.pthread_spin_trylock(l) != 0) {
		if (try_only)
			return -EBUSY;
		gr_yield();
	}
	return 0;
}
