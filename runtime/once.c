/* Green pthread_once, in glibc's pthread_once_t: 0 not yet run; the fork
 * generation | 1 while an init routine runs; 2 done. An init routine that
 * blocks makes the other callers wait for it, as glibc's futex wait does.
 *
 * As glibc's, the control goes back to 0, and waiters wake to run the
 * routine themselves, when the routine does not return: it throws (a C++
 * std::call_once whose function throws), it is cancelled or calls
 * pthread_exit. Unwinding runs the cleanup below (this file is built with
 * -fexceptions, as glibc builds its pthread_once); a thread that ends
 * without unwinding (main, or with shared TLS) resets what it still runs
 * from its list of frames.
 *
 * The fork generation: in a fork child, an init routine that another
 * thread of the parent was running never finishes. glibc's child has the
 * next generation (glibc adds 4 in every child), so a control that says
 * "in progress" with an older one is free for the taking. We learn glibc's
 * generation from glibc's own pthread_once, on a control of our own, once
 * per process.
 *
 * A caller that is not green calls glibc's pthread_once, whose routine may
 * start the runtime (by creating the first thread): see gr_once_libc. */
#include <limits.h>
#include <stdint.h>

#include "fork.h"
#include "lock.h"
#include "real.h"
#include "wait.h"

#define ONCE_IN_PROGRESS 1
#define ONCE_DONE	 2
#define FRAME_MAGIC	 0x6f6e63656672616dULL

/* An init routine this thread runs: a node of the thread's list (onces),
 * in the frame that runs it. */
struct once_frame {
	pthread_once_t *once;	 /* its control; NULL once it returned */
	struct once_frame *prev; /* the one whose routine called us, or NULL */
	uint64_t check;		 /* FRAME_MAGIC ^ the node's address: a node in
				    a frame that a longjmp skipped, since
				    overwritten, is not taken for one */
};

static int generation = -1; /* glibc's fork generation; -1 not yet known */
static pthread_once_t *probed;
static int probe_value;

static void probe(void)
{
	probe_value = *probed;
}

static int fork_generation(void)
{
	if (generation < 0) {
		pthread_once_t o = PTHREAD_ONCE_INIT;
		probed = &o;
		gr_real.pthread_once(&o, probe);
		generation = probe_value & ~ONCE_IN_PROGRESS;
	}
	return generation;
}

void gr_once_after_fork(void)
{
	generation = -1;
}

/* The routine did not return: the control is free again, and whoever
 * waits for it may run the routine. */
static void reset(pthread_once_t *once)
{
	*once = 0;
	gr_wake_addr(once, GR_WAKE_ALL, GR_BITSET_ANY);
}

static void unwound(struct once_frame *f)
{
	if (!f->once)
		return;
	gr_rt.cur->onces = f->prev;
	reset(f->once);
}

static void run(pthread_once_t *once, void (*init)(void))
{
	struct gr_thread *self = gr_rt.cur;
	struct once_frame f __attribute__((cleanup(unwound))) = {
		.once = once, .prev = self->onces, .check = FRAME_MAGIC ^ (uintptr_t)&f};

	self->onces = &f;
	init();
	self->onces = f.prev;
	f.once = NULL;
}

int gr_once(pthread_once_t *once, void (*init)(void))
{
	if (*once & ONCE_DONE)
		return 0;
	int mine = fork_generation() | ONCE_IN_PROGRESS;
	/* Another thread of this process runs it (a signal handler that ran
	 * in between, -EINTR, changes nothing). */
	while (*once == mine)
		gr_wait_addr(once, GR_BITSET_ANY, GR_WAIT_ONCE, once, 0);
	if (*once & ONCE_DONE)
		return 0;
	/* Never run, reset, or left running by a thread of a parent. */
	*once = mine;
	run(once, init);
	*once = ONCE_DONE;
	gr_wake_addr(once, GR_WAKE_ALL, GR_BITSET_ANY);
	return 0;
}

/* A green thread may wait for the control meanwhile (the routine made the
 * first thread and waits for it, say), in our queue, where glibc's futex
 * wake-up at the end does not reach: wake it, whether the routine returned
 * or unwound. */
static void wake_green(pthread_once_t **once)
{
	if (gr_green())
		gr_wake_addr(*once, GR_WAKE_ALL, GR_BITSET_ANY);
}

int gr_once_libc(pthread_once_t *once, void (*init)(void))
{
	pthread_once_t *o __attribute__((cleanup(wake_green))) = once;

	if (!gr_real.pthread_once)
		gr_real_init(); /* called before anything else was */
	return gr_real.pthread_once(o, init);
}

void gr_once_thread_exit(struct gr_thread *t)
{
	struct once_frame *f = t->onces;

	t->onces = NULL;
	for (; f && f->check == (FRAME_MAGIC ^ (uintptr_t)f); f = f->prev)
		if (f->once)
			reset(f->once);
}
