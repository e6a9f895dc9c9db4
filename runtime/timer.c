#include "timer.h"

#include <errno.h>
#include <stdlib.h>

#define ARITY 4

static void sift_up(struct gr_tentry *a, size_t i)
{
	struct gr_tentry e = a[i];

	while (i > 0) {
		size_t p = (i - 1) / ARITY;
		if (a[p].deadline <= e.deadline)
			break;
		a[i] = a[p];
		i = p;
	}
	a[i] = e;
}

static void sift_down(struct gr_tentry *a, size_t n, size_t i)
{
	struct gr_tentry e = a[i];

	for (;;) {
		size_t c = i * ARITY + 1, end = c + ARITY, best;
		if (c >= n)
			break;
		if (end > n)
			end = n;
		best = c;
		for (c++; c < end; c++)
			if (a[c].deadline < a[best].deadline)
				best = c;
		if (a[best].deadline >= e.deadline)
			break;
		a[i] = a[best];
		i = best;
	}
	a[i] = e;
}

/* The run's i-th entry, i from its head. */
static inline struct gr_tentry *run_at(const struct gr_timers *h, size_t i)
{
	return &h->q[(h->qh + i) & (h->cap - 1)];
}

/* Moves the run to the start of a new ring of cap entries. */
static void run_copy(const struct gr_timers *h, struct gr_tentry *to)
{
	for (size_t i = 0; i < h->qn; i++)
		to[i] = *run_at(h, i);
}

int gr_timers_reserve(struct gr_timers *h, size_t n)
{
	size_t cap = h->cap ? h->cap : 1024;
	struct gr_tentry *a, *q;

	if (n <= h->cap)
		return 0;
	while (cap < n)
		cap *= 2;
	if (cap > SIZE_MAX / sizeof(*a))
		return -ENOMEM;
	q = malloc(cap * sizeof(*q));
	if (!q)
		return -ENOMEM;
	a = realloc(h->a, cap * sizeof(*a));
	if (!a) {
		free(q);
		return -ENOMEM;
	}
	h->a = a;
	run_copy(h, q);
	free(h->q);
	h->q = q;
	h->qh = 0;
	h->cap = cap;
	return 0;
}

int gr_timers_add(struct gr_timers *h, int64_t deadline, void *owner)
{
	if (h->n == h->cap && gr_timers_reserve(h, h->n + 1) < 0)
		return -ENOMEM;
	h->n++;
	if (!h->qn || run_at(h, h->qn - 1)->deadline <= deadline) {
		struct gr_tentry *e = run_at(h, h->qn++);
		e->deadline = deadline;
		e->owner = owner;
		return 0;
	}
	h->a[h->hn].deadline = deadline;
	h->a[h->hn].owner = owner;
	sift_up(h->a, h->hn++);
	return 0;
}

void gr_timers_pop(struct gr_timers *h)
{
	const struct gr_tentry *e = gr_timers_top(h);

	if (!e)
		return;
	h->n--;
	if (h->qn && e == run_at(h, 0)) {
		h->qh = (h->qh + 1) & (h->cap - 1);
		h->qn--;
		return;
	}
	h->a[0] = h->a[--h->hn];
	if (h->hn)
		sift_down(h->a, h->hn, 0);
}

void gr_timers_filter(struct gr_timers *h, int (*keep)(const struct gr_tentry *))
{
	size_t j = 0, k = 0;

	for (size_t i = 0; i < h->hn; i++)
		if (keep(&h->a[i]))
			h->a[j++] = h->a[i];
	h->hn = j;
	/* Floyd's heap construction: sift down every inner node, last first. */
	for (size_t i = h->hn / ARITY + 1; i-- > 0;)
		if (i < h->hn)
			sift_down(h->a, h->hn, i);
	/* The run stays in order: kept entries close up behind its head. */
	for (size_t i = 0; i < h->qn; i++) {
		const struct gr_tentry *e = run_at(h, i);
		if (keep(e))
			*run_at(h, k++) = *e;
	}
	h->qn = k;
	h->n = h->hn + h->qn;
}

void gr_timers_each(const struct gr_timers *h, void (*fn)(const struct gr_tentry *))
{
	for (size_t i = 0; i < h->hn; i++)
		fn(&h->a[i]);
	for (size_t i = 0; i < h->qn; i++)
		fn(run_at(h, i));
}

void gr_timers_clear(struct gr_timers *h)
{
	h->n = h->hn = h->qh = h->qn = 0;
}
