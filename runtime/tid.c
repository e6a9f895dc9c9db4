/* Green thread ids and the index from id to thread (tid.h). The index is
 * an open-addressing table (linear probing, backward-shift deletion) of
 * thread pointers, keyed by the id, made on the first lookup. */
#include "tid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sched.h"

static struct gr_thread **table;
static size_t mask; /* capacity - 1, a power of two */
static size_t count;
static int indexed; /* the table exists and holds every unfinished thread */
/* The thread that has the OS thread's real tid: main, or in a fork child
 * the thread that forked. */
static struct gr_thread *real_tid_thread = &gr_main_thread;

int gr_tid_of(const struct gr_thread *t)
{
	return t == real_tid_thread ? gr_rt.os_tid : t->owner_id;
}

static size_t slot_of(int tid)
{
	uint64_t h = (uint32_t)tid * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 32) & mask;
}

static int insert(struct gr_thread *t);

static int grow(void)
{
	size_t cap = table ? (mask + 1) * 2 : 1024, old_cap = table ? mask + 1 : 0;
	struct gr_thread **old = table, **n = calloc(cap, sizeof(*n));

	if (!n)
		return -1;
	table = n;
	mask = cap - 1;
	count = 0;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i])
			insert(old[i]);
	free(old);
	return 0;
}

static int insert(struct gr_thread *t)
{
	size_t i;

	if ((count + 1) * 2 > (table ? mask + 1 : 0) && grow() < 0)
		return -1;
	for (i = slot_of(gr_tid_of(t)); table[i]; i = (i + 1) & mask)
		if (table[i] == t)
			return 0;
	table[i] = t;
	count++;
	return 0;
}

static void drop(struct gr_thread *t)
{
	size_t hole;

	for (hole = slot_of(gr_tid_of(t)); table[hole] != t; hole = (hole + 1) & mask)
		if (!table[hole])
			return;
	for (size_t i = (hole + 1) & mask; table[i]; i = (i + 1) & mask) {
		size_t home = slot_of(gr_tid_of(table[i]));
		if (((i - home) & mask) >= ((i - hole) & mask)) {
			table[hole] = table[i];
			hole = i;
		}
	}
	table[hole] = NULL;
	count--;
}

/* Builds the index from the list of unfinished threads; 0 or -1 (no
 * memory: lookups then walk the list). */
static int build(void)
{
	for (struct gr_thread *t = gr_rt.all; t; t = t->all_next)
		if (insert(t) < 0) {
			free(table);
			table = NULL;
			count = 0;
			return -1;
		}
	indexed = 1;
	return 0;
}

struct gr_thread *gr_tid_find(int tid)
{
	if (!gr_rt.started)
		return NULL;
	/* The caller itself, also while it runs exit handlers as the last
	 * thread, off the list already. */
	if (gr_rt.cur && gr_rt.cur->magic == GR_MAGIC && gr_tid_of(gr_rt.cur) == tid)
		return gr_rt.cur;
	if (!indexed && build() < 0) {
		for (struct gr_thread *t = gr_rt.all; t; t = t->all_next)
			if (gr_tid_of(t) == tid)
				return t;
		return NULL;
	}
	if (!table) /* built from an empty list: the last thread has ended */
		return NULL;
	for (size_t i = slot_of(tid); table[i]; i = (i + 1) & mask)
		if (gr_tid_of(table[i]) == tid)
			return table[i];
	return NULL;
}

void gr_tid_thread_added(struct gr_thread *t)
{
	if (indexed && insert(t) < 0)
		indexed = 0; /* lookups walk the list until the next build */
}

void gr_tid_thread_removed(struct gr_thread *t)
{
	if (indexed)
		drop(t);
}

void gr_tid_after_fork(void)
{
	real_tid_thread = gr_rt.cur;
	free(table);
	table = NULL;
	count = 0;
	mask = 0;
	indexed = 0;
}

/* The number at *p (digits up to a '/' or the end), or -1. */
static long number_at(const char **p)
{
	const char *s = *p;
	long v = 0;

	if (*s < '0' || *s > '9')
		return -1;
	while (*s >= '0' && *s <= '9' && v < (1L << 31))
		v = v * 10 + (*s++ - '0');
	if (*s && *s != '/')
		return -1;
	*p = s;
	return v;
}

/* The green thread a number in a path names, when it is a green id. */
static struct gr_thread *green_named(long v)
{
	return v >= 0 && v < (1L << 31) && gr_tid_is_green_range((int)v) ? gr_tid_find((int)v)
									 : NULL;
}

const char *gr_tid_map_path(const char *path, char *buf, size_t cap)
{
	const char *p = path + 6, *q, *rest;
	long v;

	if (strncmp(path, "/proc/", 6) != 0)
		return path;
	q = p;
	if (strncmp(q, "self", 4) == 0 && (q[4] == '/' || !q[4])) {
		q += 4;
		v = getpid();
	} else if ((v = number_at(&q)) < 0) {
		return path;
	}
	if (green_named(v)) { /* /proc/TID/... */
		rest = q;
		if (snprintf(buf, cap, "/proc/%d%s", gr_rt.os_tid, rest) >= (int)cap)
			return path;
		return buf;
	}
	if (v != getpid() || strncmp(q, "/task/", 6) != 0)
		return path;
	rest = q + 6;
	if (!green_named(number_at(&rest)))
		return path;
	if (snprintf(buf, cap, "%.*s%d%s", (int)(q + 6 - path), path, gr_rt.os_tid, rest) >=
	    (int)cap)
		return path;
	return buf;
}
