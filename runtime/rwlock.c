/* Green read-write locks, in glibc's pthread_rwlock_t layout as far as a
 * lock taken before the runtime started needs: __readers counts readers
 * above bit 3 (RWLOCK_READER_SHIFT) and has bit 1 (WRLOCKED) while a
 * writer holds it, __cur_writer is the writer's id, __flags the kind.
 * Readers and writers queue apart (two addresses inside the object). The
 * default kind prefers readers: a reader gets in while readers hold the
 * lock even if a writer waits; PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP
 * makes new readers wait behind a waiting writer. Unlocking hands over
 * directly: to every waiting reader, or to the first writer (wait.c's
 * order: the highest priority, then the oldest).
 *
 * That is the way of private locks only green threads touch; a
 * process-shared one, and every one once foreign OS threads may touch it
 * (foreign.h), follows glibc's algorithm (rwlock_shared.c). */
#include "foreign.h"
#include "lock.h"
#include "wait.h"

static inline int atomic_way(const pthread_rwlock_t *rw)
{
	return __builtin_expect(rw->__data.__shared | gr_foreign, 0);
}

#define WRLOCKED     2u
#define READER_SHIFT 3
#define ONE_READER   (1u << READER_SHIFT)

#define RQ(rw) ((const void *)&(rw)->__data.__readers)
#define WQ(rw) ((const void *)&(rw)->__data.__writers)

static unsigned readers(const pthread_rwlock_t *rw)
{
	return rw->__data.__readers >> READER_SHIFT;
}

static int write_held(const pthread_rwlock_t *rw)
{
	return (rw->__data.__readers & WRLOCKED) != 0;
}

static int prefer_writers(const pthread_rwlock_t *rw)
{
	return rw->__data.__flags == PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP;
}

int gr_rwlock_holder(const pthread_rwlock_t *rw, int *writer, unsigned *nreaders)
{
	if (write_held(rw)) {
		*writer = (int)rw->__data.__cur_writer;
		return 1;
	}
	*nreaders = readers(rw);
	return 0;
}

int gr_rwlock_rdlock(pthread_rwlock_t *rw, const struct gr_timeout *to)
{
	int64_t deadline;
	int r;

again:
	if (atomic_way(rw))
		return gr_rwlock_rdlock_shared(rw, to);
	if (write_held(rw) && rw->__data.__cur_writer == gr_rt.cur->owner_id)
		return -EDEADLK;
	if (!write_held(rw) && !(prefer_writers(rw) && gr_first_waiter(WQ(rw)))) {
		if (readers(rw) == (~0u >> READER_SHIFT))
			return -EAGAIN; /* too many readers */
		rw->__data.__readers += ONE_READER;
		return 0;
	}
	r = gr_timeout_deadline(to, &deadline);
	if (r < 0)
		return r;
	r = gr_wait_addr(RQ(rw), GR_BITSET_ANY, GR_WAIT_RWLOCK, rw, deadline);
	if (r == -EINTR || r == GR_RECHECK)
		goto again; /* a signal handler ran: carry on */
	return r;
}

/* A writer gave up waiting (its timeout): readers that queued only behind
 * it (PREFER_WRITER_NONRECURSIVE) get in now if no other writer waits and
 * readers hold the lock, as glibc's timed wrlock does when it withdraws;
 * else they would wait until the last reader's unlock, or for good. */
static void admit_readers(pthread_rwlock_t *rw)
{
	struct gr_thread *r;

	if (write_held(rw) || gr_first_waiter(WQ(rw)))
		return;
	while ((r = gr_first_waiter(RQ(rw)))) {
		rw->__data.__readers += ONE_READER;
		gr_wake_waiter(r, 0);
	}
}

int gr_rwlock_wrlock(pthread_rwlock_t *rw, const struct gr_timeout *to)
{
	int64_t deadline;
	int r;

again:
	if (atomic_way(rw))
		return gr_rwlock_wrlock_shared(rw, to);
	if (write_held(rw) && rw->__data.__cur_writer == gr_rt.cur->owner_id)
		return -EDEADLK;
	if (!write_held(rw) && readers(rw) == 0) {
		rw->__data.__readers = WRLOCKED | 1; /* glibc also sets WRPHASE */
		rw->__data.__cur_writer = gr_rt.cur->owner_id;
		return 0;
	}
	r = gr_timeout_deadline(to, &deadline);
	if (r < 0)
		return r;
	r = gr_wait_addr(WQ(rw), GR_BITSET_ANY, GR_WAIT_RWLOCK, rw, deadline);
	if (r == -EINTR || r == GR_RECHECK)
		goto again;
	if (r < 0)
		admit_readers(rw);
	return r;
}

/* The lock is free: give it to the next waiters. */
static void hand_over(pthread_rwlock_t *rw)
{
	struct gr_thread *w = gr_first_waiter(WQ(rw));
	int want_readers = gr_first_waiter(RQ(rw)) != NULL;

	if (want_readers && (!w || !prefer_writers(rw))) {
		struct gr_thread *r;
		while ((r = gr_first_waiter(RQ(rw)))) {
			rw->__data.__readers += ONE_READER;
			gr_wake_waiter(r, 0);
		}
		return;
	}
	if (w) {
		rw->__data.__readers = WRLOCKED | 1;
		rw->__data.__cur_writer = w->owner_id;
		gr_wake_waiter(w, 0);
	}
}

int gr_rwlock_unlock(pthread_rwlock_t *rw)
{
	if (atomic_way(rw))
		return gr_rwlock_unlock_shared(rw);
	if (write_held(rw)) {
		if (rw->__data.__cur_writer != gr_rt.cur->owner_id)
			return -EPERM;
		rw->__data.__readers = 0;
		rw->__data.__cur_writer = 0;
		hand_over(rw);
		return 0;
	}
	if (readers(rw) == 0)
		return -EPERM; /* not locked (POSIX: undefined; glibc: corrupts) */
	rw->__data.__readers -= ONE_READER;
	if (readers(rw) == 0)
		hand_over(rw);
	return 0;
}
