/* The stack preparer: an OS thread of the runtime's own that installs
 * guards and faults in the top pages of the next slots while the runtime
 * thread runs green threads. A fresh page costs more to fault in than
 * everything else pthread_create does; on a second core it is off the
 * critical path. It only ever touches slots not yet handed out, and the
 * races with the runtime are benign: both may install the same guard, and
 * populating a page that is already present does nothing. This is the
 * runtime's only lock-free protocol between OS threads: the mapping's
 * counters (atomics), and a futex word the preparer sleeps on. */
#include "stack_int.h"

#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config.h"
#include "real.h"
#include "stack.h"
#include "tls.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* The preparer keeps slots ready ahead of the runtime: a quarter of the
 * stacks handed out so far, between 32 and 1024 (4 MiB of touched pages),
 * so that what it prepares in vain stays small next to what is in use. It
 * is woken when fewer than half of that are ready. */
#define PREP_WINDOW_MIN 32
#define PREP_WINDOW_MAX 1024
/* ...and starts once a class needs its fourth mapping (> 240 stacks): a
 * program with few threads never pays for an extra OS thread. */
#define PREP_AFTER_MAPPINGS 4

static struct mapping *prep_map;	     /* the runtime's current mapping (atomic) */
static unsigned prep_seq;		     /* futex word: bumped to wake the preparer */
static int prep_sleeping;		     /* the preparer waits on prep_seq (atomic) */
static int prep_state;			     /* 0 not started, 1 running, -1 off */
static size_t prep_window = PREP_WINDOW_MIN; /* slots to keep ready (atomic) */
static size_t prep_pages = 1;		     /* top pages to fault in per slot */
static size_t prep_skip;		     /* ...below this many untouched ones */

void gr_stack_set_prefault(size_t skip, size_t bytes)
{
	size_t p = gr_stack_page ? gr_stack_page : (size_t)sysconf(_SC_PAGESIZE);

	/* Set before the preparer starts (a class's fourth mapping). */
	prep_skip = skip / p;
	__atomic_store_n(&prep_pages, (bytes + p - 1) / p, __ATOMIC_RELAXED);
}

static void futex(unsigned *word, int op, unsigned val)
{
	gr_real.syscall(SYS_futex, word, op | FUTEX_PRIVATE_FLAG, val, NULL, NULL, 0);
}

/* Prepares the slot at slot (slot_size bytes, guard first): its guard,
 * and the top pages the control blocks and first frames will use. Returns
 * 0, or -1 if guards stopped working. */
static int prepare(char *slot, size_t slot_size, size_t guard)
{
	size_t n = __atomic_load_n(&prep_pages, __ATOMIC_RELAXED);
	size_t page = gr_stack_page;
	char *top;

	if ((n + prep_skip) * page > slot_size - guard)
		n = (slot_size - guard) / page > prep_skip ? (slot_size - guard) / page - prep_skip
							   : 0;
	top = slot + slot_size - (n + prep_skip) * page;

	if (madvise(slot, guard, MADV_GUARD_INSTALL) < 0)
		return -1;
	if (madvise(top, n * page, MADV_POPULATE_WRITE) < 0)
		for (size_t i = 0; i < n; i++)
			*(volatile char *)(top + i * page) = 0;
	return 0;
}

/* The next slot the preparer should ready, from mapping m on: its mapping
 * (and *i), or NULL when it is far enough ahead or out of mappings. */
static struct mapping *next_work(struct mapping *m, size_t *i)
{
	while (m) {
		size_t carved = __atomic_load_n(&m->carved, __ATOMIC_ACQUIRE);
		size_t top = __atomic_load_n(&m->top, __ATOMIC_ACQUIRE);
		*i = m->ready > carved ? m->ready : carved;
		if (*i < top)
			return *i < carved + __atomic_load_n(&prep_window, __ATOMIC_RELAXED) ? m
											     : NULL;
		m = __atomic_load_n(&m->next, __ATOMIC_ACQUIRE);
	}
	return NULL;
}

static void *prep_main(void *arg)
{
	(void)arg;
	for (;;) {
		unsigned seq = __atomic_load_n(&prep_seq, __ATOMIC_ACQUIRE);
		struct mapping *m = __atomic_load_n(&prep_map, __ATOMIC_ACQUIRE);
		int worked = 0;
		size_t i;

		while ((m = next_work(m, &i)) != NULL) {
			if (prepare(m->base + i * m->cls->slot, m->cls->slot, m->cls->guard) < 0) {
				/* Off, but the thread stays: an ending thread takes
				 * glibc's thread-list lock, which tls.c skips while
				 * the preparer is the only thread listed. */
				__atomic_store_n(&prep_state, -1, __ATOMIC_RELEASE);
				for (;;)
					futex(&prep_seq, FUTEX_WAIT,
					      __atomic_load_n(&prep_seq, __ATOMIC_ACQUIRE));
			}
			__atomic_store_n(&m->ready, i + 1, __ATOMIC_RELEASE);
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
	prep_state = -1;
	gr_real_init();
	if (!gr_config.prefault || !gr_stack_madvise_guards_only())
		return;
	/* The preparer takes no signals (they are the program's, and belong
	 * to the runtime thread) and runs nothing of glibc's but system
	 * calls: quiet, the process stays single-threaded for it. */
	if (gr_tls_own_thread_start(prep_main, NULL, 64 * 1024, "greenify-prep", 1) == 0)
		prep_state = 1;
}

void gr_stack_prep_new_mapping(struct mapping *m)
{
	if (prep_state == 0 && m->cls->mappings >= PREP_AFTER_MAPPINGS)
		prep_start();
	if (prep_state > 0)
		__atomic_store_n(&prep_map, m, __ATOMIC_RELEASE);
}

enum gr_prep_bottom gr_stack_prep_bottom(const struct mapping *m)
{
	if (prep_state <= 0)
		return GR_PREP_OFF;
	return m->carved < __atomic_load_n(&m->ready, __ATOMIC_ACQUIRE) ? GR_PREP_READY
									: GR_PREP_BEHIND;
}

void gr_stack_prep_took(struct mapping *m, size_t carved_total)
{
	size_t w = carved_total / 4;

	if (prep_state <= 0)
		return;
	w = w < PREP_WINDOW_MIN ? PREP_WINDOW_MIN : w > PREP_WINDOW_MAX ? PREP_WINDOW_MAX : w;
	__atomic_store_n(&prep_window, w, __ATOMIC_RELAXED);
	/* Map the next mapping early so the preparer can move on. */
	if (!m->next && (m->carved + m->nslots - m->top) * 2 >= m->nslots) {
		struct mapping *n = gr_stack_new_mapping(m->cls);
		if (n)
			__atomic_store_n(&m->next, n, __ATOMIC_RELEASE);
	}
	if (__atomic_load_n(&m->ready, __ATOMIC_RELAXED) < m->carved + w / 2)
		prep_kick();
}

void gr_stack_prep_after_fork(void)
{
	/* The runtime carves for itself now (what the preparer had readied is
	 * just carved again), and may start a preparer of the child's own at
	 * a later mapping. */
	if (prep_state > 0)
		prep_state = 0;
	prep_sleeping = 0;
}
