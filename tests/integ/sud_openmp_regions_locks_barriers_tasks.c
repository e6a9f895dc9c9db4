/* Hazard: GNU libgomp, GCC's OpenMP runtime, waits with its own futex
 * system calls (an inline syscall instruction on x86_64), after spinning
 * GOMP_SPINCOUNT times: its team and pool barriers, omp critical,
 * omp_set_lock, task waits and ordered sections. Each wait must park only
 * its green thread, or the program hangs in its first region that waits
 * (gettext's msgmerge did). Real libgomp, 4 threads, spinning as natively
 * (GOMP_SPINCOUNT=300000, its native default, set for the preloaded runs:
 * unset, greenify makes libgomp passive):
 *   every region has 4 threads; a reduction over 1,000,000 numbers and 500
 *   regions with a dynamic schedule sum as a formula says; 64 phases of
 *   omp critical then omp barrier, after which every thread sees every
 *   increment; an omp lock held across a 2 ms sleep (the others wait in
 *   libgomp) counts every take; fib(24) with a task per call above 12 and
 *   taskwait; an ordered loop appends its iterations in order.
 * libgomp keeps each thread's place in its team in a __thread variable,
 * which GREENIFY_TLS=shared gives every thread at once (all of them then
 * wait as one member): not run in that mode. */
/* cflags: -fopenmp */
/* needs: private-tls */
/* env-preload: GOMP_SPINCOUNT=300000 */
#define _GNU_SOURCE
#include <omp.h>
#include <unistd.h>

#include "check.h"

enum { THREADS = 4, PHASES = 64, LOCKS = 20 };

static long fib(int n)
{
	long a, b;

	if (n < 2)
		return n;
#pragma omp task shared(a) if (n > 12)
	a = fib(n - 1);
#pragma omp task shared(b) if (n > 12)
	b = fib(n - 2);
#pragma omp taskwait
	return a + b;
}

int main(void)
{
	long sum = 0, dyn = 0, want_dyn = 0, crit = 0, f = 0, locked = 0;
	int team = 0, stale = 0, order_ok = 1, next = 0;
	omp_lock_t lock;

	alarm(20);
	omp_set_num_threads(THREADS);
#pragma omp parallel
	{
#pragma omp single
		team = omp_get_num_threads();
	}
	CHECK(team == THREADS, "a region has %d threads", THREADS);

#pragma omp parallel for reduction(+ : sum)
	for (long i = 0; i < 1000000; i++)
		sum += i;
	CHECK(sum == 1000000L * 999999 / 2, "the reduction over 1,000,000 numbers is exact");

	for (int r = 0; r < 500; r++) {
#pragma omp parallel for reduction(+ : dyn) schedule(dynamic, 7)
		for (long i = 0; i < 100; i++)
			dyn += i ^ r;
		for (long i = 0; i < 100; i++)
			want_dyn += i ^ r;
	}
	CHECK(dyn == want_dyn, "500 regions with a dynamic schedule sum right");

#pragma omp parallel reduction(+ : stale)
	for (int p = 0; p < PHASES; p++) {
#pragma omp critical
		crit++;
#pragma omp barrier
		long seen;
#pragma omp atomic read
		seen = crit;
		if (seen != (long)THREADS * (p + 1))
			stale++;
#pragma omp barrier
	}
	CHECK(crit == (long)THREADS * PHASES && stale == 0,
	      "%d phases of critical and barrier: every thread saw every increment", PHASES);

	omp_init_lock(&lock);
#pragma omp parallel for schedule(static, 1)
	for (int i = 0; i < LOCKS; i++) {
		omp_set_lock(&lock);
		long v = locked;
		usleep(2000); /* the others wait for the lock in libgomp */
		locked = v + 1;
		omp_unset_lock(&lock);
	}
	omp_destroy_lock(&lock);
	CHECK(locked == LOCKS, "an omp lock held across a sleep counted %d takes", LOCKS);

#pragma omp parallel
#pragma omp single
	f = fib(24);
	CHECK(f == 46368, "fib(24) with tasks and taskwait");

#pragma omp parallel for ordered schedule(static, 1)
	for (int i = 0; i < 200; i++) {
#pragma omp ordered
		{
			if (next != i)
				order_ok = 0;
			next++;
		}
	}
	CHECK(order_ok && next == 200, "an ordered loop ran its 200 iterations in order");
	return check_done();
}
