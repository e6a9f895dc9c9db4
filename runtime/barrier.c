/* Green barriers: glibc's struct pthread_barrier { in, current_round, count,
 * shared, out }: pthread_barrier_init (glibc's) sets count and zeroes the
 * rest; here `in` counts arrivals of the current round. The last arrival
 * gets PTHREAD_BARRIER_SERIAL_THREAD and releases the others. */
#include <stdint.h>

#include "lock.h"
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
