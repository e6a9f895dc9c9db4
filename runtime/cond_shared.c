/* Process-shared condition variables: glibc's algorithm on glibc's words,
 * so that a waiter or signaller in another process (greenified or not) and
 * ours see one condition. In short (glibc's pthread_cond_wait.c has it at
 * length): waiters take a position in __wseq (its low bit names the group
 * slot G2); a signal puts a unit into __g_signals of the group G1 (and when
 * G1 is used up, waits until no waiter holds a reference to it, __g_refs,
 * then turns G2 into the new G1); waiters sleep on their group's
 * __g_signals word while holding a reference; __g1_orig_size's low bits are
 * a small lock of the signallers'; __wrefs counts waiters for
 * pthread_cond_destroy.
 *
 * Every wait of glibc's algorithm becomes a green wait that is also a
 * kernel wait (kwait.h): on __g_signals, on __g_refs, on the small lock and
 * on __wrefs, each keyed by the word's address, so that a green waker of
 * ours wakes green waiters directly (a signal that finds a green waiter of
 * its group wakes it instead of a kernel one: it takes the unit just put
 * there, or someone else did). A green signaller waiting for a green
 * waiter to drop its group reference therefore lets that waiter run. */
#include <limits.h>
#include <stdint.h>

#include "kwait.h"
#include "lock.h"
#include "wait.h"

#define SHARED_MASK    1u
#define MAX_GROUP_SIZE (1u << 29)

#define D(c) (&(c)->__data)

static int is_shared(pthread_cond_t *c)
{
	return (__atomic_load_n(&D(c)->__wrefs, __ATOMIC_RELAXED) & SHARED_MASK) != 0;
}

static uint64_t g1_start(pthread_cond_t *c)
{
	return __atomic_load_n(&D(c)->__g1_start.__value64, __ATOMIC_RELAXED);
}

/* A wait on word, expected to hold val: green and kernel. */
static int wait_word(pthread_cond_t *c, unsigned *word, unsigned val, int64_t deadline)
{
	return gr_kwait(word, val, is_shared(c), word, GR_BITSET_ANY, GR_WAIT_COND, c, deadline);
}

/* Wakes n waiters of word: green ones of ours first, the rest in the
 * kernel. */
static void wake_word(pthread_cond_t *c, unsigned *word, int n)
{
	int woken = gr_wake_addr(word, n, GR_BITSET_ANY);

	if (woken < n)
		gr_futex_wake(word, n == GR_WAKE_ALL ? GR_WAKE_ALL : n - woken, is_shared(c));
}

