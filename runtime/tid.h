/* Thread ids of green threads (tid.c).
 *
 * Each green thread has an id of its own, what gettid() answers: green
 * thread 1 (main) keeps the OS thread's real tid, every other one has the
 * id it writes as a lock's owner (gr_owner_id_for: at or above 2^23, above
 * any pid or tid the kernel hands out, PID_MAX_LIMIT being 2^22). In a
 * fork child the thread that forked has the child's real tid, as natively.
 * glibc's own uses of the tid in its thread control block (raise, abort,
 * recursive locks, robust lists) keep the OS tid.
 *
 * The calls that take a tid look it up here. The index from id to thread
 * is built on the first lookup and kept from then on, so a program that
 * never names a thread by its id pays nothing at create and exit. */
#ifndef GR_TID_H
#define GR_TID_H

#include "thread.h"

/* The id gettid() answers in t. */
int gr_tid_of(const struct gr_thread *t);
/* The unfinished green thread whose id is tid, or NULL. */
struct gr_thread *gr_tid_find(int tid);
/* Whether tid lies in the range green ids come from (no kernel id does). */
static inline int gr_tid_is_green_range(int tid)
{
	return tid >= (1 << 23);
}

/* A /proc path that names a green thread by its id (/proc/self/task/TID,
 * /proc/PID/task/TID, /proc/TID), rewritten in buf (cap bytes) to name the
 * OS thread instead, whose entries are the ones the kernel has; any other
 * path is returned as it is. */
const char *gr_tid_map_path(const char *path, char *buf, size_t cap);

/* thread.c: t starts or finishes (keeps the index once there is one). */
void gr_tid_thread_added(struct gr_thread *t);
void gr_tid_thread_removed(struct gr_thread *t);
/* In a fork child: the caller has the child's real tid; the index is
 * dropped (the others are gone). */
void gr_tid_after_fork(void);

#endif
