/* An open-addressing hash table (linear probing) of {handle, return
 * value}. Handles are never 0 or 1 (a block's address is neither), so 0
 * marks an empty slot and 1 a taken record's (a tombstone, which lookups
 * pass over and adds reuse). Tombstones, not backward-shift deletion:
 * records of consecutive threads lie side by side (slot_of), so a
 * backward shift would walk the whole run after every record taken. */
#include "zombie.h"

#include <errno.h>
#include <stdlib.h>

#include "real.h"

struct entry {
	uint64_t handle; /* EMPTY, TAKEN, or a record's */
	void *retval;	 /* what the thread returned */
};

#define EMPTY 0
#define TAKEN 1

static inline int is_record(uint64_t handle)
{
	return handle > TAKEN;
}

static struct entry *table;
static size_t mask;  /* capacity - 1; capacity is a power of two */
static size_t count; /* records */
static size_t taken; /* tombstones */

static size_t slot_of(uint64_t h)
{
	/* A handle's low 6 bits and top 16 are its thread's number, 22 bits
	 * (thread.c): threads made one after the other file their records
	 * side by side, 64 to a run of the table, so joins in the order of
	 * creation read it in order. Runs are placed by a hash of the rest of
	 * the number: threads left unjoined at a stride still spread. */
	uint64_t n = (h & 63) | (h >> 48) << 6, run = n >> 6;

	run *= 0xff51afd7ed558ccdULL;
	run ^= run >> 29;
	return (size_t)((run << 6) | (n & 63)) & mask;
}

/* A table of twice the records' room, tombstones dropped: the same size
 * when records are few, else double. From glibc's heap: a record is filed
 * by a thread that has ended (thread.c), which cannot wait for the lock of
 * a program's own malloc. */
static int rebuild(void)
{
	size_t old_cap = table ? mask + 1 : 0;
	size_t cap = !table ? 1024 : (count + 1) * 4 <= old_cap ? old_cap : old_cap * 2;
	struct entry *old = table, *n = gr_real.__libc_calloc(cap, sizeof(*n));

	if (!n)
		return -ENOMEM;
	table = n;
	mask = cap - 1;
	taken = 0;
	for (size_t i = 0; i < old_cap; i++) {
		if (!is_record(old[i].handle))
			continue;
		size_t j = slot_of(old[i].handle);
		while (table[j].handle != EMPTY)
			j = (j + 1) & mask;
		table[j] = old[i];
	}
	gr_real.__libc_free(old);
	return 0;
}

int gr_zombie_add(uint64_t handle, void *retval)
{
	size_t i;

	if ((count + taken + 1) * 2 > (table ? mask + 1 : 0) && rebuild() < 0)
		return -ENOMEM;
	i = slot_of(handle);
	while (is_record(table[i].handle))
		i = (i + 1) & mask;
	if (table[i].handle == TAKEN)
		taken--;
	table[i].handle = handle;
	table[i].retval = retval;
	count++;
	return 0;
}

static struct entry *lookup(uint64_t handle)
{
	if (!count)
		return NULL;
	for (size_t i = slot_of(handle); table[i].handle != EMPTY; i = (i + 1) & mask)
		if (table[i].handle == handle)
			return &table[i];
	return NULL;
}

int gr_zombie_has(uint64_t handle)
{
	return lookup(handle) != NULL;
}

int gr_zombie_take(uint64_t handle, void **retval)
{
	struct entry *e = lookup(handle);

	if (!e)
		return 0;
	if (retval)
		*retval = e->retval;
	e->handle = TAKEN;
	e->retval = NULL;
	count--;
	taken++;
	return 1;
}