static void lock_cond(pthread_cond_t *c)
{
	unsigned *w = &D(c)->__g1_orig_size;
	unsigned s = __atomic_load_n(w, __ATOMIC_RELAXED);

	while ((s & 3) == 0)
		if (__atomic_compare_exchange_n(w, &s, s | 1, 1, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return;
	for (;;) {
		while ((s & 3) != 2) {
			if (__atomic_compare_exchange_n(w, &s, (s & ~3u) | 2, 1, __ATOMIC_ACQUIRE,
							__ATOMIC_RELAXED)) {
				if ((s & 3) == 0)
					return;
				break;
			}
		}
		wait_word(c, w, (s & ~3u) | 2, 0);
		s = __atomic_load_n(w, __ATOMIC_RELAXED);
	}
}

static void unlock_cond(pthread_cond_t *c)
{
	unsigned *w = &D(c)->__g1_orig_size;

	if ((__atomic_fetch_and(w, ~3u, __ATOMIC_RELEASE) & 3) == 2)
		wake_word(c, w, 1);
}

static unsigned orig_size(pthread_cond_t *c)
{
	return __atomic_load_n(&D(c)->__g1_orig_size, __ATOMIC_RELAXED) >> 2;
}

static void set_orig_size(pthread_cond_t *c, unsigned size)
{
	unsigned *w = &D(c)->__g1_orig_size;
	unsigned s = (__atomic_load_n(w, __ATOMIC_RELAXED) & 3) | (size << 2);

	/* Only the lock bits can change meanwhile (1 to 2): keep that. */
	if ((__atomic_exchange_n(w, s, __ATOMIC_RELAXED) & 3) != (s & 3))
		__atomic_store_n(w, (size << 2) | 2, __ATOMIC_RELAXED);
}

static void confirm_wakeup(pthread_cond_t *c)
{
	/* The last waiter out wakes a pthread_cond_destroy waiting for it. */
	if ((__atomic_fetch_add(&D(c)->__wrefs, -8u, __ATOMIC_RELEASE) >> 2) == 3)
		wake_word(c, &D(c)->__wrefs, GR_WAKE_ALL);
}

static void dec_grefs(pthread_cond_t *c, unsigned g)
{
	unsigned *r = &D(c)->__g_refs[g];

	if (__atomic_fetch_add(r, -2u, __ATOMIC_RELEASE) == 3) {
		__atomic_fetch_and(r, ~1u, __ATOMIC_RELAXED);
		wake_word(c, r, GR_WAKE_ALL);
	}
}

static int signal_shared(pthread_cond_t *c, int all);

/* Stop waiting after a timeout or a cancel (glibc's
 * __condvar_cancel_waiting): shrink our group if we can, else pass on the
 * signal we took. */
static void cancel_waiting(pthread_cond_t *c, uint64_t seq, unsigned g)
{
	int consumed = 0;

	lock_cond(c);
	uint64_t start = g1_start(c) >> 1;
	if (start > seq) {
		consumed = 1;
	} else if (start + orig_size(c) <= seq) {
		if (D(c)->__g_size[g] + MAX_GROUP_SIZE > 0) {
			D(c)->__g_size[g]--;
		} else {
			unlock_cond(c);
			signal_shared(c, 1);
			return;
		}
	} else if (D(c)->__g_size[g] == 0) {
		consumed = 1;
	} else {
		D(c)->__g_size[g]--;
	}
	unlock_cond(c);
	if (consumed)
		signal_shared(c, 0);
}

/* Closes G1 once no waiter holds a reference to it and makes G2 the new G1
 * (glibc's __condvar_quiesce_and_switch_g1). Under the small lock. */
static int quiesce_and_switch(pthread_cond_t *c, uint64_t wseq, unsigned *g1index)
{
	unsigned g1 = *g1index;
	unsigned old_orig = orig_size(c);
	uint64_t old_start = g1_start(c) >> 1;

	if ((unsigned)(wseq - old_start - old_orig) + D(c)->__g_size[g1 ^ 1] == 0)
		return 0;
	__atomic_fetch_or(&D(c)->__g_signals[g1], 1, __ATOMIC_RELAXED);
	unsigned r = __atomic_fetch_or(&D(c)->__g_refs[g1], 0, __ATOMIC_RELEASE);
	while ((r >> 1) > 0) {
		r = __atomic_fetch_or(&D(c)->__g_refs[g1], 1, __ATOMIC_RELAXED) | 1;
		if ((r >> 1) > 0)
			wait_word(c, &D(c)->__g_refs[g1], r, 0);
		r = __atomic_load_n(&D(c)->__g_refs[g1], __ATOMIC_RELAXED);
	}
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	__atomic_fetch_add(&D(c)->__g1_start.__value64,
			   (uint64_t)(old_orig << 1) + (g1 == 1 ? 1 : (uint64_t)-1),
			   __ATOMIC_RELAXED);
	__atomic_store_n(&D(c)->__g_signals[g1], 0, __ATOMIC_RELEASE);
	wseq = __atomic_fetch_xor(&D(c)->__wseq.__value64, 1, __ATOMIC_RELEASE) >> 1;
	g1 ^= 1;
	*g1index = g1;
	unsigned size = (unsigned)(wseq - (old_start + old_orig));
	set_orig_size(c, size);
	D(c)->__g_size[g1] += size;
	return D(c)->__g_size[g1] != 0;
}

static int signal_shared(pthread_cond_t *c, int all)
{
	unsigned wrefs = __atomic_load_n(&D(c)->__wrefs, __ATOMIC_RELAXED);

	if (wrefs >> 3 == 0)
		return 0;
	lock_cond(c);
	uint64_t wseq = __atomic_load_n(&D(c)->__wseq.__value64, __ATOMIC_RELAXED);
	unsigned g1 = (unsigned)(wseq & 1) ^ 1;
	int wake = 0;
	wseq >>= 1;
	if (all) {
		if (D(c)->__g_size[g1] != 0) {
			__atomic_fetch_add(&D(c)->__g_signals[g1], D(c)->__g_size[g1] << 1,
					   __ATOMIC_RELAXED);
			D(c)->__g_size[g1] = 0;
			wake_word(c, &D(c)->__g_signals[g1], GR_WAKE_ALL);
		}
		if (quiesce_and_switch(c, wseq, &g1)) {
			__atomic_fetch_add(&D(c)->__g_signals[g1], D(c)->__g_size[g1] << 1,
					   __ATOMIC_RELAXED);
			D(c)->__g_size[g1] = 0;
			wake = 1;
		}
	} else if (D(c)->__g_size[g1] != 0 || quiesce_and_switch(c, wseq, &g1)) {
		__atomic_fetch_add(&D(c)->__g_signals[g1], 2, __ATOMIC_RELAXED);
		D(c)->__g_size[g1]--;
		wake = 1;
	}
	unlock_cond(c);
	if (wake)
		wake_word(c, &D(c)->__g_signals[g1], all ? GR_WAKE_ALL : 1);
	return 0;
}

int gr_cond_signal_shared(pthread_cond_t *c, int all)
{
	return signal_shared(c, all);
}

int gr_cond_wait_shared(pthread_cond_t *c, pthread_mutex_t *m, const struct gr_timeout *to)
{
	int64_t deadline = 0;
	int result = 0, err;
	uint64_t wseq = __atomic_fetch_add(&D(c)->__wseq.__value64, 2, __ATOMIC_ACQUIRE);
	unsigned g = (unsigned)(wseq & 1);
	uint64_t seq = wseq >> 1;

	__atomic_fetch_add(&D(c)->__wrefs, 8, __ATOMIC_RELAXED);
	err = gr_mutex_unlock(m);
	if (err < 0) {
		cancel_waiting(c, seq, g);
		confirm_wakeup(c);
		return err;
	}
	int timed = gr_timeout_deadline(to, &deadline);
	unsigned *sig = &D(c)->__g_signals[g];
	unsigned signals = __atomic_load_n(sig, __ATOMIC_ACQUIRE);
	do {
		for (;;) {
			if (signals & 1)
				goto done; /* our group is closed */
			if (signals != 0)
				break;
			__atomic_fetch_add(&D(c)->__g_refs[g], 2, __ATOMIC_ACQUIRE);
			if ((__atomic_load_n(sig, __ATOMIC_ACQUIRE) & 1) ||
			    seq < (g1_start(c) >> 1)) {
				dec_grefs(c, g);
				goto done;
			}
			err = timed == 0 ? wait_word(c, sig, 0, deadline) : timed;
			if (err == -ETIMEDOUT || err == -EINVAL ||
			    (err == -EINTR && gr_rt.cur->cancel_kicked)) {
				/* Timed out (or cancelled: the caller acts on
				 * it once the mutex is held again). */
				dec_grefs(c, g);
				cancel_waiting(c, seq, g);
				if (err == -EINTR)
					wake_word(c, sig, 1);
				result = err == -EINTR ? 0 : -ETIMEDOUT;
				goto done;
			}
			/* Woken, spuriously or not, or a handler ran: as glibc,
			 * look again. */
			dec_grefs(c, g);
			signals = __atomic_load_n(sig, __ATOMIC_ACQUIRE);
		}
	} while (!__atomic_compare_exchange_n(sig, &signals, signals - 2, 1, __ATOMIC_ACQUIRE,
					      __ATOMIC_RELAXED));
	/* We may have taken a signal from a more recent group that shares our
	 * slot: then give one back. */
	uint64_t start = g1_start(c);
	if (seq < (start >> 1) && ((start & 1) ^ 1) == g) {
		unsigned s = __atomic_load_n(sig, __ATOMIC_RELAXED);
		while (g1_start(c) == start) {
			if ((s & 1) ||
			    __atomic_compare_exchange_n(sig, &s, s + 2, 1, __ATOMIC_RELAXED,
							__ATOMIC_RELAXED)) {
				wake_word(c, sig, 1);
				break;
			}
		}
	}
done:
	confirm_wakeup(c);
	err = gr_mutex_lock(m, &GR_FOREVER);
	return err < 0 ? err : result;
}

int gr_cond_destroy_wait(pthread_cond_t *c)
{
	unsigned *w = &D(c)->__wrefs;
	unsigned wrefs = __atomic_fetch_or(w, 4, __ATOMIC_ACQUIRE);

	while (wrefs >> 3 != 0) {
		wait_word(c, w, wrefs, 0);
		wrefs = __atomic_load_n(w, __ATOMIC_ACQUIRE);
	}
	return 0;
}
