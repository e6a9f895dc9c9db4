/* Read-write locks another process or OS thread may use too: glibc's
 * algorithm (pthread_rwlock_common.c) on glibc's words, so that glibc on
 * the other side needs nothing of ours. __readers holds the readers count
 * (from bit 3), WRPHASE (bit 0), WRLOCKED (bit 1) and RWAITING (bit 2);
 * readers wait on __wrphase_futex for a write phase to end, writers on
 * __writers_futex for the write lock; __writers counts waiting writers of
 * a writer-preferring lock, and its top bit hands the lock from writer to
 * writer; __cur_writer names the writer (the runtime thread's tid for a
 * process-shared lock, with the green writer kept beside, gr_held_get).
 *
 * Each futex wait of glibc's is a green wait that is also a kernel wait
 * (kwait.h), keyed by the word, and each futex wake wakes our green
 * waiters of the word and the kernel's. Where glibc spins until another
 * thread has finished a step, a green thread yields, so that the other
 * thread may be one of ours. */
#include <limits.h>
#include <stdint.h>

#include "kwait.h"
#include "lock.h"
#include "wait.h"

#define WRPHASE	     1u
#define WRLOCKED     2u
#define RWAITING     4u
#define READER_SHIFT 3
#define ONE_READER   (1u << READER_SHIFT)
#define OVERFLOW     (1u << 31)
#define WRHANDOVER   (1u << 31)
#define FUTEX_USED   2u

#define D(rw) (&(rw)->__data)

static int shared(pthread_rwlock_t *rw)
{
	return D(rw)->__shared != 0;
}

static unsigned load(unsigned *w)
{
	return __atomic_load_n(w, __ATOMIC_RELAXED);
}

static int cas(unsigned *w, unsigned *old, unsigned now, int mo)
{
	return __atomic_compare_exchange_n(w, old, now, 1, mo, __ATOMIC_RELAXED);
}

static int wait_word(pthread_rwlock_t *rw, unsigned *w, unsigned val, int64_t deadline)
{
	int r = gr_kwait(w, val, shared(rw), w, GR_BITSET_ANY, GR_WAIT_RWLOCK, rw, deadline);

	/* A handler that ran does not end a lock wait. */
	return r == -ETIMEDOUT ? r : 0;
}

static void wake_word(pthread_rwlock_t *rw, unsigned *w, int n)
{
	int woken = gr_wake_addr(w, n, GR_BITSET_ANY);

	if (woken < n)
		gr_futex_wake(w, n == GR_WAKE_ALL ? GR_WAKE_ALL : n - woken, shared(rw));
}

/* The writer's id as __cur_writer shows it, and whether self is it. */
static int writer_id(pthread_rwlock_t *rw, struct gr_thread *t)
{
	if (!shared(rw))
		return t->owner_id;
	gr_held_set(rw, t);
	return gr_rt.os_tid;
}

static int self_writes(pthread_rwlock_t *rw)
{
	int cw = __atomic_load_n(&D(rw)->__cur_writer, __ATOMIC_RELAXED);
	struct gr_thread *self = gr_rt.cur;

	if (!shared(rw))
		return cw == self->owner_id;
	return cw == gr_rt.os_tid && gr_held_get(rw) == self;
}

static void rdunlock(pthread_rwlock_t *rw)
{
	unsigned r = load(&D(rw)->__readers), rnew;

	for (;;) {
		rnew = r - ONE_READER;
		if ((rnew >> READER_SHIFT) == 0) {
			if (rnew & WRLOCKED)
				rnew |= WRPHASE;
			rnew &= ~RWAITING;
		}
		if (cas(&D(rw)->__readers, &r, rnew, __ATOMIC_RELEASE))
			break;
	}
	if (rnew & WRPHASE) {
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_exchange_n(&D(rw)->__wrphase_futex, 1, __ATOMIC_RELAXED) & FUTEX_USED)
			wake_word(rw, &D(rw)->__wrphase_futex, GR_WAKE_ALL);
	}
	if ((r & RWAITING) != (rnew & RWAITING))
		wake_word(rw, &D(rw)->__readers, GR_WAKE_ALL);
}

