#include "stack.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>

#include "config.h"
#include "fork.h"
#include "log.h"
#include "real.h"

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
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* A mapping's slots, shared with the preparer thread. The preparer readies
 * slots from the bottom; the runtime takes ready ones from the bottom and,
 * when none is ready, makes its own from the top, so that the two never
 * fault pages under the same page-table lock. [carved, end) is unused. */
struct job {
	char *base;		 /* first slot */
	size_t nslots;		 /* slots in the mapping */
	size_t carved;		 /* runtime: [0, carved) taken from the bottom (atomic) */
	size_t end;		 /* runtime: [end, nslots) taken from the top (atomic) */
	size_t ready;		 /* preparer: [0, ready) prepared or taken */
	struct job *next;	 /* the mapping to carve after this (atomic) */
	struct stack_class *cls; /* whose slots */
};

/* Every slot of one size, with a free list threaded through the free slots'
 * top words. */
struct stack_class {
	size_t size;	   /* usable bytes of each slot */
	size_t slot;	   /* size + guard page */
	struct job *cur;   /* mapping being carved */
	size_t next_chunk; /* slots in the next mapping (doubles, capped) */
	unsigned jobs;	   /* mappings made so far */
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

#define MAX_CLASSES	  32
#define FIRST_CHUNK_SLOTS 16
#define MAX_CHUNK_BYTES	  ((size_t)1 << 30)
/* mprotect guards split mappings; stay well below vm.max_map_count. */
#define MPROTECT_BUDGET 16384
/* The preparer keeps slots ready ahead of the runtime: a quarter of the
 * stacks handed out so far, between 32 and 1024 (4 MiB of touched pages),
 * so that what it prepares in vain stays small next to what is in use. It
 * is woken when fewer than half of that are ready. */
#define PREP_WINDOW_MIN 32
#define PREP_WINDOW_MAX 1024
/* ...and starts once a class needs its fourth mapping (> 240 stacks): a
 * program with few threads never pays for an extra OS thread. */
#define PREP_AFTER_JOBS 4

unsigned gr_slot_colours = 7;

static struct stack_class classes[MAX_CLASSES];
static unsigned nclasses;
static struct chunk *chunks;
static size_t nchunks, chunks_cap;
static size_t page;
static int madvise_ok = 1;
static unsigned mprotect_budget = MPROTECT_BUDGET;
static struct gr_stack_stats stats;

/* The preparer: an OS thread of the runtime's own that installs guards and
 * faults in the top page of the next slots while the runtime thread runs
 * green threads. A fresh page costs ~1.4 us to fault in on these VMs,
 * more than everything else pthread_create does; on the second core it is
 * off the critical path. It only ever touches slots not yet handed out,
 * and the races with the runtime are benign: both may install the same
 * guard, and populating a page that is already present does nothing. */
static struct job *prep_job;		     /* the runtime's current mapping (atomic) */
static unsigned prep_seq;		     /* futex word: bumped to wake the preparer */
static int prep_sleeping;		     /* the preparer waits on prep_seq (atomic) */
static int prep_state;			     /* 0 not started, 1 running, -1 off */
static size_t prep_window = PREP_WINDOW_MIN; /* slots to keep ready (atomic) */
static size_t carved_total;		     /* slots ever taken from mappings */
static size_t prep_pages = 1;		     /* top pages to fault in per slot */

void gr_stack_set_prefault(size_t bytes)
{
	size_t p = page ? page : (size_t)sysconf(_SC_PAGESIZE);

	__atomic_store_n(&prep_pages, (bytes + p - 1) / p, __ATOMIC_RELAXED);
}

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

static struct job *new_job(struct stack_class *c)
{
	size_t nslots = c->next_chunk;
	size_t len;
	char *base;
	struct job *j;

