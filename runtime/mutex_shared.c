/* Mutexes another OS thread or process may lock too (foreign.h): every
 * PTHREAD_PROCESS_SHARED mutex, and private ones once foreign OS threads
 * may touch them. The lock word follows glibc to the letter, since glibc on
 * the other side reads and changes it with atomics:
 *   normal, recursive, errorcheck, adaptive: 0 free, 1 held, 2 held and
 *     maybe waited for in the kernel; unlock exchanges in 0 and wakes one
 *     kernel waiter if it was 2; a woken waiter takes it with 2.
 *   robust: the holder's tid, FUTEX_WAITERS, FUTEX_OWNER_DIED. For a
 *     process-shared one the tid is the runtime thread's, as the kernel
 *     and every other process see it, and the mutex is on the runtime
 *     thread's robust list, the one registered with set_robust_list, in
 *     glibc's format: if the process dies holding it, the kernel marks it
 *     FUTEX_OWNER_DIED and wakes a waiter, whose glibc says EOWNERDEAD.
 * __owner of a process-shared mutex (of every kind) holds the runtime
 * thread's tid too, or glibc's INCONSISTENT / NOTRECOVERABLE; which green
 * thread holds it is kept beside, in the holder table (gr_held_get). In a
 * private mutex __owner (and a robust word) holds the holder's green id, as
 * the plain way does; glibc compares it only with its own thread's tid,
 * which it never equals. A green unlock with a green waiter of its own
 * hands the mutex over without touching the lock word, which says "held"
 * throughout, so no other thread can take it in between. Green waiters on a process-shared mutex,
 * or on one a foreign thread holds, mark the word and wait in the kernel too (kwait.h); those on a
 * private one a green thread holds wait on the green queue, and a foreign unlock tells the loop
 * (foreign.h). */
#include <limits.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <sys/syscall.h>

#include "foreign.h"
#include "kwait.h"
#include "lock.h"
#include "log.h"
#include "real.h"
#include "wait.h"

#define KIND_MASK      3
#define ROBUST	       16
#define PSHARED	       128
#define INCONSISTENT   INT_MAX
#define NOTRECOVERABLE (INT_MAX - 1)
#define TID_MASK       0x3fffffffu

/* The lock word, as glibc's atomics see it. */
#define WORD(d) ((uint32_t *)&(d)->__lock)

static int cas(struct __pthread_mutex_s *d, uint32_t *old, uint32_t now)
{
	return __atomic_compare_exchange_n(WORD(d), old, now, 0, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED);
}

/* --- The runtime thread's robust list, in glibc's format -------------- */

struct klist {
	struct klist *prev; /* glibc's __prev: not read by the kernel */
	struct klist *next; /* the kernel's robust_list.next */
};

/* glibc keeps the head's own __prev word (robust_prev) just before it. */
#define NODE(p) ((struct klist *)((char *)(p) - sizeof(void *)))

static struct robust_list_head *khead; /* registered by glibc for the OS thread */
static int khead_known;

static struct robust_list_head *kernel_head(void)
{
	if (!khead_known) {
		struct robust_list_head *h = NULL;
		size_t len = 0;
		int saved = errno;
		long off = (long)offsetof(struct __pthread_mutex_s, __lock) -
			   (long)offsetof(struct __pthread_mutex_s, __list.__next);
		if (gr_real.syscall(SYS_get_robust_list, 0, &h, &len) != 0 || len != sizeof(*h))
			h = NULL;
		/* A fork child of a green thread: glibc registered that
		 * thread's block, whose futex_offset it did not set (it
		 * expects the parent's value there); an empty list is ours to
		 * complete. */
		if (h && h->futex_offset == 0 && h->list.next == &h->list)
			h->futex_offset = off;
		if (h && h->futex_offset == off)
			khead = h;
		else
			gr_log(GR_LOG_WARN, "no robust list of glibc's on the runtime thread: a "
					    "process-shared robust mutex is not released if the "
					    "process dies holding it");
		errno = saved;
		khead_known = 1;
	}
	return khead;
}

