/* Queued instances of real-time signals sent to the process (signal.h).
 *
 * The kernel queues every instance of a real-time signal (32 and up), each
 * with its siginfo (a sigqueue's value), where a standard one is pending
 * once. The trampoline takes them from the kernel one by one; signal.c's
 * pending sets are bit masks, so instances that arrived before the first
 * one's handler ran were one. Here they wait in arrival order, a fixed ring
 * per signal, until signal.c hands the next one to a thread (one pending
 * per thread at a time, as a bit can say). A full ring drops the newest
 * instance, as the kernel refuses one past RLIMIT_SIGPENDING.
 *
 * Producers are the trampoline (the runtime thread, perhaps interrupting
 * another push, or a worker's) and signal.c's requeue; the consumer is
 * signal.c's dispatch, on the runtime thread outside any handler of ours:
 * a bounded multi-producer queue without locks, each slot's sequence
 * saying whether it holds the instance of its lap. */
#include "signal.h"

#include <string.h>

#define RTQ_LEN	  16 /* instances kept per signal */
#define RTQ_FIRST 32 /* the first real-time signal, as the kernel counts */

struct rtq_slot {
	uint64_t seq; /* 2 * lap: free for that lap; 2 * lap + 1: full */
	siginfo_t info;
};

struct rtq {
	uint64_t head; /* next position to fill (producers) */
	uint64_t tail; /* next position to take (the consumer) */
	struct rtq_slot slot[RTQ_LEN];
};

static struct rtq queues[GR_NSIG - RTQ_FIRST];

static struct rtq *queue_of(int sig)
{
	return sig >= RTQ_FIRST && sig < GR_NSIG ? &queues[sig - RTQ_FIRST] : NULL;
}

int gr_sigqueue_push(int sig, const siginfo_t *info)
{
	struct rtq *q = queue_of(sig);
	uint64_t pos;

	if (!q)
		return -1;
	pos = __atomic_load_n(&q->head, __ATOMIC_RELAXED);
	for (;;) {
		struct rtq_slot *s = &q->slot[pos % RTQ_LEN];
		uint64_t free_seq = 2 * (pos / RTQ_LEN);
		uint64_t seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
		if (seq == free_seq) {
			if (__atomic_compare_exchange_n(&q->head, &pos, pos + 1, 0,
							__ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
				s->info = *info;
				__atomic_store_n(&s->seq, free_seq + 1, __ATOMIC_RELEASE);
				return 0;
			}
			/* pos now holds the head another producer moved */
		} else if (seq < free_seq) {
			return -2; /* full: the slot still holds an older lap's */
		} else {
			pos = __atomic_load_n(&q->head, __ATOMIC_RELAXED);
		}
	}
}

int gr_sigqueue_pop(int sig, siginfo_t *info)
{
	struct rtq *q = queue_of(sig);
	struct rtq_slot *s;
	uint64_t pos;

	if (!q)
		return 0;
	pos = q->tail;
	s = &q->slot[pos % RTQ_LEN];
	if (__atomic_load_n(&s->seq, __ATOMIC_ACQUIRE) != 2 * (pos / RTQ_LEN) + 1)
		return 0; /* empty, or a push not yet written (it notes again) */
	*info = s->info;
	__atomic_store_n(&s->seq, 2 * (pos / RTQ_LEN + 1), __ATOMIC_RELEASE);
	q->tail = pos + 1;
	return 1;
}

int gr_sigqueue_has(int sig)
{
	const struct rtq *q = queue_of(sig);

	return q && __atomic_load_n(&q->head, __ATOMIC_ACQUIRE) != q->tail;
}

void gr_sigqueue_flush(int sig)
{
	siginfo_t info;

	while (gr_sigqueue_pop(sig, &info))
		;
}

void gr_sigqueue_reset(void)
{
	memset(queues, 0, sizeof(queues));
}
