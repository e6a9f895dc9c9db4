#include "wait.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "clock.h"
#include "fdwait.h"
#include "fork.h"
#include "log.h"

/* Buckets of a fixed table, each a doubly linked queue of waiters of the
 * addresses that hash to it, in the kernel's futex order: a real-time
 * waiter stands ahead of every waiter of a lower priority (and of every
 * plain one), behind those of its own, so the highest-priority waiter is
 * woken first (a mutex handed on, a semaphore posted) and waiters of one
 * priority oldest first. 4096 buckets: a 1,000-thread contended mutex is
 * one bucket of 1,000, walked only to find the first waiter (the head). */
#define NBUCKETS 4096

struct bucket {
	struct gr_thread *head;
	struct gr_thread *tail;
};

static struct bucket buckets[NBUCKETS];

static struct bucket *bucket_of(const void *addr)
{
	uintptr_t a = (uintptr_t)addr;

	a ^= a >> 12;
	a *= 0x9e3779b97f4a7c15ULL;
	return &buckets[(a >> 40) & (NBUCKETS - 1)];
}

static void enqueue(struct bucket *b, struct gr_thread *t)
{
	struct gr_thread *after = b->tail;

	/* Plain waiters (rt_prio 0) go to the tail without a walk. */
	while (after && after->rt_prio < t->rt_prio)
		after = after->q_prev;
	t->q_prev = after;
	t->q_next = after ? after->q_next : b->head;
	if (t->q_next)
		t->q_next->q_prev = t;
	else
		b->tail = t;
	if (after)
		after->q_next = t;
	else
		b->head = t;
}

static void dequeue(struct bucket *b, struct gr_thread *t)
{
	if (t->q_prev)
		t->q_prev->q_next = t->q_next;
	else
		b->head = t->q_next;
	if (t->q_next)
		t->q_next->q_prev = t->q_prev;
	else
		b->tail = t->q_prev;
	t->q_next = t->q_prev = NULL;
	t->q_addr = NULL;
	/* The next waiter is likely the next one woken (a mutex handed on,
	 * a semaphore posted again), and every waiter is cold: fetch the one
	 * after it, and the frames the next one will return through, whose
	 * block the previous call fetched. */
	if (b->head) {
		const struct gr_thread *h = b->head;
		const char *sp = h->ctx.sp;
		if (h->q_next)
			__builtin_prefetch(h->q_next);
		if (sp)
			for (int i = 0; i < 512; i += 64)
				__builtin_prefetch(sp + i);
	}
}

void gr_wait_cancel(struct gr_thread *t)
{
	if (t->q_addr)
		dequeue(bucket_of(t->q_addr), t);
	else if (t->wait == GR_WAIT_FD && t->wait_obj)
		gr_fd_wait_cancel(t->wait_obj); /* fd waits keep lists of their own */
}

int gr_wait_addr(const void *addr, uint32_t bitset, enum gr_wait why, void *obj, int64_t deadline)
{
	struct gr_thread *self = gr_rt.cur;
	int r;

	GR_ASSERT(!self->q_addr); /* on one queue at a time */
	self->q_addr = addr;
	self->q_bitset = bitset;
	enqueue(bucket_of(addr), self);
	r = gr_park(why, obj, deadline);
	/* Woken, or timed out: already off the queue. -EINTR: a signal
	 * handler ran, and took us off too (it may have waited itself). */
	if (self->q_addr)
		dequeue(bucket_of(self->q_addr), self);
	return r;
}

int gr_wake_addr(const void *addr, int n, uint32_t bitset)
{
	return gr_wake_addr_result(addr, n, bitset, 0);
}

int gr_wake_addr_result(const void *addr, int n, uint32_t bitset, int result)
{
	struct bucket *b = bucket_of(addr);
	struct gr_thread *t = b->head;
	int woken = 0;

	while (t && woken < n) {
		struct gr_thread *next = t->q_next;
		if (t->q_addr == addr && (t->q_bitset & bitset)) {
			dequeue(b, t);
			gr_wake(t, result);
			woken++;
		}
		t = next;
	}
	return woken;
}

int gr_requeue_addr(const void *addr, const void *to, int nwake, int nmove)
{
	struct bucket *b = bucket_of(addr), *tb = bucket_of(to);
	struct gr_thread *t = b->head;
	int done = 0, moved = 0;

	while (t && (done < nwake || moved < nmove)) {
		struct gr_thread *next = t->q_next;
		if (t->q_addr == addr) {
			dequeue(b, t);
			if (done < nwake) {
				gr_wake(t, 0);
				done++;
			} else {
				t->q_addr = to;
				enqueue(tb, t);
				moved++;
			}
		}
		t = next;
	}
	return done + moved;
}

void gr_wake_waiter(struct gr_thread *t, int result)
{
	dequeue(bucket_of(t->q_addr), t);
	gr_wake(t, result);
}

struct gr_thread *gr_wake_first(const void *addr, int result, int *more)
{
	struct bucket *b = bucket_of(addr);
	struct gr_thread *t = b->head, *n;

	while (t && t->q_addr != addr)
		t = t->q_next;
	*more = 0;
	if (!t)
		return NULL;
	for (n = t->q_next; n; n = n->q_next)
		if (n->q_addr == addr) {
			*more = 1;
			break;
		}
	dequeue(b, t);
	gr_wake(t, result);
	return t;
}

struct gr_thread *gr_first_waiter(const void *addr)
{
	for (struct gr_thread *t = bucket_of(addr)->head; t; t = t->q_next)
		if (t->q_addr == addr)
			return t;
	return NULL;
}

void gr_wait_after_fork(void)
{
	/* Only the thread that forked survives, and it waits for nothing. */
	memset(buckets, 0, sizeof(buckets));
}
