#include "stack.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fork.h"
#include "log.h"
#include "stack_int.h"

/* Under valgrind every green stack is registered as a stack, or memcheck
 * takes each switch for a wild stack-pointer move and the blocks at the top
 * of other stacks for stale memory below it (make valgrind). */
#if defined(GR_VALGRIND) && __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define REGISTER_STACK(lo, hi) VALGRIND_STACK_REGISTER(lo, hi)
#else
#define REGISTER_STACK(lo, hi) ((void)(lo), (void)(hi))
#endif

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

/* What a freed slot remembers, kept at the top of its stack. */
struct free_rec {
	void *next;	     /* the slot freed before this one, or NULL */
	uint32_t gen;	     /* uses of the slot so far */
	unsigned char guard; /* enum gr_guard the slot has */
};

#define FIRST_MAPPING_SLOTS 16
/* A mapping holds at least this many slots of a large class (glibc's 8 MiB
 * default makes 1 GiB hold only 127): mappings are few whatever the size. */
#define MAX_MAPPING_BYTES ((size_t)1 << 30)
#define MIN_BIG_SLOTS	  512
/* mprotect guards split mappings; stay well below vm.max_map_count. */
#define MPROTECT_BUDGET 16384

unsigned gr_slot_colours = 7;
size_t gr_stack_rec_gap;
size_t gr_stack_page;

static struct stack_class **classes; /* every class, most used first */
static unsigned nclasses, classes_cap;
static struct mapping **maps; /* every mapping, sorted by address */
static size_t nmaps, maps_cap;
static size_t carved_total;			   /* slots ever taken from mappings */
static int madvise_ok = 1;			   /* MADV_GUARD_INSTALL may work */
static unsigned mprotect_budget = MPROTECT_BUDGET; /* mprotect guards allowed */
static struct gr_stack_stats stats;

void gr_stack_test_limit_guards(int allow_madvise, unsigned budget)
{
	madvise_ok = allow_madvise;
	mprotect_budget = budget;
}

int gr_stack_madvise_guards_only(void)
{
	return madvise_ok && !stats.mprotect_guards && !stats.canaries;
}

/* The class of size and guard bytes (both whole pages), made on first use.
 * Classes are never freed (mappings point at them). */
static struct stack_class *class_for(size_t size, size_t guard)
{
	struct stack_class *c;

	for (unsigned i = 0; i < nclasses; i++)
		if (classes[i]->size == size && classes[i]->guard == guard) {
			c = classes[i];
			if (i > 0) { /* keep the busiest near the front */
				classes[i] = classes[i - 1];
				classes[i - 1] = c;
			}
			return c;
		}
	if (nclasses == classes_cap) {
		unsigned cap = classes_cap ? classes_cap * 2 : 8;
		struct stack_class **n = realloc(classes, cap * sizeof(*n));
		if (!n)
			return NULL;
		classes = n;
		classes_cap = cap;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->size = size;
	c->guard = guard;
	c->slot = size + guard;
	c->slot_inv = UINT64_MAX / c->slot;
	c->next_slots = FIRST_MAPPING_SLOTS;
	classes[nclasses++] = c;
	stats.classes = nclasses;
	return c;
}

static size_t max_mapping_bytes(const struct stack_class *c)
{
	size_t big = MIN_BIG_SLOTS * c->slot;

	return big > MAX_MAPPING_BYTES ? big : MAX_MAPPING_BYTES;
}

static char *mapping_end(const struct mapping *m)
{
	return m->base + m->nslots * m->cls->slot;
}

struct mapping *gr_stack_new_mapping(struct stack_class *c)
{
	size_t nslots = c->next_slots;
	size_t len;
	char *base;
	struct mapping *m;