static void wrunlock(pthread_rwlock_t *rw)
{
	int wake_writers;

	if (shared(rw))
		gr_held_del(rw);
	__atomic_store_n(&D(rw)->__cur_writer, 0, __ATOMIC_RELAXED);
	wake_writers = (__atomic_exchange_n(&D(rw)->__writers_futex, 0, __ATOMIC_RELAXED) &
			FUTEX_USED) != 0;
	if (D(rw)->__flags != PTHREAD_RWLOCK_PREFER_READER_NP) {
		unsigned w = load(&D(rw)->__writers);
		while (w != 0)
			if (cas(&D(rw)->__writers, &w, w | WRHANDOVER, __ATOMIC_RELEASE))
				goto done;
	}
	unsigned r = load(&D(rw)->__readers);
	while (!cas(&D(rw)->__readers, &r,
		    (r ^ WRLOCKED) ^ ((r >> READER_SHIFT) == 0 ? 0 : WRPHASE), __ATOMIC_RELEASE))
		;
	if ((r >> READER_SHIFT) != 0 &&
	    (__atomic_exchange_n(&D(rw)->__wrphase_futex, 0, __ATOMIC_RELAXED) & FUTEX_USED))
		wake_word(rw, &D(rw)->__wrphase_futex, GR_WAKE_ALL);
done:
	if (wake_writers)
		wake_word(rw, &D(rw)->__writers_futex, 1);
}

int gr_rwlock_unlock_shared(pthread_rwlock_t *rw)
{
	if (self_writes(rw))
		wrunlock(rw);
	else
		rdunlock(rw);
	return 0;
}

static int tryrdlock(pthread_rwlock_t *rw)
{
	unsigned r = load(&D(rw)->__readers), rnew;

	do {
		if (!(r & WRPHASE)) {
			if ((r & WRLOCKED) &&
			    D(rw)->__flags == PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP)
				return -EBUSY;
			rnew = r + ONE_READER;
		} else {
			if (r & WRLOCKED)
				return -EBUSY;
			rnew = (r + ONE_READER) ^ WRPHASE;
		}
		if (rnew >= OVERFLOW)
			return -EAGAIN;
	} while (!cas(&D(rw)->__readers, &r, rnew, __ATOMIC_ACQUIRE));
	if ((r & WRPHASE) &&
	    (__atomic_exchange_n(&D(rw)->__wrphase_futex, 0, __ATOMIC_RELAXED) & FUTEX_USED))
		wake_word(rw, &D(rw)->__wrphase_futex, GR_WAKE_ALL);
	return 0;
}

static int trywrlock(pthread_rwlock_t *rw)
{
	unsigned r = load(&D(rw)->__readers);
	int prefer_writer = D(rw)->__flags != PTHREAD_RWLOCK_PREFER_READER_NP;

	while (!(r & WRLOCKED) && ((r >> READER_SHIFT) == 0 || (prefer_writer && (r & WRPHASE)))) {
		if (cas(&D(rw)->__readers, &r, r | WRPHASE | WRLOCKED, __ATOMIC_ACQUIRE)) {
			__atomic_store_n(&D(rw)->__writers_futex, 1, __ATOMIC_RELAXED);
			if (!(r & WRPHASE))
				__atomic_store_n(&D(rw)->__wrphase_futex, 1, __ATOMIC_RELAXED);
			__atomic_store_n(&D(rw)->__cur_writer, writer_id(rw, gr_rt.cur),
					 __ATOMIC_RELAXED);
			return 0;
		}
	}
	return -EBUSY;
}