static void klist_pending(struct robust_list_head *h, pthread_mutex_t *m)
{
	if (h)
		h->list_op_pending = m ? (struct robust_list *)&m->__data.__list.__next : NULL;
	__asm__ volatile("" ::: "memory");
}

static void klist_add(struct robust_list_head *h, pthread_mutex_t *m)
{
	struct klist *e = (struct klist *)&m->__data.__list, *first;

	if (!h)
		return;
	first = NODE(h->list.next);
	first->prev = (struct klist *)&e->next;
	e->next = (struct klist *)h->list.next;
	e->prev = (struct klist *)h;
	__asm__ volatile("" ::: "memory"); /* the kernel may read the list at any time */
	h->list.next = (struct robust_list *)&e->next;
}

static void klist_del(struct robust_list_head *h, pthread_mutex_t *m)
{
	struct klist *e = (struct klist *)&m->__data.__list;

	if (!h || !e->next)
		return;
	NODE(e->next)->prev = e->prev;
	NODE(e->prev)->next = e->next;
	__asm__ volatile("" ::: "memory");
	e->prev = e->next = NULL;
}

/* --- Which green thread holds a process-shared mutex ------------------ */

struct held {
	const void *m; /* the mutex (or a rwlock's write lock) */
	struct gr_thread *t;
};

static struct held *held;     /* open addressing; m NULL: free */
static struct gr_thread gone; /* the holder of a mutex whose holder ended */
static size_t held_cap, held_n;

static size_t held_slot(const void *m)
{
	return ((uintptr_t)m >> 4) * 0x9e3779b97f4a7c15ull >> 20;
}

static struct held *held_find(const void *m)
{
	if (!held_cap)
		return NULL;
	for (size_t i = held_slot(m) & (held_cap - 1);; i = (i + 1) & (held_cap - 1)) {
		if (held[i].m == m)
			return &held[i];
		if (!held[i].m)
			return NULL;
	}
}

void gr_held_set(const void *m, struct gr_thread *t)
{
	struct held *h = held_find(m);

	if (h) {
		h->t = t;
		return;
	}
	if ((held_n + 1) * 4 > held_cap * 3) {
		/* Taking a lock, not parking or waking: an allocation once
		 * the number held doubles. */
		size_t cap = held_cap ? held_cap * 2 : 64;
		struct held *n = calloc(cap, sizeof(*n)), *old = held;
		if (!n)
			gr_die("out of memory for %zu held robust mutexes", held_n);
		size_t oc = held_cap;
		held = n;
		held_cap = cap;
		held_n = 0;
		for (size_t i = 0; i < oc; i++)
			if (old[i].m)
				gr_held_set(old[i].m, old[i].t);
		free(old);
	}
	for (size_t i = held_slot(m) & (held_cap - 1);; i = (i + 1) & (held_cap - 1))
		if (!held[i].m) {
			held[i].m = m;
			held[i].t = t;
			held_n++;
			return;
		}
}

void gr_held_del(const void *m)
{
	struct held *h = held_find(m);

	if (!h)
		return;
	/* Backward-shift deletion keeps every probe chain whole. */
	size_t i = (size_t)(h - held), j = i;
	for (;;) {
		held[i].m = NULL;
		for (;;) {
			j = (j + 1) & (held_cap - 1);
			if (!held[j].m) {
				held_n--;
				return;
			}
			size_t k = held_slot(held[j].m) & (held_cap - 1);
			if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
				continue;
			break;
		}
		held[i] = held[j];
		i = j;
	}
}

struct gr_thread *gr_held_get(const void *m)
{
	struct held *h = held_find(m);

	return h ? h->t : NULL;
}

/* --- Helpers --------------------------------------------------------- */

