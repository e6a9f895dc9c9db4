/* Hazard: glibc's sched_getcpu reads the CPU from the calling thread's
 * rseq area, which the kernel keeps up to date only in the area it was
 * given: the OS thread's. A green thread's own block has an area nobody
 * updates; read as is, every green thread would be on CPU 0.
 *   The process pins itself to its highest allowed CPU (not 0 when it
 *   has two or more); 8 threads, each sleeping between three calls, and
 *   main all get that CPU from sched_getcpu, and getcpu agrees. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>

#include "check.h"

enum { THREADS = 8 };

static int cpu, wrong;

static void *worker(void *arg)
{
	(void)arg;
	for (int r = 0; r < 3; r++) {
		unsigned c = 0;
		if (sched_getcpu() != cpu || getcpu(&c, NULL) != 0 || (int)c != cpu)
			wrong++;
		sleep_ms(1);
	}
	return NULL;
}

int main(void)
{
	cpu_set_t set, one;
	pthread_t t[THREADS];

	MUST(sched_getaffinity(0, sizeof set, &set) == 0 ? 0 : -1);
	cpu = -1;
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &set))
			cpu = i;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	MUST(sched_setaffinity(0, sizeof one, &one) == 0 ? 0 : -1);
	for (int i = 0; i < THREADS; i++)
		MUST(pthread_create(&t[i], NULL, worker, NULL));
	for (int i = 0; i < THREADS; i++)
		MUST(pthread_join(t[i], NULL));
	CHECK(sched_getcpu() == cpu, "main is on the CPU it pinned itself to");
	CHECK(wrong == 0, "every thread's sched_getcpu and getcpu say that CPU (%d calls did not)",
	      wrong);
	return check_done();
}