int gr_rwlock_rdlock_shared(pthread_rwlock_t *rw, const struct gr_timeout *to)
{
	int64_t deadline = 0;
	unsigned r;
	int err;

	if (to->try_only)
		return tryrdlock(rw);
	if (self_writes(rw))
		return -EDEADLK;
	err = gr_timeout_deadline(to, &deadline);
	if (err < 0 && err != -ETIMEDOUT)
		return err;
	if (err == -ETIMEDOUT)
		deadline = 1; /* passed: every wait below times out at once */
	if (D(rw)->__flags == PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP) {
		r = load(&D(rw)->__readers);
		while (!(r & WRPHASE) && (r & WRLOCKED) && (r >> READER_SHIFT) > 0) {
			if (cas(&D(rw)->__readers, &r, r | RWAITING, __ATOMIC_RELAXED)) {
				while ((r = load(&D(rw)->__readers)) & RWAITING)
					if (wait_word(rw, &D(rw)->__readers, r, deadline) ==
					    -ETIMEDOUT)
						return -ETIMEDOUT;
			}
		}
	}
	r = __atomic_fetch_add(&D(rw)->__readers, ONE_READER, __ATOMIC_ACQUIRE) + ONE_READER;
	while (r >= OVERFLOW)
		if (cas(&D(rw)->__readers, &r, r - ONE_READER, __ATOMIC_RELAXED))
			return -EAGAIN;
	if (!(r & WRPHASE))
		return 0;
	while ((r & WRPHASE) && !(r & WRLOCKED)) {
		if (cas(&D(rw)->__readers, &r, r ^ WRPHASE, __ATOMIC_ACQUIRE)) {
			if (__atomic_exchange_n(&D(rw)->__wrphase_futex, 0, __ATOMIC_RELAXED) &
			    FUTEX_USED)
				wake_word(rw, &D(rw)->__wrphase_futex, GR_WAKE_ALL);
			return 0;
		}
	}
	for (;;) {
		unsigned wpf;
		while (((wpf = load(&D(rw)->__wrphase_futex)) | FUTEX_USED) == (1 | FUTEX_USED)) {
			if (!(wpf & FUTEX_USED) &&
			    !cas(&D(rw)->__wrphase_futex, &wpf, wpf | FUTEX_USED, __ATOMIC_RELAXED))
				continue;
			if (wait_word(rw, &D(rw)->__wrphase_futex, 1 | FUTEX_USED, deadline) !=
			    -ETIMEDOUT)
				continue;
			/* Timed out: leave, unless a writer is giving the lock
			 * to the readers right now; then we are one. */
			r = load(&D(rw)->__readers);
			while (r & WRPHASE)
				if (cas(&D(rw)->__readers, &r, r - ONE_READER, __ATOMIC_RELAXED))
					return -ETIMEDOUT;
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			while ((load(&D(rw)->__wrphase_futex) | FUTEX_USED) == (1 | FUTEX_USED))
				gr_yield();
			return 0;
		}
		if (!(__atomic_load_n(&D(rw)->__readers, __ATOMIC_ACQUIRE) & WRPHASE))
			return 0;
	}
}