	if (nslots * c->slot > MAX_CHUNK_BYTES)
		nslots = MAX_CHUNK_BYTES / c->slot;
	if (nslots == 0)
		nslots = 1;
	len = nslots * c->slot;
	if (nchunks == chunks_cap) {
		size_t cap = chunks_cap ? chunks_cap * 2 : 64;
		struct chunk *n = realloc(chunks, cap * sizeof(*n));
		if (!n)
			return NULL;
		chunks = n;
		chunks_cap = cap;
	}
	j = calloc(1, sizeof(*j)); /* never freed: the preparer may hold it */
	if (!j)
		return NULL;
	base = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	if (base == MAP_FAILED) {
		free(j);
		return NULL;
	}
	/* Insert sorted; mappings usually come at falling addresses. */
	size_t i = 0;
	while (i < nchunks && chunks[i].base < base)
		i++;
	memmove(&chunks[i + 1], &chunks[i], (nchunks - i) * sizeof(*chunks));
	chunks[i] = (struct chunk){base, base + len, c};
	nchunks++;
	stats.mappings++;
	if (c->next_chunk < (MAX_CHUNK_BYTES / c->slot))
		c->next_chunk *= 2;
	c->jobs++;
	j->base = base;
	j->nslots = nslots;
	j->end = nslots;
	j->cls = c;
	return j;
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
	if (stats.mprotect_guards < mprotect_budget && mprotect(guard, page, PROT_NONE) == 0) {
		stats.mprotect_guards++;
		return GR_GUARD_MPROTECT;
	}
	if (stats.canaries++ == 0)
		gr_log(GR_LOG_INFO, "out of guard pages; further stacks are checked with a canary");
	return GR_GUARD_CANARY;
}

static void futex(unsigned *word, int op, unsigned val)
{
	gr_real.syscall(SYS_futex, word, op | FUTEX_PRIVATE_FLAG, val, NULL, NULL, 0);
}

/* Prepares the slot at slot (slot_size bytes, guard page first): its guard,
 * and the top pages the control blocks and first frames will use. Returns
 * 0, or -1 if guards stopped working. */
static int prepare(char *slot, size_t slot_size)
{
	size_t n = __atomic_load_n(&prep_pages, __ATOMIC_RELAXED);
	char *top = slot + slot_size - n * page;

	if (madvise(slot, page, MADV_GUARD_INSTALL) < 0)
		return -1;
	if (madvise(top, n * page, MADV_POPULATE_WRITE) < 0)
		for (size_t i = 0; i < n; i++)
			*(volatile char *)(top + i * page) = 0;
	return 0;
}

/* The next slot the preparer should ready, from job j on: its job (and *i),
 * or NULL when it is far enough ahead or out of mappings. */
static struct job *next_work(struct job *j, size_t *i)
{
	while (j) {
		size_t carved = __atomic_load_n(&j->carved, __ATOMIC_ACQUIRE);
		size_t end = __atomic_load_n(&j->end, __ATOMIC_ACQUIRE);
		*i = j->ready > carved ? j->ready : carved;
		if (*i < end)
			return *i < carved + __atomic_load_n(&prep_window, __ATOMIC_RELAXED) ? j
											     : NULL;
		j = __atomic_load_n(&j->next, __ATOMIC_ACQUIRE);
	}
	return NULL;
}

static void *prep_main(void *arg)
{
	(void)arg;
	for (;;) {
		unsigned seq = __atomic_load_n(&prep_seq, __ATOMIC_ACQUIRE);
		struct job *j = __atomic_load_n(&prep_job, __ATOMIC_ACQUIRE);
		int worked = 0;
		size_t i;

		while ((j = next_work(j, &i)) != NULL) {
			if (prepare(j->base + i * j->cls->slot, j->cls->slot) < 0) {
				__atomic_store_n(&prep_state, -1, __ATOMIC_RELEASE);
				return NULL;
			}
			__atomic_store_n(&j->ready, i + 1, __ATOMIC_RELEASE);
			worked = 1;
		}
		if (worked)
			continue;
		__atomic_store_n(&prep_sleeping, 1, __ATOMIC_SEQ_CST);
		futex(&prep_seq, FUTEX_WAIT, seq);
		__atomic_store_n(&prep_sleeping, 0, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void prep_kick(void)
{
	if (__atomic_load_n(&prep_sleeping, __ATOMIC_SEQ_CST)) {
		__atomic_store_n(&prep_sleeping, 0, __ATOMIC_RELAXED);
		__atomic_add_fetch(&prep_seq, 1, __ATOMIC_RELEASE);
		futex(&prep_seq, FUTEX_WAKE, 1);
	}
}

static void prep_start(void)
{
	pthread_attr_t attr;
	pthread_t th;
	sigset_t all, old;

	prep_state = -1;
	gr_real_init();
	if (!gr_config.prefault || !madvise_ok || stats.mprotect_guards || stats.canaries)
		return;
	/* The preparer takes no signals: they are the program's, and belong
	 * to the runtime thread. It inherits this mask. */
	sigfillset(&all);
	gr_real.pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	if (gr_real.pthread_create(&th, &attr, prep_main, NULL) == 0) {
		prep_state = 1;
		gr_real.pthread_setname_np(th, "greenify-prep");
	}
	pthread_attr_destroy(&attr);
	gr_real.pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* A never-used slot of c, and the guard it has. */
static char *carve(struct stack_class *c, unsigned char *guard)
{
	struct job *j = c->cur;
	size_t i;

	if (!j || j->carved == j->end) {
		struct job *n = j ? __atomic_load_n(&j->next, __ATOMIC_ACQUIRE) : NULL;
		if (!n) {
			n = new_job(c);
			if (!n)
				return NULL;
			if (j)
				__atomic_store_n(&j->next, n, __ATOMIC_RELEASE);
		}
		c->cur = j = n;
		if (prep_state == 0 && c->jobs >= PREP_AFTER_JOBS)
			prep_start();
		if (prep_state > 0)
			__atomic_store_n(&prep_job, j, __ATOMIC_RELEASE);
	}
	if (prep_state <= 0 || j->carved < __atomic_load_n(&j->ready, __ATOMIC_ACQUIRE)) {
		i = j->carved;
		__atomic_store_n(&j->carved, i + 1, __ATOMIC_RELEASE);
		if (prep_state > 0) {
			*guard = GR_GUARD_MADVISE;
			stats.madvise_guards++;
			stats.prepared++;
		} else {
			*guard = install_guard(j->base + i * c->slot);
		}
	} else {
		i = j->end - 1;
		__atomic_store_n(&j->end, i, __ATOMIC_RELEASE);
		*guard = install_guard(j->base + i * c->slot);
	}
	carved_total++;
	if (prep_state > 0) {
		size_t w = carved_total / 4;
		w = w < PREP_WINDOW_MIN	  ? PREP_WINDOW_MIN
		    : w > PREP_WINDOW_MAX ? PREP_WINDOW_MAX
					  : w;
		__atomic_store_n(&prep_window, w, __ATOMIC_RELAXED);
		/* Map the next mapping early so the preparer can move on. */
		if (!j->next && (j->carved + j->nslots - j->end) * 2 >= j->nslots) {
			struct job *n = new_job(c);
			if (n)
				__atomic_store_n(&j->next, n, __ATOMIC_RELEASE);
		}
		if (__atomic_load_n(&j->ready, __ATOMIC_RELAXED) < j->carved + w / 2)
			prep_kick();
	}
	return j->base + i * c->slot;
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
		char *slot = carve(c, &out->guard);
		if (!slot)
			return -EAGAIN;
		out->lo = slot + page;
		out->size = size;
		REGISTER_STACK(out->lo, out->lo + size);
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

void gr_stack_after_fork(void)
{
	/* The preparer did not survive the fork. The runtime carves for
	 * itself now (what the preparer had readied is just carved again), and
	 * may start a preparer of the child's own at a later mapping. */
	if (prep_state > 0)
		prep_state = 0;
	prep_sleeping = 0;
	stats.peak = stats.in_use; /* the child's figures are its own */
	stats.prepared = 0;
}

void gr_stack_stats(struct gr_stack_stats *out)
{
	*out = stats;
}