static int shared_kernel_robust(const struct __pthread_mutex_s *d)
{
	return (d->__kind & (ROBUST | PSHARED)) == (ROBUST | PSHARED);
}

/* The futex flag glibc uses on the word: robust ones are always shared. */
static int futex_shared(const struct __pthread_mutex_s *d)
{
	return (d->__kind & (ROBUST | PSHARED)) != 0;
}

/* The green thread of ours that holds m, or NULL (free, or held by another
 * OS thread or process). */
static struct gr_thread *green_holder(pthread_mutex_t *m)
{
	struct __pthread_mutex_s *d = &m->__data;
	uint32_t w = __atomic_load_n(WORD(d), __ATOMIC_RELAXED);
	int ours = (d->__kind & ROBUST) ? (w & TID_MASK) == (uint32_t)gr_rt.os_tid
					: w != 0 && d->__owner == gr_rt.os_tid;

	if (!ours)
		return NULL;
	struct held *h = held_find(m);
	/* Not ours to have taken: main took it before the runtime started,
	 * with glibc's own lock. */
	return h ? h->t : &gr_main_thread;
}

/* Whether a holder id in __owner (or a private robust word) is one of our
 * green threads: main's is the OS tid, the others' lie above every tid. */
static int green_id(unsigned id)
{
	return id == (unsigned)gr_rt.os_tid || id >= (1u << 23);
}

static int holds(pthread_mutex_t *m, const struct gr_thread *self)
{
	struct __pthread_mutex_s *d = &m->__data;
	uint32_t w = __atomic_load_n(WORD(d), __ATOMIC_RELAXED);

	if (d->__kind & PSHARED)
		return green_holder(m) == self;
	if (d->__kind & ROBUST)
		return (w & TID_MASK) == (uint32_t)self->owner_id;
	return w != 0 && d->__owner == self->owner_id;
}

/* What __owner says for holder t: another process must not mistake our
 * holder for one of its own threads, so a process-shared mutex says the
 * runtime thread's tid, and the holder table says which green thread. */
static int owner_of(struct __pthread_mutex_s *d, struct gr_thread *t)
{
	if (!(d->__kind & PSHARED))
		return t->owner_id;
	gr_held_set((pthread_mutex_t *)d, t);
	return gr_rt.os_tid;
}

/* Made the holder (lock word already ours). */
static void taken(pthread_mutex_t *m, struct gr_thread *t)
{
	struct __pthread_mutex_s *d = &m->__data;

	d->__owner = owner_of(d, t);
	d->__count = 1;
	d->__nusers++;
}

/* The word a robust holder writes. */
static uint32_t robust_id(const struct __pthread_mutex_s *d, const struct gr_thread *t)
{
	return shared_kernel_robust(d) ? (uint32_t)gr_rt.os_tid : (uint32_t)t->owner_id;
}

/* Waits once for m: 0 handed over by a green unlock, GR_RECHECK / -EINTR
 * (try again), -ETIMEDOUT, or a robust hand-over's -EOWNERDEAD /
 * -ENOTRECOVERABLE. seen is the word as last read, held by someone. */
static int wait_for(pthread_mutex_t *m, uint32_t seen, int64_t deadline, int *in_kernel)
{
	struct __pthread_mutex_s *d = &m->__data;
	int shared = futex_shared(d);
	int r;

	*in_kernel = 0;
	if (!(d->__kind & PSHARED)) {
		/* Private: held by a green thread of ours, whose unlock hands
		 * it over or wakes us, or by a foreign one. */
		unsigned id = (d->__kind & ROBUST) ? (seen & TID_MASK) : (unsigned)d->__owner;
		if (green_id(id)) {
			__atomic_fetch_add(&gr_foreign_parked, 1, __ATOMIC_SEQ_CST);
			if (__atomic_load_n(WORD(d), __ATOMIC_RELAXED) != seen)
				r = GR_RECHECK;
			else
				r = gr_wait_addr(&d->__lock, GR_BITSET_ANY, GR_WAIT_MUTEX, m,
						 deadline);
			__atomic_fetch_sub(&gr_foreign_parked, 1, __ATOMIC_RELAXED);
			return r;
		}
	}
	*in_kernel = 1;
	r = gr_kwait(WORD(d), seen, shared, &d->__lock, GR_BITSET_ANY, GR_WAIT_MUTEX, m, deadline);
	return r == -EAGAIN ? GR_RECHECK : r;
}

