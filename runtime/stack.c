#include "stack.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

/* Every slot of one size, with a free list threaded through the free slots'
 * top words. */
struct stack_class {
	size_t size;	   /* usable bytes of each slot */
	size_t slot;	   /* size + guard page */
	char *carve;	   /* next never-used slot in the newest mapping */
	char *carve_end;   /* end of the newest mapping */
	size_t next_chunk; /* slots in the next mapping (doubles, capped) */
	void *free;	   /* newest freed slot's top record, or NULL */
};

/* What a freed slot remembers, kept at the top of its stack. */
struct free_rec {
	void *next;
	unsigned char guard;
};

/* A mapping, kept sorted by address for gr_stack_find(). */
struct chunk {
	char *base;
	char *end;
	struct stack_class *cls;
};

#define MAX_CLASSES 32
#define FIRST_CHUNK_SLOTS 16
#define MAX_CHUNK_BYTES ((size_t)1 << 30)
/* mprotect guards split mappings; stay well below vm.max_map_count. */
#define MPROTECT_BUDGET 16384

static struct stack_class classes[MAX_CLASSES];
static unsigned nclasses;
static struct chunk *chunks;
static size_t nchunks, chunks_cap;
static size_t page;
static int madvise_ok = 1;
static unsigned mprotect_budget = MPROTECT_BUDGET;
static struct gr_stack_stats stats;

void gr_stack_test_limit_guards(int allow_madvise, unsigned budget)
{
	madvise_ok = allow_madvise;
	mprotect_budget = budget;
}

static struct stack_class *class_for(size_t size)
{
	for (unsigned i = 0; i < nclasses; i++)
		if (classes[i].size == size)
			return &classes[i];
	if (nclasses == MAX_CLASSES)
		return NULL;
	struct stack_class *c = &classes[nclasses++];
	c->size = size;
	c->slot = size + page;
	c->next_chunk = FIRST_CHUNK_SLOTS;
	return c;
}

static int add_chunk(struct stack_class *c)
{
	size_t nslots = c->next_chunk;
	size_t len;
	char *base;

	if (nslots * c->slot > MAX_CHUNK_BYTES)
		nslots = MAX_CHUNK_BYTES / c->slot;
	if (nslots == 0)
		nslots = 1;
	len = nslots * c->slot;
	if (nchunks == chunks_cap) {
		size_t cap = chunks_cap ? chunks_cap * 2 : 64;
		struct chunk *n = realloc(chunks, cap * sizeof(*n));
		if (!n)
			return -EAGAIN;
		chunks = n;
		chunks_cap = cap;
	}
	base = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	if (base == MAP_FAILED)
		return -EAGAIN;
	/* Insert sorted; mappings usually come at falling addresses, so scan
	 * from the front. */
	size_t i = 0;
	while (i < nchunks && chunks[i].base < base)
		i++;
	memmove(&chunks[i + 1], &chunks[i], (nchunks - i) * sizeof(*chunks));
	chunks[i] = (struct chunk){ base, base + len, c };
	nchunks++;
	stats.mappings++;
	c->carve = base;
	c->carve_end = base + len;
	if (c->next_chunk < (MAX_CHUNK_BYTES / c->slot))
		c->next_chunk *= 2;
	return 0;
}

static unsigned char install_guard(char *guard)
{
	if (madvise_ok) {
		if (madvise(guard, page, MADV_GUARD_INSTALL) == 0) {
			stats.madvise_guards++;
			return GR_GUARD_MADVISE;
		}
		gr_log(GR_LOG_INFO,
		       "MADV_GUARD_INSTALL unavailable (%s); using mprotect guard pages",
		       strerror(errno));
		madvise_ok = 0;
	}
	if (stats.mprotect_guards < mprotect_budget &&
	    mprotect(guard, page, PROT_NONE) == 0) {
		stats.mprotect_guards++;
		return GR_GUARD_MPROTECT;
	}
	if (stats.canaries++ == 0)
		gr_log(GR_LOG_INFO,
		       "out of guard pages; further stacks are checked with a canary");
	return GR_GUARD_CANARY;
}

int gr_stack_alloc(size_t size, struct gr_stack *out)
{
	struct stack_class *c;

	if (!page)
		page = (size_t)sysconf(_SC_PAGESIZE);
	size = (size + page - 1) & ~(page - 1);
	c = class_for(size);
	if (!c)
		return -EAGAIN;
	if (c->free) {
		struct free_rec *r = c->free;
		c->free = r->next;
		out->size = size;
		out->lo = (char *)r + sizeof(*r) - size;
		out->guard = r->guard;
	} else {
		if (c->carve == c->carve_end) {
			int err = add_chunk(c);
			if (err < 0)
				return err;
		}
		char *slot = c->carve;
		c->carve += c->slot;
		out->lo = slot + page;
		out->size = size;
		out->guard = install_guard(slot);
	}
	if (out->guard == GR_GUARD_CANARY)
		*(uint64_t *)out->lo = GR_CANARY;
	stats.in_use += size;
	if (stats.in_use > stats.peak)
		stats.peak = stats.in_use;
	return 0;
}

void gr_stack_free(const struct gr_stack *s)
{
	struct stack_class *c = class_for(s->size);
	struct free_rec *r = (struct free_rec *)(s->lo + s->size) - 1;

	GR_ASSERT(c != NULL);
	r->next = c->free;
	r->guard = s->guard;
	c->free = r;
	stats.in_use -= s->size;
}

int gr_stack_find(const void *addr, struct gr_stack *out, int *in_guard)
{
	const char *a = addr;
	size_t lo = 0, hi = nchunks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (a < chunks[mid].base)
			hi = mid;
		else if (a >= chunks[mid].end)
			lo = mid + 1;
		else {
			const struct chunk *k = &chunks[mid];
			size_t off = (size_t)(a - k->base) % k->cls->slot;
			char *slot = (char *)a - off;
			out->lo = slot + page;
			out->size = k->cls->size;
			out->guard = 0;
			*in_guard = off < page;
			return 1;
		}
	}
	return 0;
}

void gr_stack_stats(struct gr_stack_stats *out)
{
	*out = stats;
}
