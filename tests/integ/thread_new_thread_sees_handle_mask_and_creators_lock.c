/* cflags: -D_FORTIFY_SOURCE=2 -O2 */
/* Hazard: a new thread may run before pthread_create returns to its
 * creator (natively on another CPU; under the preload at the creator's
 * next switch or next pthread_create, ahead of the threads queued, while
 * its pages are in cache). glibc stores the handle in *thread before the
 * thread starts and gives it the attr's signal mask before its first
 * instruction, and the process is no longer single-threaded; so from the
 * first statement of the thread:
 * - the pthread_t its creator is given equals pthread_self();
 * - its mask is the attr's (pthread_attr_setsigmask_np) or its creator's;
 * - __libc_single_threaded is false;
 * and whatever runs first:
 * - a thread that blocks on a mutex its creator holds lets the creator go
 *   on, and gets the mutex when the creator unlocks it;
 * - a thread that has already ended when pthread_create returns can still
 *   be joined (its value) or detached (0), as glibc allows;
 * - threads that create threads (a tree three deep) see the same. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/single_threaded.h>

#include "check.h"

enum { NTHREADS = 64, FANOUT = 3 };

static pthread_t handles[NTHREADS];
static int handle_ok[NTHREADS], mask_ok[NTHREADS], multi_ok[NTHREADS];

static void *first_look(void *arg)
{
	int i = (int)(intptr_t)arg;
	sigset_t now;

	/* Before anything else: what its creator was given, and its mask. */
	handle_ok[i] = pthread_equal(handles[i], pthread_self()) != 0;
	pthread_sigmask(SIG_BLOCK, NULL, &now);
	/* Odd ones have SIGUSR1 blocked by their attr, even ones SIGUSR2 by
	 * main's own mask, which they inherit. */
	mask_ok[i] = (sigismember(&now, SIGUSR1) == (i % 2)) && sigismember(&now, SIGUSR2) == 1;
	multi_ok[i] = __libc_single_threaded == 0;
	return (void *)(intptr_t)(i * 7);
}

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static atomic_int creator_went_on, child_got_it;

static void *lock_creators_mutex(void *arg)
{
	(void)arg;
	MUST(pthread_mutex_lock(&held));
	/* The creator had to go on and unlock it first. */
	atomic_store(&child_got_it, atomic_load(&creator_went_on));
	MUST(pthread_mutex_unlock(&held));
	return NULL;
}

static void *ends_at_once(void *arg)
{
	return arg;
}

static atomic_int tree_bad, tree_count;

struct node {
	pthread_t self_seen_by_parent;
	int depth;
};

static void *tree(void *arg)
{
	struct node *me = arg;
	struct node kids[FANOUT];
	pthread_t t[FANOUT];

	atomic_fetch_add(&tree_count, 1);
	if (!pthread_equal(me->self_seen_by_parent, pthread_self()))
		atomic_fetch_add(&tree_bad, 1);
	if (me->depth == 3)
		return NULL;
	for (int i = 0; i < FANOUT; i++) {
		kids[i].depth = me->depth + 1;
		MUST(pthread_create(&kids[i].self_seen_by_parent, NULL, tree, &kids[i]));
		t[i] = kids[i].self_seen_by_parent;
	}
	for (int i = 0; i < FANOUT; i++)
		MUST(pthread_join(t[i], NULL));
	return NULL;
}

int main(void)
{
	pthread_attr_t blocks_usr1;
	sigset_t usr1, usr2;
	int all_handle = 1, all_mask = 1, all_multi = 1, values = 1;

	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	MUST(pthread_sigmask(SIG_BLOCK, &usr2, NULL));
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigaddset(&usr1, SIGUSR2);
	MUST(pthread_attr_init(&blocks_usr1));
	MUST(pthread_attr_setsigmask_np(&blocks_usr1, &usr1));

	for (int i = 0; i < NTHREADS; i++)
		MUST(pthread_create(&handles[i], i % 2 ? &blocks_usr1 : NULL, first_look,
				    (void *)(intptr_t)i));
	for (int i = 0; i < NTHREADS; i++) {
		void *v;
		MUST(pthread_join(handles[i], &v));
		values &= (intptr_t)v == i * 7;
		all_handle &= handle_ok[i];
		all_mask &= mask_ok[i];
		all_multi &= multi_ok[i];
	}
	CHECK(all_handle, "a new thread's first look: pthread_self equals its creator's handle");
	CHECK(all_mask, "a new thread's first look: the attr's mask, or its creator's");
	CHECK(all_multi, "a new thread's first look: __libc_single_threaded is false");
	CHECK(values, "each thread joined with its own value");

	/* The creator holds a mutex the new thread wants. */
	pthread_t t;
	MUST(pthread_mutex_lock(&held));
	MUST(pthread_create(&t, NULL, lock_creators_mutex, NULL));
	atomic_store(&creator_went_on, 1);
	MUST(pthread_mutex_unlock(&held));
	MUST(pthread_join(t, NULL));
	CHECK(atomic_load(&child_got_it) == 1,
	      "a thread that blocks on its creator's mutex gets it once the creator unlocks");

	/* Threads that may have ended before pthread_create returned. */
	int joined = 1, detached = 1;
	for (int i = 0; i < 200; i++) {
		void *v = NULL;
		MUST(pthread_create(&t, NULL, ends_at_once, (void *)(intptr_t)(i + 1)));
		if (i % 2) {
			detached &= pthread_detach(t) == 0;
		} else {
			MUST(pthread_join(t, &v));
			joined &= (intptr_t)v == i + 1;
		}
	}
	CHECK(joined, "threads that ended at once are joined with their values");
	CHECK(detached, "threads that ended at once are detached (0)");

	struct node root = {.depth = 0};
	MUST(pthread_create(&root.self_seen_by_parent, NULL, tree, &root));
	MUST(pthread_join(root.self_seen_by_parent, NULL));
	CHECK(atomic_load(&tree_count) == 1 + 3 + 9 + 27, "a tree three deep: every thread ran");
	CHECK(atomic_load(&tree_bad) == 0, "a tree three deep: each saw the handle its parent got");
	pthread_attr_destroy(&blocks_usr1);
	return check_done();
}