/* The holder locks again: a recursive mutex counts (0, or -EAGAIN past
 * its limit), an errorcheck one refuses, a normal one waits for ever as
 * glibc's does (1: the caller waits). */
static int relock(pthread_mutex_t *m, const struct gr_timeout *to)
{
	struct __pthread_mutex_s *d = &m->__data;
	int kind = d->__kind & KIND_MASK;

	if (kind == PTHREAD_MUTEX_RECURSIVE_NP) {
		if (d->__count + 1 == 0)
			return -EAGAIN;
		d->__count++;
		return 0;
	}
	if (kind == PTHREAD_MUTEX_ERRORCHECK_NP)
		return to->try_only && !(d->__kind & ROBUST) ? -EBUSY : -EDEADLK;
	return 1; /* a normal mutex: waits for itself, as glibc's does */
}

static int lock_plain(pthread_mutex_t *m, const struct gr_timeout *to)
{
	struct __pthread_mutex_s *d = &m->__data;
	struct gr_thread *self = gr_rt.cur;
	int64_t deadline = 0;
	int have_deadline = 0, woken = 0, in_kernel, r;

	for (;;) {
		uint32_t w = 0;
		/* A waiter the kernel woke takes it with 2: others may
		 * still sleep there (glibc's __lll_lock_wait). */
		if (woken) {
			w = __atomic_exchange_n(WORD(d), 2, __ATOMIC_ACQUIRE);
			if (w == 0)
				break;
			w = 2;
		} else if (cas(d, &w, 1)) {
			break;
		}
		if (holds(m, self)) {
			r = relock(m, to);
			if (r <= 0)
				return r;
		}
		if (!have_deadline) {
			r = gr_timeout_deadline(to, &deadline);
			if (r < 0)
				return r == -EBUSY ? -EBUSY : r;
			have_deadline = 1;
		}
		if (d->__kind & PSHARED || !green_id((unsigned)d->__owner)) {
			/* It may sleep in the kernel: say so in the word. */
			if (w != 2) {
				w = __atomic_exchange_n(WORD(d), 2, __ATOMIC_ACQUIRE);
				if (w == 0)
					break;
				w = 2;
			}
		}
		r = wait_for(m, w, deadline, &in_kernel);
		if (r == 0)
			return 0; /* handed over by a green unlock */
		if (r != GR_RECHECK && r != -EINTR)
			return r; /* -ETIMEDOUT */
		woken = in_kernel || woken;
	}
	taken(m, self);
	return 0;
}

