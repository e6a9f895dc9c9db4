/* Green barriers, in glibc's struct pthread_barrier and with its meaning of
 * each word, so that glibc's init (left to libc) and a barrier of count 1
 * used before the runtime started keep working:
 *   in             arrivals so far; arrival i belongs to the round that
 *                  ends when `in` reaches a multiple of count
 *   current_round  the arrivals whose round has ended (a multiple of count)
 *   count          threads per round
 *   out            arrivals that have left the barrier
 * A barrier may be destroyed, and its memory freed, as soon as its serial
 * thread returns (glibc's destroy waits until every thread of the round has
 * left). So a released waiter must never look at the barrier again: the
 * thread that ends the round wakes the waiters and counts them out itself.
 * Only a waiter that was off the queue, running a signal handler, when the
 * round ended finds out from current_round and counts itself out; destroy
 * waits for it. When everyone who entered has left, the words go back to
 * 0, as glibc resets them at its overflow threshold. */
#include <limits.h>
#include <stdint.h>

#include "lock.h"
#include "wait.h"

struct barrier {
	unsigned in;		/* arrivals so far */
	unsigned current_round; /* arrivals whose round has ended */
	unsigned count;		/* threads per round */
	int shared;		/* PTHREAD_PROCESS_SHARED or not (glibc's) */
	unsigned out;		/* arrivals that have left */
};

/* n more have left; wakes a destroy waiting for the last of them. */
static void leave(struct barrier *b, unsigned n)
{
	b->out += n;
	if (b->out != b->in)
		return;
	b->in = b->out = b->current_round = 0;
	gr_wake_addr(&b->in, GR_WAKE_ALL, GR_BITSET_ANY);
}

int gr_barrier_wait(pthread_barrier_t *pb)
{
	struct barrier *b = (struct barrier *)(void *)pb;

	if (b->shared)
		return gr_barrier_wait_shared(pb); /* barrier_shared.c */
	if (b->count == 0)
		return -EINVAL;
	unsigned i = ++b->in;
	unsigned end = b->current_round + b->count; /* where our round ends */
	if (i == end) {
		b->current_round = end;
		leave(b, 1 + (unsigned)gr_wake_addr(&b->current_round, GR_WAKE_ALL, GR_BITSET_ANY));
		return 1; /* the preload says PTHREAD_BARRIER_SERIAL_THREAD */
	}
	for (;;) {
		/* 0: the round's last thread woke us and counted us out; the
		 * barrier may be gone already. A signal handler ran (-EINTR)
		 * and took us off the queue: the round may have ended without
		 * us, and the barrier lives until we say we left. */
		if (gr_wait_addr(&b->current_round, GR_BITSET_ANY, GR_WAIT_BARRIER, pb, 0) == 0)
			return 0;
		if ((int)(b->current_round - end) >= 0) {
			leave(b, 1);
			return 0;
		}
	}
}

int gr_barrier_destroy(pthread_barrier_t *pb)
{
	struct barrier *b = (struct barrier *)(void *)pb;

	while (b->out != b->in)
		gr_wait_addr(&b->in, GR_BITSET_ANY, GR_WAIT_BARRIER, pb, 0);
	return 0;
}