int gr_rwlock_wrlock_shared(pthread_rwlock_t *rw, const struct gr_timeout *to)
{
	int64_t deadline = 0;
	int may_share_futex_used = 0, err;
	unsigned r;

	if (to->try_only)
		return self_writes(rw) ? -EDEADLK : trywrlock(rw);
	if (self_writes(rw))
		return -EDEADLK;
	err = gr_timeout_deadline(to, &deadline);
	if (err < 0 && err != -ETIMEDOUT)
		return err;
	if (err == -ETIMEDOUT)
		deadline = 1;
	r = __atomic_fetch_or(&D(rw)->__readers, WRLOCKED, __ATOMIC_ACQUIRE);
	if (r & WRLOCKED) {
		int prefer_writer = D(rw)->__flags != PTHREAD_RWLOCK_PREFER_READER_NP;
		if (prefer_writer)
			__atomic_fetch_add(&D(rw)->__writers, 1, __ATOMIC_RELAXED);
		for (;;) {
			if (!(r & WRLOCKED)) {
				if (cas(&D(rw)->__readers, &r, r | WRLOCKED, __ATOMIC_ACQUIRE)) {
					if (prefer_writer)
						__atomic_fetch_sub(&D(rw)->__writers, 1,
								   __ATOMIC_RELAXED);
					break;
				}
				continue;
			}
			if (prefer_writer) {
				unsigned w = load(&D(rw)->__writers);
				if (w & WRHANDOVER) {
					if (cas(&D(rw)->__writers, &w, w - WRHANDOVER - 1,
						__ATOMIC_ACQUIRE)) {
						r = load(&D(rw)->__readers);
						break;
					}
					continue;
				}
			}
			unsigned wf = load(&D(rw)->__writers_futex);
			if ((wf & ~FUTEX_USED) != 1 ||
			    (wf != (1 | FUTEX_USED) && !cas(&D(rw)->__writers_futex, &wf,
							    1 | FUTEX_USED, __ATOMIC_RELAXED))) {
				r = load(&D(rw)->__readers);
				continue;
			}
			may_share_futex_used = 1;
			if (wait_word(rw, &D(rw)->__writers_futex, 1 | FUTEX_USED, deadline) ==
			    -ETIMEDOUT) {
				if (prefer_writer) {
					unsigned w = load(&D(rw)->__writers);
					while (!cas(&D(rw)->__writers, &w,
						    w == WRHANDOVER + 1 ? 0 : w - 1,
						    __ATOMIC_ACQUIRE))
						;
					if (w == WRHANDOVER + 1) {
						r = load(&D(rw)->__readers);
						break; /* handed over to us after all */
					}
				}
				return -ETIMEDOUT;
			}
			r = load(&D(rw)->__readers);
		}
		r |= WRLOCKED;
	}
	__atomic_store_n(&D(rw)->__writers_futex, 1 | (may_share_futex_used ? FUTEX_USED : 0),
			 __ATOMIC_RELAXED);
	if (r & WRPHASE)
		goto done;
	while (!(r & WRPHASE) && (r >> READER_SHIFT) == 0) {
		if (cas(&D(rw)->__readers, &r, r | WRPHASE, __ATOMIC_ACQUIRE)) {
			__atomic_store_n(&D(rw)->__wrphase_futex, 1, __ATOMIC_RELAXED);
			goto done;
		}
	}
	for (;;) {
		unsigned wpf;
		while (((wpf = load(&D(rw)->__wrphase_futex)) | FUTEX_USED) == FUTEX_USED) {
			if (!(wpf & FUTEX_USED) &&
			    !cas(&D(rw)->__wrphase_futex, &wpf, FUTEX_USED, __ATOMIC_RELAXED))
				continue;
			if (wait_word(rw, &D(rw)->__wrphase_futex, FUTEX_USED, deadline) !=
			    -ETIMEDOUT)
				continue;
			/* Timed out waiting for the readers to leave: give the
			 * write lock up (to a waiting writer if there is one). */
			if (D(rw)->__flags != PTHREAD_RWLOCK_PREFER_READER_NP) {
				unsigned w = load(&D(rw)->__writers);
				if (w != 0) {
					unsigned wf = __atomic_exchange_n(&D(rw)->__writers_futex,
									  0, __ATOMIC_RELAXED);
					while (w != 0) {
						if (cas(&D(rw)->__writers, &w, w | WRHANDOVER,
							__ATOMIC_RELEASE)) {
							if (wf & FUTEX_USED)
								wake_word(rw,
									  &D(rw)->__writers_futex,
									  1);
							return -ETIMEDOUT;
						}
					}
					__atomic_store_n(&D(rw)->__writers_futex, wf,
							 __ATOMIC_RELAXED);
				}
			}
			r = load(&D(rw)->__readers);
			if (!(r & WRPHASE)) {
				unsigned wf = __atomic_exchange_n(&D(rw)->__writers_futex, 0,
								  __ATOMIC_RELAXED);
				while (!(r & WRPHASE)) {
					if (cas(&D(rw)->__readers, &r, (r ^ WRLOCKED) & ~RWAITING,
						__ATOMIC_RELEASE)) {
						if (wf & FUTEX_USED)
							wake_word(rw, &D(rw)->__writers_futex, 1);
						if (r & RWAITING)
							wake_word(rw, &D(rw)->__readers,
								  GR_WAKE_ALL);
						return -ETIMEDOUT;
					}
				}
				__atomic_store_n(&D(rw)->__writers_futex, wf, __ATOMIC_RELAXED);
			}
			/* The last reader is handing over to us: wait for it. */
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			while ((load(&D(rw)->__wrphase_futex) | FUTEX_USED) == FUTEX_USED)
				gr_yield();
			goto done;
		}
		if (__atomic_load_n(&D(rw)->__readers, __ATOMIC_ACQUIRE) & WRPHASE)
			break;
	}
done:
	__atomic_store_n(&D(rw)->__cur_writer, writer_id(rw, gr_rt.cur), __ATOMIC_RELAXED);
	return 0;
}