static int lock_robust(pthread_mutex_t *m, const struct gr_timeout *to)
{
	struct __pthread_mutex_s *d = &m->__data;
	struct gr_thread *self = gr_rt.cur;
	struct robust_list_head *h = shared_kernel_robust(d) ? kernel_head() : NULL;
	uint32_t id = robust_id(d, self), assume = 0;
	int64_t deadline = 0;
	int have_deadline = 0, in_kernel, r;

	klist_pending(h, m);
	for (;;) {
		uint32_t w = __atomic_load_n(WORD(d), __ATOMIC_RELAXED);
		if (w == 0 && cas(d, &w, id | assume))
			break;
		if (w & FUTEX_OWNER_DIED) {
			if (!cas(d, &w, id | (w & FUTEX_WAITERS) | assume))
				continue;
			taken(m, self);
			d->__nusers--; /* the dead owner is not discounted */
			d->__owner = INCONSISTENT;
			klist_add(h, m);
			klist_pending(h, NULL);
			if (!shared_kernel_robust(d))
				gr_mutex_robust_add(self, m);
			return -EOWNERDEAD;
		}
		if (holds(m, self)) {
			klist_pending(h, NULL);
			r = relock(m, to);
			if (r <= 0)
				return r;
			klist_pending(h, m);
		}
		if (!have_deadline) {
			r = gr_timeout_deadline(to, &deadline);
			if (r < 0) {
				klist_pending(h, NULL);
				return r;
			}
			have_deadline = 1;
		}
		if (!(w & FUTEX_WAITERS) && (d->__kind & PSHARED || !green_id(w & TID_MASK))) {
			if (!cas(d, &w, w | FUTEX_WAITERS))
				continue;
			w |= FUTEX_WAITERS;
		}
		r = wait_for(m, w, deadline, &in_kernel);
		if (r == 0 || r == -EOWNERDEAD || r == -ENOTRECOVERABLE) {
			klist_pending(h, NULL);
			return r; /* handed over by a green unlock or exit */
		}
		if (r != GR_RECHECK && r != -EINTR) {
			klist_pending(h, NULL);
			return r;
		}
		if (in_kernel)
			assume = FUTEX_WAITERS;
	}
	if (d->__owner == NOTRECOVERABLE) {
		if (__atomic_exchange_n(WORD(d), 0, __ATOMIC_RELEASE) & FUTEX_WAITERS)
			gr_futex_wake(WORD(d), 1, 1);
		klist_pending(h, NULL);
		return -ENOTRECOVERABLE;
	}
	taken(m, self);
	klist_add(h, m);
	klist_pending(h, NULL);
	if (!shared_kernel_robust(d))
		gr_mutex_robust_add(self, m);
	return 0;
}

int gr_mutex_lock_atomic(pthread_mutex_t *m, const struct gr_timeout *to)
{
	struct __pthread_mutex_s *d = &m->__data;

	if (d->__kind & ROBUST)
		return lock_robust(m, to);
	return lock_plain(m, to);
}

