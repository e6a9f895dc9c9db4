/* An open-addressing hash table (linear probing, backward-shift deletion) of
 * {handle, return value}. Handles are never 0, so 0 marks an empty slot. */
#include "zombie.h"

#include <errno.h>
#include <stdlib.h>

struct entry {
	uint64_t handle; /* 0: empty */
	void *retval;	 /* what the thread returned */
};

static struct entry *table;
static size_t mask; /* capacity - 1; capacity is a power of two */
static size_t count;

static size_t slot_of(uint64_t h)
{
	/* Handles are 64-byte aligned addresses with a generation on top:
	 * mix the bits so consecutive stacks spread over the table. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (size_t)h & mask;
}

static int grow(void)
{
	size_t cap = table ? (mask + 1) * 2 : 1024;
	struct entry *old = table, *n = calloc(cap, sizeof(*n));
	size_t old_cap = table ? mask + 1 : 0;

	if (!n)
		return -ENOMEM;
	table = n;
	mask = cap - 1;
	for (size_t i = 0; i < old_cap; i++) {
		if (!old[i].handle)
			continue;
		size_t j = slot_of(old[i].handle);
		while (table[j].handle)
			j = (j + 1) & mask;
		table[j] = old[i];
	}
	free(old);
	return 0;
}

int gr_zombie_add(uint64_t handle, void *retval)
{
	size_t i;

	if ((count + 1) * 2 > (table ? mask + 1 : 0) && grow() < 0)
		return -ENOMEM;
	i = slot_of(handle);
	while (table[i].handle)
		i = (i + 1) & mask;
	table[i].handle = handle;
	table[i].retval = retval;
	count++;
	return 0;
}

static struct entry *lookup(uint64_t handle)
{
	if (!count)
		return NULL;
	for (size_t i = slot_of(handle); table[i].handle; i = (i + 1) & mask)
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
	/* Backward-shift deletion: move later members of the probe run into
	 * the hole so that lookups never stop early. */
	size_t hole = (size_t)(e - table);
	for (size_t i = (hole + 1) & mask; table[i].handle; i = (i + 1) & mask) {
		size_t home = slot_of(table[i].handle);
		/* i may move to hole if home is not in (hole, i] cyclically. */
		if (((i - home) & mask) >= ((i - hole) & mask)) {
			table[hole] = table[i];
			hole = i;
		}
	}
	table[hole].handle = 0;
	table[hole].retval = NULL;
	count--;
	return 1;
}
