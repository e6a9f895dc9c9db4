/* Hazard: libgomp (GCC's OpenMP runtime) on x86_64 makes its futex calls
 * with an inline syscall instruction (config/linux/x86/futex.h), which no
 * hook sees: its locks (omp critical, omp_set_lock, the team's and the
 * pool's barriers, task waits) spin GOMP_SPINCOUNT times, then FUTEX_WAIT
 * in the kernel. Under the preload that blocks the one OS thread, and the
 * thread that would wake the word can never run: an OpenMP program hangs
 * in its first parallel region that has to wait (a worker docking at the
 * pool's barrier), with no CPU used.
 *   The same in a few lines: a lock of libgomp's shape (0 free, 1 held,
 * 2 held with waiters; spin, then FUTEX_WAIT_PRIVATE on 2; an unlock that
 * saw 2 does FUTEX_WAKE_PRIVATE 1) held by a thread that sleeps 20 ms
 * inside it while 3 others want it, 50 rounds each, and a barrier of
 * libgomp's shape (a generation word; the last arrival bumps it and wakes
 * INT_MAX, the others FUTEX_WAIT on the old generation) between rounds.
 * Every round's increments are all there and every thread passes every
 * barrier. Not enabled: it hangs under the preload until its alarm
 * (README of this directory; runs as one of tests/integ/ once copied there). */
#define _GNU_SOURCE
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

enum { THREADS = 4, ROUNDS = 50, SPIN = 100 };

static long raw_futex(int *addr, int op, int val)
{
#if defined(__x86_64__)
	long r;
	register long r10 __asm__("r10") = 0;
	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "0"((long)SYS_futex), "D"(addr), "S"((long)op), "d"((long)val), "r"(r10)
			 : "rcx", "r11", "memory");
	return r;
#else
	return syscall(SYS_futex, addr, op, val, NULL); /* aarch64's libgomp does this */
#endif
}

static int lock_word, gen_word, arrived;
static long counter;

static void lock(void)
{
	int old = 0;

	if (__atomic_compare_exchange_n(&lock_word, &old, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return;
	for (;;) {
		for (int i = 0; i < SPIN && __atomic_load_n(&lock_word, __ATOMIC_RELAXED); i++)
			__builtin_ia32_pause();
		if (__atomic_exchange_n(&lock_word, 2, __ATOMIC_ACQUIRE) == 0)
			return;
		raw_futex(&lock_word, FUTEX_WAIT_PRIVATE, 2);
	}
}

static void unlock(void)
{
	if (__atomic_exchange_n(&lock_word, 0, __ATOMIC_RELEASE) == 2)
		raw_futex(&lock_word, FUTEX_WAKE_PRIVATE, 1);
}

static void barrier(void)
{
	int gen = __atomic_load_n(&gen_word, __ATOMIC_ACQUIRE);

	if (__atomic_add_fetch(&arrived, 1, __ATOMIC_ACQ_REL) == THREADS) {
		__atomic_store_n(&arrived, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&gen_word, gen + 1, __ATOMIC_RELEASE);
		raw_futex(&gen_word, FUTEX_WAKE_PRIVATE, INT_MAX);
		return;
	}
	while (__atomic_load_n(&gen_word, __ATOMIC_ACQUIRE) == gen) {
		for (int i = 0; i < SPIN && __atomic_load_n(&gen_word, __ATOMIC_RELAXED) == gen;
		     i++)
			__builtin_ia32_pause();
		raw_futex(&gen_word, FUTEX_WAIT_PRIVATE, gen);
	}
}

static atomic_int short_round;

static void *worker(void *arg)
{
	int me = (int)(intptr_t)arg;

	for (int r = 0; r < ROUNDS; r++) {
		lock();
		if (me == r % THREADS)
			sleep_ms(r < 3 ? 20 : 1); /* inside the lock: the others wait */
		counter++;
		unlock();
		barrier();
		if (__atomic_load_n(&counter, __ATOMIC_RELAXED) != (long)(r + 1) * THREADS)
			atomic_fetch_add(&short_round, 1);
		barrier();
	}
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS];

	alarm(20);
	for (int i = 0; i < THREADS; i++)
		MUST(pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i));
	for (int i = 0; i < THREADS; i++)
		MUST(pthread_join(t[i], NULL));
	CHECK(counter == (long)ROUNDS * THREADS, "every increment under the lock is there");
	CHECK(atomic_load(&short_round) == 0,
	      "every round's increments were in before its barrier");
	return check_done();
}