/* Hands m to green waiter w (the word stays "held"). */
void gr_mutex_hand_over(pthread_mutex_t *m, struct gr_thread *w, int result)
{
	struct __pthread_mutex_s *d = &m->__data;

	if (d->__kind & PSHARED)
		gr_held_set(m, w);
	else if (d->__kind & ROBUST) {
		/* A private robust word names its green holder. */
		uint32_t old = __atomic_load_n(WORD(d), __ATOMIC_RELAXED);
		while (!__atomic_compare_exchange_n(WORD(d), &old,
						    (old & ~TID_MASK) | (uint32_t)w->owner_id, 0,
						    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
			;
		gr_mutex_robust_add(w, m);
	}
	d->__owner = result == -EOWNERDEAD ? INCONSISTENT : owner_of(d, w);
	d->__count = 1;
	gr_wake_waiter(w, result);
}

/* Releases the word; a kernel waiter wakes if the word said there may be
 * one. */
static void release_word(struct __pthread_mutex_s *d, uint32_t now)
{
	uint32_t old = __atomic_exchange_n(WORD(d), now, __ATOMIC_RELEASE);

	if ((d->__kind & ROBUST) ? (old & FUTEX_WAITERS) != 0 : old > 1)
		gr_futex_wake(WORD(d), 1, futex_shared(d));
}

int gr_mutex_unlock_atomic(pthread_mutex_t *m)
{
	struct __pthread_mutex_s *d = &m->__data;
	struct gr_thread *self = gr_rt.cur, *w;
	int kind = d->__kind & KIND_MASK;
	int robust = d->__kind & ROBUST;
	int newowner = 0;

	if (kind != PTHREAD_MUTEX_TIMED_NP && kind != PTHREAD_MUTEX_ADAPTIVE_NP) {
		if (!holds(m, self))
			return -EPERM;
	} else if (robust && !holds(m, self)) {
		return -EPERM;
	}
	if (kind == PTHREAD_MUTEX_RECURSIVE_NP && d->__owner != INCONSISTENT && --d->__count != 0)
		return 0;
	if (!robust && __atomic_load_n(WORD(d), __ATOMIC_RELAXED) == 0)
		return 0; /* glibc lets a free normal mutex be "unlocked" */
	if (robust && d->__owner == INCONSISTENT)
		newowner = NOTRECOVERABLE;
	w = newowner ? NULL : gr_first_waiter(&d->__lock);
	if (w) {
		if (robust && !shared_kernel_robust(d))
			gr_mutex_robust_del(self, m);
		gr_mutex_hand_over(m, w, 0);
		return 0;
	}
	if (robust) {
		struct robust_list_head *h = shared_kernel_robust(d) ? kernel_head() : NULL;
		klist_pending(h, m);
		klist_del(h, m);
		if (shared_kernel_robust(d))
			gr_held_del(m);
		else
			gr_mutex_robust_del(self, m);
		d->__owner = newowner;
		d->__nusers--;
		release_word(d, 0);
		klist_pending(h, NULL);
		if (newowner) {
			/* Nobody may use it again: the green waiters hear it
			 * now, kernel ones from glibc when they look. */
			while ((w = gr_first_waiter(&d->__lock)))
				gr_wake_waiter(w, -ENOTRECOVERABLE);
		}
		return 0;
	}
	if (d->__kind & PSHARED)
		gr_held_del(m);
	d->__owner = 0;
	d->__nusers--;
	release_word(d, 0);
	return 0;
}

int gr_mutex_consistent_atomic(pthread_mutex_t *m)
{
	struct __pthread_mutex_s *d = &m->__data;

	if (!(d->__kind & ROBUST) || d->__owner != INCONSISTENT || !holds(m, gr_rt.cur))
		return -EINVAL;
	d->__owner = owner_of(d, gr_rt.cur);
	return 0;
}

/* A green thread ends holding process-shared robust mutexes: as the kernel
 * does for a dying thread, each passes to a waiter with EOWNERDEAD. */
void gr_mutex_shared_owner_exit(struct gr_thread *t)
{
	if (!held_n)
		return; /* the common case: no process-shared mutex is held */
	struct robust_list_head *h = kernel_head();

	for (size_t i = 0; i < held_cap;) {
		pthread_mutex_t *m = (pthread_mutex_t *)held[i].m;
		if (!m || held[i].t != t) {
			i++;
			continue;
		}
		struct __pthread_mutex_s *d = &m->__data;
		if (!(d->__kind & ROBUST)) {
			/* glibc leaves it locked for ever; by nobody we know. */
			held[i++].t = &gone;
			continue;
		}
		struct gr_thread *w = gr_first_waiter(&d->__lock);
		if (w) {
			gr_mutex_hand_over(m, w, -EOWNERDEAD);
			continue; /* held_set kept slot i for w */
		}
		klist_pending(h, m);
		klist_del(h, m);
		gr_held_del(m); /* slot i now holds the next entry, if any */
		d->__nusers--;
		uint32_t old = __atomic_load_n(WORD(d), __ATOMIC_RELAXED);
		while (!__atomic_compare_exchange_n(WORD(d), &old,
						    (old & FUTEX_WAITERS) | FUTEX_OWNER_DIED, 0,
						    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
			;
		if (old & FUTEX_WAITERS)
			gr_futex_wake(WORD(d), 1, 1);
		klist_pending(h, NULL);
	}
}

void gr_mutex_shared_after_fork(void)
{
	/* The child's OS thread has a robust list of its own (glibc
	 * registered it anew). */
	khead = NULL;
	khead_known = 0;
	/* glibc's child starts with an empty robust list: the parent's
	 * mutexes are not the child's. */
	held_n = 0;
	for (size_t i = 0; i < held_cap; i++)
		held[i].m = NULL;
}
