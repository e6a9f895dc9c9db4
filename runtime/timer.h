/* Deadlines of parked green threads: a 4-ary min-heap in one array, and
 * beside it a run of entries that came in deadline order.
 *
 * A heap of pointers into the threads (intrusive nodes) touches one thread
 * control block per level, and each block is on its own stack page: with
 * 100,000 sleepers every comparison was a cache and TLB miss. Here entries
 * are {deadline, owner} pairs packed in an array, so sifting reads
 * contiguous memory only. Removal is lazy: the owner forgets its entry, and
 * the entry is dropped when it reaches the top (gr_timers_top's caller
 * decides whether an entry is still wanted).
 * The common case, many threads sleeping or waiting the same duration,
 * adds deadlines in increasing order: such an entry (no earlier than the
 * run's last) is appended to the run, a ring, and taken from its head, with
 * no sifting. A heap's pop walks down log4(n) levels whose lower ones are
 * cold with 100,000 sleepers; the run reads the next entry beside the last.
 * Entries out of order go to the heap; the earliest is the earlier of the
 * two heads. Both arrays grow by doubling, when a thread is created (the
 * scheduler reserves an entry per live thread, so that a park never
 * allocates and never fails: each parked thread has one live entry, and
 * abandoned ones are dropped to make room). */
#ifndef GR_TIMER_H
#define GR_TIMER_H

#include <stddef.h>
#include <stdint.h>

struct gr_tentry {
	int64_t deadline; /* monotonic ns */
	void *owner;	  /* whose deadline (a struct gr_thread) */
};

struct gr_timers {
	struct gr_tentry *a; /* the heap; a[0] is its earliest */
	struct gr_tentry *q; /* the run: a ring of cap entries, in order */
	size_t n;	     /* entries in both, including abandoned ones */
	size_t hn;	     /* entries in the heap */
	size_t qh;	     /* the run's first entry */
	size_t qn;	     /* entries in the run */
	size_t cap;	     /* entries each array holds (a power of two) */
};

/* Makes room for n entries: 0, or -ENOMEM. */
int gr_timers_reserve(struct gr_timers *h, size_t n);
/* Adds an entry, growing the array if it is full: 0, or -ENOMEM. */
int gr_timers_add(struct gr_timers *h, int64_t deadline, void *owner);
/* The earliest entry, or NULL when empty. */
static inline const struct gr_tentry *gr_timers_top(const struct gr_timers *h)
{
	const struct gr_tentry *r = h->qn ? &h->q[h->qh] : NULL;

	if (!h->hn)
		return r;
	return r && r->deadline < h->a[0].deadline ? r : &h->a[0];
}
/* Removes the earliest entry. */
void gr_timers_pop(struct gr_timers *h);
/* Drops every entry for which keep() says 0, in O(n): used when abandoned
 * entries outnumber live ones. */
void gr_timers_filter(struct gr_timers *h, int (*keep)(const struct gr_tentry *));
/* Calls fn on every entry, in no particular order. */
void gr_timers_each(const struct gr_timers *h, void (*fn)(const struct gr_tentry *));
/* Forgets every entry (the arrays stay). */
void gr_timers_clear(struct gr_timers *h);

#endif
