/* With preemption on (the default), a thread that computes inside a
 * callback of libc (a qsort comparator: libc's frames below it hold no
 * lock, but preemption does not switch inside libc's frames) is not
 * preempted, and so blocks every other thread: the monitor reports it as
 * any stall, computing, with the comparator and the program's frames that
 * called qsort. A thread that computes in its own code is preempted and
 * reported by no line. Natively nothing is reported; the sorted output is
 * the same. */
/* env-preload: GREENIFY_MONITOR=50 */
/* expect-stderr-preload: ms computing in spin_turns ← slow_cmp ← */
/* expect-stderr-preload: ← sorter */
/* expect-stderr-preload-not: plain_spin */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "check.h"

static struct ticker tick;

static unsigned long per_ms; /* spin_turns per ms of CPU time */

/* The first comparison computes 200 ms of CPU time (calling nothing), the
 * rest nothing. */
static int slow_cmp(const void *a, const void *b)
{
	static int first = 1;

	if (first) {
		first = 0;
		spin_turns(200 * per_ms);
	}
	return *(const int *)a - *(const int *)b;
}

static int v[64];

static void *sorter(void *arg)
{
	(void)arg;
	for (int i = 0; i < 64; i++)
		v[i] = (i * 37) % 64;
	qsort(v, 64, sizeof(v[0]), slow_cmp);
	__asm__ volatile("" ::: "memory");
	return NULL;
}

__attribute__((noinline)) static void plain_spin(void)
{
	spin_turns(200 * per_ms);
	__asm__ volatile("" ::: "memory");
}

static void *spinner(void *arg)
{
	(void)arg;
	plain_spin();
	__asm__ volatile("" ::: "memory");
	return NULL;
}

int main(void)
{
	int sorted = 1;

	per_ms = spin_turns_per_ms();
	tick_start(&tick, 5);
	run_thread(spinner, NULL);
	run_thread(sorter, NULL);
	for (int i = 0; i < 64; i++)
		sorted &= v[i] == i;
	CHECK(sorted, "qsort sorted with the slow comparator");
	tick_stop(&tick);
	return check_done();
}
