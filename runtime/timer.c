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

int gr_timers_reserve(struct gr_timers *h, size_t n)
{
	size_t cap = h->cap ? h->cap : 1024;
	struct gr_tentry *a;

	if (n <= h->cap)
		return 0;
	while (cap < n)
		cap *= 2;
	a = realloc(h->a, cap * sizeof(*a));
	if (!a)
		return -ENOMEM;
	h->a = a;
	h->cap = cap;
	return 0;
}

int gr_timers_add(struct gr_timers *h, int64_t deadline, void *owner)
{
	if (h->n == h->cap && gr_timers_reserve(h, h->n + 1) < 0)
		return -ENOMEM;
	h->a[h->n].deadline = deadline;
	h->a[h->n].owner = owner;
	sift_up(h->a, h->n++);
	return 0;
}

void gr_timers_pop(struct gr_timers *h)
{
	if (h->n == 0)
		return;
	h->a[0] = h->a[--h->n];
	if (h->n)
		sift_down(h->a, h->n, 0);
}

void gr_timers_filter(struct gr_timers *h, int (*keep)(const struct gr_tentry *))
{
	size_t j = 0;

	for (size_t i = 0; i < h->n; i++)
		if (keep(&h->a[i]))
			h->a[j++] = h->a[i];
	h->n = j;
	/* Floyd's heap construction: sift down every inner node, last first. */
	for (size_t i = h->n / ARITY + 1; i-- > 0;)
		if (i < h->n)
			sift_down(h->a, h->n, i);
}
