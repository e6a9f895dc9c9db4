/* Hazard: programs that lock with raw futex calls, as Rust's std and many
 * runtimes do, bypass every pthread function: syscall(SYS_futex, ...) must
 * itself park the green thread (a real FUTEX_WAIT would block the one OS
 * thread while the holder can never run to wake it).  Three locks in the
 * style of Drepper's "Futexes Are Tricky" mutex (0 free, 1 locked, 2 locked
 * with waiters), one per flavour:
 *   FUTEX_WAIT_PRIVATE / FUTEX_WAKE_PRIVATE,
 *   FUTEX_WAIT / FUTEX_WAKE (process-shared),
 *   FUTEX_WAIT_BITSET_PRIVATE / FUTEX_WAKE_BITSET_PRIVATE (bitset 1, as Rust
 *     does, with an absolute MONOTONIC deadline far away);
 * each protects a counter that 8 threads increment 300 times, yielding
 * between read and write every other time.  Main waits for the workers with a raw futex too
 * (a count of running workers it FUTEX_WAITs on) before joining them. */
#define _GNU_SOURCE
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

#define THREADS 8
#define ROUNDS 300

enum flavour { PRIVATE, SHARED, BITSET, FLAVOURS };
static const char *const flavour_name[] = { "WAIT/WAKE_PRIVATE", "WAIT/WAKE (shared)",
					    "WAIT/WAKE_BITSET_PRIVATE" };

struct futex_lock {
	atomic_uint word;
	long counter;
	atomic_int inside, overlap;
	atomic_long waits;        /* FUTEX_WAIT calls made (stderr only) */
	atomic_int wait_errors;   /* a wait failed with something else than EAGAIN/EINTR */
};

static struct futex_lock locks[FLAVOURS];

static long sys_futex(atomic_uint *addr, int op, unsigned val, const struct timespec *ts,
		      unsigned bits)
{
	return syscall(SYS_futex, (unsigned *)addr, op, val, ts, NULL, bits);
}

static void futex_wait(struct futex_lock *l, enum flavour f, unsigned val)
{
	struct timespec far;
	long rc;

	atomic_fetch_add(&l->waits, 1);
	switch (f) {
	case PRIVATE:
		rc = sys_futex(&l->word, FUTEX_WAIT_PRIVATE, val, NULL, 0);
		break;
	case SHARED:
		rc = sys_futex(&l->word, FUTEX_WAIT, val, NULL, 0);
		break;
	default:
		far = deadline_in(CLOCK_MONOTONIC, MS(15000));
		rc = sys_futex(&l->word, FUTEX_WAIT_BITSET_PRIVATE, val, &far, 1);
	}
	if (rc != 0 && errno != EAGAIN && errno != EINTR)
		atomic_fetch_add(&l->wait_errors, 1);
}

static void futex_wake_one(struct futex_lock *l, enum flavour f)
{
	switch (f) {
	case PRIVATE:
		sys_futex(&l->word, FUTEX_WAKE_PRIVATE, 1, NULL, 0);
		break;
	case SHARED:
		sys_futex(&l->word, FUTEX_WAKE, 1, NULL, 0);
		break;
	default:
		sys_futex(&l->word, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, 1);
	}
}

static void lock(struct futex_lock *l, enum flavour f)
{
	unsigned c = 0;

	if (atomic_compare_exchange_strong(&l->word, &c, 1))
		return;
	if (c != 2)
		c = atomic_exchange(&l->word, 2);
	while (c != 0) {
		futex_wait(l, f, 2);
		c = atomic_exchange(&l->word, 2);
	}
}

static void unlock(struct futex_lock *l, enum flavour f)
{
	if (atomic_fetch_sub(&l->word, 1) != 1) {
		atomic_store(&l->word, 0);
		futex_wake_one(l, f);
	}
}

static atomic_uint running = THREADS;

static void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < ROUNDS; i++)
		for (int f = 0; f < FLAVOURS; f++) {
			struct futex_lock *l = &locks[f];

			lock(l, f);
			if (atomic_fetch_add(&l->inside, 1) != 0)
				atomic_fetch_add(&l->overlap, 1);
			long v = l->counter;
			if (i % 2 == 0)
				sched_yield();
			l->counter = v + 1;
			atomic_fetch_sub(&l->inside, 1);
			unlock(l, f);
		}
	if (atomic_fetch_sub(&running, 1) == 1)
		sys_futex(&running, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, 0);
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS];
	unsigned r;
	int64_t t0;

	alarm(20);
	for (int i = 0; i < THREADS; i++)
		MUST(pthread_create(&t[i], NULL, worker, NULL));
	t0 = mono_ns();
	while ((r = atomic_load(&running)) != 0 && mono_ns() - t0 < MS(15000))
		sys_futex(&running, FUTEX_WAIT_PRIVATE, r, NULL, 0);
	CHECK(atomic_load(&running) == 0, "main's futex wait saw every worker finish");
	for (int i = 0; i < THREADS; i++)
		MUST(pthread_join(t[i], NULL));

	for (int f = 0; f < FLAVOURS; f++) {
		struct futex_lock *l = &locks[f];

		CHECK(l->counter == THREADS * ROUNDS, "%s: counter %ld", flavour_name[f], l->counter);
		CHECK(atomic_load(&l->overlap) == 0, "%s: never two threads inside", flavour_name[f]);
		CHECK(atomic_load(&l->wait_errors) == 0, "%s: no wait failed", flavour_name[f]);
		CHECK(atomic_load(&l->word) == 0, "%s: lock word free at the end", flavour_name[f]);
		fprintf(stderr, "%s: %ld waits\n", flavour_name[f], atomic_load(&l->waits));
	}
	return check_done();
}
