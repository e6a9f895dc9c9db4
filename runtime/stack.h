/* Green thread stacks, carved out of few large mappings.
 *
 * One mmap per stack, or an mprotect'ed guard page per stack, stops near
 * 32,000 stacks (vm.max_map_count is 65530): each splits a mapping. Instead
 * stacks of one size are slots in big MAP_NORESERVE mappings, each slot a
 * guard page below the stack. The guard is a MADV_GUARD_INSTALL guard (Linux
 * >= 6.13; it does not split the mapping), else an mprotect'ed page while
 * under a budget of mappings, else a canary word that the scheduler checks
 * at every switch. Freed stacks are reused newest first: their pages are
 * already touched, and a fresh page costs more to fault in than the rest
 * of a thread's creation.
 * Slots are packed (a slot is the stack size plus its guard, one page
 * unless pthread_attr_setguardsize asked for more), so page tables stay as
 * small as the sizes allow: small stacks share page-table pages.
 * Slots of every size and guard get a class of their own, as many as the
 * program uses. A freed slot keeps the pages its thread touched (the next
 * thread reuses them hot); every GR_STACK_TRIM_EVERY-th free of a slot
 * gives back its deep part, so that a slot a deep thread once used does
 * not keep those pages for ever. */
#ifndef GR_STACK_H
#define GR_STACK_H

#include <stddef.h>
#include <stdint.h>

enum gr_guard {
	GR_GUARD_MADVISE,
	GR_GUARD_MPROTECT,
	GR_GUARD_CANARY,
	GR_GUARD_NONE, /* the program's own memory: its guard is its business */
};

struct stack_class;

struct gr_stack {
	char *lo;		 /* lowest usable byte (just above the guard) */
	size_t size;		 /* usable bytes; the top is lo + size */
	unsigned char guard;	 /* enum gr_guard protecting this slot */
	uint32_t gen;		 /* uses of this slot so far (handles, thread.c) */
	struct stack_class *cls; /* the pool class, NULL for the program's own
				    memory (pthread_attr_setstack) */
};

/* Every this many uses of a slot, the deep part of the slot (all but its
 * top GR_STACK_TRIM_KEEP bytes) goes back to the kernel when it is freed:
 * one madvise amortised over many frees (about a microsecond for an 8 MiB
 * slot), where glibc pays one at every thread exit. A power of two. */
#define GR_STACK_TRIM_EVERY 1024
#define GR_STACK_TRIM_KEEP  (64 * 1024)

#define GR_CANARY 0x6772656e6966790aULL /* "greenify\n" */

/* Where a pool stack's control block sits: at its top, cache-line aligned,
 * and "coloured": slots are a whole number of pages apart, so without an
 * offset every thread's block, TLS and first frames would sit at the same
 * offset in a page and compete for the same few cache sets (L1 sets are
 * picked by the offset in the page). gr_slot_colours + 1 colours of 64
 * bytes, from the slot's address: 8, or 4 with TLS of its own per thread,
 * whose block and a sleeping thread's frames share one page with the TLS
 * (tls.h) and still fit there with 4, which were as fast as 8 or faster
 * (bench/RESULTS.md, "the switch among 10,000 threads"). */
extern unsigned gr_slot_colours;

/* How far below a slot's top the record of a freed slot ends (the free
 * list's link, the slot's use count): in a page its threads touch anyway,
 * which with TLS of their own on x86_64 is not the top one (tls.h). Set
 * before the first stack is freed. */
extern size_t gr_stack_rec_gap;

static inline char *gr_slot_top(const struct gr_stack *s)
{
	return s->lo + s->size - ((uintptr_t)s->lo >> 12 & gr_slot_colours) * 64;
}

/* Hands out a stack of at least size bytes with a guard of at least guard
 * bytes below it (rounded up to pages; 0 still gets one page): 0, or
 * -EAGAIN when the memory cannot be had (pthread_create's answer). */
int gr_stack_alloc_guarded(size_t size, size_t guard, struct gr_stack *out);
/* The same with a one-page guard. */
int gr_stack_alloc(size_t size, struct gr_stack *out);
/* The guard bytes below a pool stack (0 for the program's own memory). */
size_t gr_stack_guard_size(const struct gr_stack *s);
/* How many bytes at the top of a slot a new thread touches at once (the
 * control blocks and first frames), below skip bytes it leaves untouched:
 * what the preparer faults in ahead. */
void gr_stack_set_prefault(size_t skip, size_t bytes);
/* Returns a stack to its pool. */
void gr_stack_free(const struct gr_stack *s);

/* Finds the slot holding addr. Returns 1 and fills *out (and *in_guard:
 * whether addr is in the slot's guard page), or 0 when addr is in no slot.
 * Async-signal-safe (no locks, no allocation). */
int gr_stack_find(const void *addr, struct gr_stack *out, int *in_guard);

/* Statistics: bytes of stack (usable size) in use now and at the peak, and
 * which guard the most recent stack got. */
struct gr_stack_stats {
	size_t in_use;
	size_t peak;
	size_t mappings;
	unsigned madvise_guards, mprotect_guards, canaries;
	unsigned prepared; /* slots the preparer thread had ready in time */
	unsigned classes;  /* stack classes (size and guard pairs) */
	size_t trims;	   /* deep parts of freed slots given back */
};
void gr_stack_stats(struct gr_stack_stats *out);

/* For the unit tests: forget that MADV_GUARD_INSTALL works (0) or limit
 * mprotect guards to budget, so the fallbacks can be exercised. */
void gr_stack_test_limit_guards(int allow_madvise, unsigned mprotect_budget);

#endif