	if (nslots * c->slot > max_mapping_bytes(c))
		nslots = max_mapping_bytes(c) / c->slot;
	if (nslots == 0)
		nslots = 1;
	len = nslots * c->slot;
	if (nmaps == maps_cap) {
		size_t cap = maps_cap ? maps_cap * 2 : 64;
		struct mapping **n = realloc(maps, cap * sizeof(*n));
		if (!n)
			return NULL;
		maps = n;
		maps_cap = cap;
	}
	m = calloc(1, sizeof(*m)); /* never freed: the preparer may hold it */
	if (!m)
		return NULL;
	base = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	if (base == MAP_FAILED) {
		free(m);
		return NULL;
	}
	m->base = base;
	m->nslots = nslots;
	m->top = nslots;
	m->cls = c;
	/* Insert sorted; mappings usually come at falling addresses. */
	size_t i = 0;
	while (i < nmaps && maps[i]->base < base)
		i++;
	memmove(&maps[i + 1], &maps[i], (nmaps - i) * sizeof(*maps));
	maps[i] = m;
	nmaps++;
	stats.mappings++;
	if (c->next_slots < max_mapping_bytes(c) / c->slot)
		c->next_slots *= 2;
	c->mappings++;
	return m;
}

static unsigned char install_guard(char *guard, size_t len)
{
	if (madvise_ok) {
		if (madvise(guard, len, MADV_GUARD_INSTALL) == 0) {
			stats.madvise_guards++;
			return GR_GUARD_MADVISE;
		}
		gr_log(GR_LOG_INFO,
		       "MADV_GUARD_INSTALL unavailable (%s); using mprotect guard pages",
		       strerror(errno));
		madvise_ok = 0;
	}
	if (stats.mprotect_guards < mprotect_budget && mprotect(guard, len, PROT_NONE) == 0) {
		stats.mprotect_guards++;
		return GR_GUARD_MPROTECT;
	}
	if (stats.canaries++ == 0)
		gr_log(GR_LOG_INFO, "out of guard pages; further stacks are checked with a canary");
	return GR_GUARD_CANARY;
}

/* A never-used slot of c, and the guard it has. */
static char *carve(struct stack_class *c, unsigned char *guard)
{
	struct mapping *m = c->cur;
	size_t i;

	if (!m || m->carved == m->top) {
		struct mapping *n = m ? __atomic_load_n(&m->next, __ATOMIC_ACQUIRE) : NULL;
		if (!n) {
			n = gr_stack_new_mapping(c);
			if (!n)
				return NULL;
			if (m)
				__atomic_store_n(&m->next, n, __ATOMIC_RELEASE);
		}
		c->cur = m = n;
		gr_stack_prep_new_mapping(m);
	}
	switch (gr_stack_prep_bottom(m)) {
	case GR_PREP_READY:
		i = m->carved;
		__atomic_store_n(&m->carved, i + 1, __ATOMIC_RELEASE);
		*guard = GR_GUARD_MADVISE;
		stats.madvise_guards++;
		stats.prepared++;
		break;
	case GR_PREP_OFF:
		i = m->carved;
		__atomic_store_n(&m->carved, i + 1, __ATOMIC_RELEASE);
		*guard = install_guard(m->base + i * c->slot, c->guard);
		break;
	default: /* GR_PREP_BEHIND */
		i = m->top - 1;
		__atomic_store_n(&m->top, i, __ATOMIC_RELEASE);
		*guard = install_guard(m->base + i * c->slot, c->guard);
		break;
	}
	carved_total++;
	gr_stack_prep_took(m, carved_total);
	return m->base + i * c->slot;
}

int gr_stack_alloc_guarded(size_t size, size_t guard, struct gr_stack *out)
{
	struct stack_class *c;

	if (!gr_stack_page)
		gr_stack_page = (size_t)sysconf(_SC_PAGESIZE);
	if (size > SIZE_MAX / 2 || guard > SIZE_MAX / 2)
		return -EAGAIN;
	size = (size + gr_stack_page - 1) & ~(gr_stack_page - 1);
	guard = guard ? (guard + gr_stack_page - 1) & ~(gr_stack_page - 1) : gr_stack_page;
	c = class_for(size, guard);
	if (!c)
		return -EAGAIN;
	out->cls = c;
	out->size = size;
	if (c->free) {
		struct free_rec *r = c->free;
		c->free = r->next;
		out->lo = (char *)r + sizeof(*r) + gr_stack_rec_gap - size;
		out->guard = r->guard;
		out->gen = r->gen;
		/* The next thread finds the zeros a fresh slot has there. */
		memset(r, 0, sizeof(*r));
	} else {
		char *slot = carve(c, &out->guard);
		if (!slot)
			return -EAGAIN;
		out->lo = slot + guard;
		out->gen = 0;
		REGISTER_STACK(out->lo, out->lo + size);
	}
	if (out->guard == GR_GUARD_CANARY)
		*(uint64_t *)out->lo = GR_CANARY;
	stats.in_use += size;
	if (stats.in_use > stats.peak)
		stats.peak = stats.in_use;
	return 0;
}

int gr_stack_alloc(size_t size, struct gr_stack *out)
{
	return gr_stack_alloc_guarded(size, 0, out);
}

size_t gr_stack_guard_size(const struct gr_stack *s)
{
	return s->cls ? s->cls->guard : 0;
}

/* Gives the deep part of a freed slot back to the kernel: a thread that
 * once went deep must not leave those pages to every later user of the
 * slot. Pages near the top, which every thread touches, stay. */
static void trim(const struct gr_stack *s)
{
	if (s->size <= 2 * GR_STACK_TRIM_KEEP)
		return;
	if (madvise(s->lo, s->size - GR_STACK_TRIM_KEEP, MADV_DONTNEED) == 0)
		stats.trims++;
}

void gr_stack_free(const struct gr_stack *s)
{
	struct stack_class *c = s->cls;
	struct free_rec *r = (struct free_rec *)(s->lo + s->size - gr_stack_rec_gap) - 1;

	GR_ASSERT(c != NULL);
	/* Counted per slot, not over all frees: a global count would fall in
	 * step with a program's batches and always miss the same slots. */
	if (__builtin_expect((s->gen & (GR_STACK_TRIM_EVERY - 1)) == 0, 0))
		trim(s);
	r->next = c->free;
	r->gen = s->gen;
	r->guard = s->guard;
	c->free = r;
	stats.in_use -= s->size;
}

/* The offset of a in its slot, a bytes into a mapping of c's: a % slot,
 * without the division (tens of cycles on many CPUs, and every join
 * finds a slot twice). q = a * floor(2^64 / slot) / 2^64 is short of
 * a / slot by less than a / 2^64, so by at most one for any a below 2^63. */
static inline size_t slot_offset(const struct stack_class *c, size_t a)
{
	size_t q = (size_t)(((unsigned __int128)a * c->slot_inv) >> 64);
	size_t off = a - q * c->slot;

	return off >= c->slot ? off - c->slot : off;
}

/* The mapping the last search found: most finds are in the mapping of the
 * one before. Relaxed atomics: the guard page's handler (guard.c) searches
 * too, on whichever thread faulted. */
static const struct mapping *last_found;

static int found(const struct mapping *m, const char *a, struct gr_stack *out, int *in_guard)
{
	size_t off = slot_offset(m->cls, (size_t)(a - m->base));

	out->lo = (char *)a - off + m->cls->guard;
	out->size = m->cls->size;
	out->guard = 0;
	out->gen = 0;
	out->cls = m->cls;
	*in_guard = off < m->cls->guard;
	return 1;
}

int gr_stack_find(const void *addr, struct gr_stack *out, int *in_guard)
{
	const char *a = addr;
	const struct mapping *m = __atomic_load_n(&last_found, __ATOMIC_RELAXED);
	size_t lo = 0, hi = nmaps;

	if (m && a >= m->base && a < mapping_end(m))
		return found(m, a, out, in_guard);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		m = maps[mid];
		if (a < m->base)
			hi = mid;
		else if (a >= mapping_end(m))
			lo = mid + 1;
		else {
			__atomic_store_n(&last_found, m, __ATOMIC_RELAXED);
			return found(m, a, out, in_guard);
		}
	}
	return 0;
}

void gr_stack_after_fork(void)
{
	/* The preparer did not survive the fork. */
	gr_stack_prep_after_fork();
	stats.peak = stats.in_use; /* the child's figures are its own */
	stats.prepared = 0;
}

void gr_stack_stats(struct gr_stack_stats *out)
{
	*out = stats;
}
