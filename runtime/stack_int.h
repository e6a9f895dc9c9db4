/* Private to the stack allocator (stack.c) and its preparer thread
 * (stack_prep.c). */
#ifndef GR_STACK_INT_H
#define GR_STACK_INT_H

#include <stddef.h>
#include <stdint.h>

/* One mapping of slots, shared with the preparer thread. The preparer
 * readies slots from the bottom; the runtime takes ready ones from the
 * bottom and, when none is ready, makes its own from the top, so that the
 * two never fault pages under the same page-table lock. [carved, top) is
 * unused. Never freed: the preparer may hold it. */
struct mapping {
	char *base;		 /* first slot */
	size_t nslots;		 /* slots in the mapping */
	size_t carved;		 /* runtime: [0, carved) taken from the bottom (atomic) */
	size_t top;		 /* runtime: [top, nslots) taken from the top (atomic) */
	size_t ready;		 /* preparer: [0, ready) prepared or taken */
	struct mapping *next;	 /* the mapping to carve after this (atomic) */
	struct stack_class *cls; /* whose slots */
};

/* Every slot of one size, with a free list threaded through the free slots'
 * top words. */
struct stack_class {
	size_t size;	     /* usable bytes of each slot */
	size_t guard;	     /* guard bytes below each (whole pages) */
	size_t slot;	     /* size + guard */
	uint64_t slot_inv;   /* UINT64_MAX / slot: slot_of's reciprocal */
	struct mapping *cur; /* mapping being carved */
	size_t next_slots;   /* slots in the next mapping (doubles, capped) */
	unsigned mappings;   /* mappings made so far */
	void *free;	     /* newest freed slot's top record, or NULL */
};

/* stack.c, for the preparer. */
extern size_t gr_stack_page; /* the page size, once a stack was asked for */
/* A new mapping for c (NULL when out of memory). */
struct mapping *gr_stack_new_mapping(struct stack_class *c);
/* Whether every guard so far is a MADV_GUARD_INSTALL one, which is what the
 * preparer installs. */
int gr_stack_madvise_guards_only(void);

/* stack_prep.c, for the allocator. */
/* c->cur became m: may start the preparer, and points it at m. */
void gr_stack_prep_new_mapping(struct mapping *m);
/* Who readies m's lowest unused slot. */
enum gr_prep_bottom {
	GR_PREP_OFF,	/* no preparer: the runtime takes it and guards it */
	GR_PREP_READY,	/* the preparer guarded and faulted it in: take it */
	GR_PREP_BEHIND, /* the preparer has not got there: take the top one */
};
enum gr_prep_bottom gr_stack_prep_bottom(const struct mapping *m);
/* A slot of m was taken, carved_total so far: keeps the preparer's window
 * in step, maps the next mapping early, wakes the preparer if it falls
 * behind. */
void gr_stack_prep_took(struct mapping *m, size_t carved_total);
/* In a fork child: the preparer did not survive. */
void gr_stack_prep_after_fork(void);

#endif
