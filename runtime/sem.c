/* Green unnamed and named semaphores, in glibc's sem_t layout (64-bit):
 * data holds the value in its low 32 bits and the number of waiters that
 * may sleep in the kernel in its high 32 bits; private is 0 (sem_init with
 * pshared 0) or FUTEX_PRIVATE_FLAG (pshared 1, and sem_open's). So sem_init,
 * sem_getvalue and a value set before the runtime started stay glibc's.
 *
 * Three ways (foreign.h): a private semaphore no foreign OS thread may
 * touch uses plain loads and stores, and a post with waiters hands the unit
 * straight to the first (wait.c's order); once foreign threads may, the value changes
 * atomically, a post with no green waiter wakes a kernel waiter if the
 * waiter count says there may be one (glibc's sem_post), and green waiters
 * stay green (a foreign post tells the loop). A process-shared one follows
 * glibc's sem_wait too: its green waiters count themselves in the waiter
 * count and wait in the kernel as well (kwait.h), so a post from anywhere
 * wakes them. A post to a green waiter of our own is a hand-over in every
 * way: the unit never shows in the value, so no other thread or process
 * can take it in between. */
#include <limits.h>
#include <linux/futex.h>
#include <stdint.h>

#include "foreign.h"
#include "kwait.h"
#include "lock.h"
#include "wait.h"

#define VALUE(s)   (*(uint32_t *)(s)) /* little-endian low half of data */
#define DATA(s)	   ((uint64_t *)(s))
#define PRIVATE(s) (((const int *)(s))[2])
#define ONE_WAITER ((uint64_t)1 << 32)
#define WAITERS(d) ((uint32_t)((d) >> 32))
/* glibc's private field is the futex flag to clear: 0 for a private
 * semaphore, FUTEX_PRIVATE_FLAG for a shared one (sem_open's too). */
#define SEM_SHARED(s) (PRIVATE(s) != 0)

/* A handler ran in a wait: an untimed one restarts if every handler had
 * SA_RESTART (the kernel restarts the futex wait), else EINTR. */
static int restarts(int r, const struct gr_timeout *to)
{
	return r == GR_RECHECK || (r == -EINTR && !to->abs && gr_rt.cur->sig_restart);
}

/* Takes a unit if there is one: 1, else 0. */
static int take(sem_t *s)
{
	uint64_t d = __atomic_load_n(DATA(s), __ATOMIC_RELAXED);

	while ((uint32_t)d > 0)
		if (__atomic_compare_exchange_n(DATA(s), &d, d - 1, 1, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return 1;
	return 0;
}

/* A private semaphore while foreign threads may touch it: green waiters
 * wait on the green queue, counted in gr_foreign_parked. */
static int wait_atomic(sem_t *s, const struct gr_timeout *to)
{
	int64_t deadline;
	int r;

	for (;;) {
		if (take(s))
			return 0;
		r = gr_timeout_deadline(to, &deadline);
		if (r == -EBUSY)
			return -EAGAIN;
		if (r < 0)
			return r;
		__atomic_fetch_add(&gr_foreign_parked, 1, __ATOMIC_SEQ_CST);
		if (VALUE(s) > 0) {
			__atomic_fetch_sub(&gr_foreign_parked, 1, __ATOMIC_RELAXED);
			continue;
		}
		r = gr_wait_addr(s, GR_BITSET_ANY, GR_WAIT_SEM, s, deadline);
		__atomic_fetch_sub(&gr_foreign_parked, 1, __ATOMIC_RELAXED);
		if (r == 0)
			return 0; /* handed over */
		if (!restarts(r, to))
			return r;
	}
}

/* A process-shared semaphore: glibc's sem_wait, waiting in the kernel too. */
static int wait_shared(sem_t *s, const struct gr_timeout *to)
{
	int64_t deadline;
	int r;

	if (take(s))
		return 0;
	r = gr_timeout_deadline(to, &deadline);
	if (r == -EBUSY)
		return -EAGAIN;
	if (r < 0)
		return r;
	uint64_t d = __atomic_fetch_add(DATA(s), ONE_WAITER, __ATOMIC_RELAXED) + ONE_WAITER;
	for (;;) {
		if ((uint32_t)d > 0) {
			if (__atomic_compare_exchange_n(DATA(s), &d, d - 1 - ONE_WAITER, 1,
							__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
				return 0;
			continue;
		}
		r = gr_kwait(&VALUE(s), 0, 1, s, GR_BITSET_ANY, GR_WAIT_SEM, s, deadline);
		if (r == 0)
			break; /* handed over by a green post of ours */
		if (r != -EAGAIN && !restarts(r, to))
			break;
		d = __atomic_load_n(DATA(s), __ATOMIC_RELAXED);
	}
	__atomic_fetch_sub(DATA(s), ONE_WAITER, __ATOMIC_RELAXED);
	return r;
}

int gr_sem_wait(sem_t *s, const struct gr_timeout *to)
{
	int64_t deadline;
	int r;

	for (;;) {
		if (__builtin_expect(PRIVATE(s) | gr_foreign, 0))
			return SEM_SHARED(s) ? wait_shared(s, to) : wait_atomic(s, to);
		if (VALUE(s) > 0) {
			VALUE(s)--;
			return 0;
		}
		r = gr_timeout_deadline(to, &deadline);
		if (r == -EBUSY)
			return -EAGAIN;
		if (r < 0)
			return r;
		r = gr_wait_addr(s, GR_BITSET_ANY, GR_WAIT_SEM, s, deadline);
		if (!restarts(r, to))
			return r;
	}
}

static int post_atomic(sem_t *s)
{
	uint64_t d = __atomic_load_n(DATA(s), __ATOMIC_RELAXED);
	int more;

	if (gr_wake_first(s, 0, &more))
		return 0;
	do {
		if ((uint32_t)d >= SEM_VALUE_MAX)
			return -EOVERFLOW;
	} while (!__atomic_compare_exchange_n(DATA(s), &d, d + 1, 1, __ATOMIC_RELEASE,
					      __ATOMIC_RELAXED));
	if (WAITERS(d))
		gr_futex_wake(&VALUE(s), 1, SEM_SHARED(s));
	return 0;
}

int gr_sem_post(sem_t *s)
{
	int more;

	if (__builtin_expect(PRIVATE(s) | gr_foreign, 0))
		return post_atomic(s);
	if (gr_wake_first(s, 0, &more))
		return 0;
	if (VALUE(s) >= SEM_VALUE_MAX)
		return -EOVERFLOW;
	VALUE(s)++;
	return 0;
}
