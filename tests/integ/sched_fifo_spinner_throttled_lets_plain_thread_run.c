/* Hazard: a SCHED_FIFO thread that spins while the thread it waits for has
 * the plain policy would keep the one OS thread for ever: it outranks the
 * other, and sched_yield gives way only to its equals. Natively the
 * kernel's real-time throttling (sched_rt_runtime_us of every
 * sched_rt_period_us, 950 ms of 1 s by default) lets plain threads run for
 * the rest of each period, so the program gets on even on one CPU:
 * stress-ng's mutex stressor, whose threads make themselves SCHED_FIFO and
 * sched_yield in a loop, stops only when its SCHED_OTHER main takes the
 * signal that ends the run.
 *   Main (on one CPU) makes a thread that becomes SCHED_FIFO 1 and spins on
 * sched_yield until main has set a flag, then one that spins without any
 * call; each sees the flag, and main joins both. Needs the privilege for
 * real-time policies and the kernel's throttling: without either both runs
 * say so. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

#include "check.h"

static atomic_int go, main_ran, fifo_err = -1;
static volatile int flag;

static void *spinner(void *arg)
{
	struct sched_param sp = {.sched_priority = 1};
	int yields = (int)(intptr_t)arg;

	atomic_store(&fifo_err, pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp));
	atomic_store(&go, 1);
	if (atomic_load(&fifo_err) != 0)
		return NULL;
	if (yields) {
		while (!atomic_load(&main_ran))
			sched_yield();
	} else {
		while (!flag)
			; /* no call at all */
	}
	return (void *)1;
}

static int run(int yields)
{
	pthread_t t;
	void *saw;

	atomic_store(&go, 0);
	atomic_store(&main_ran, 0);
	flag = 0;
	MUST(pthread_create(&t, NULL, spinner, (void *)(intptr_t)yields));
	while (!atomic_load(&go))
		sched_yield(); /* until it is SCHED_FIFO (or could not be) */
	atomic_store(&main_ran, 1);
	flag = 1;
	MUST(pthread_join(t, &saw));
	return saw != NULL;
}

int main(void)
{
	cpu_set_t one;
	FILE *f = fopen("/proc/sys/kernel/sched_rt_runtime_us", "r");
	long runtime = -1;

	alarm(20);
	if (f) {
		if (fscanf(f, "%ld", &runtime) != 1)
			runtime = -1;
		fclose(f);
	}
	if (runtime < 0) {
		printf("no real-time throttling here\n");
		return check_done();
	}
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	MUST(sched_setaffinity(0, sizeof(one), &one));
	int saw = run(1);
	if (atomic_load(&fifo_err) == EPERM) {
		printf("no privilege for SCHED_FIFO: EPERM\n");
		return check_done();
	}
	CHECK_ERR(atomic_load(&fifo_err), 0, "the thread becomes SCHED_FIFO 1");
	CHECK(saw, "spinning on sched_yield, it saw main's flag");
	CHECK(run(0), "spinning without a call, it saw main's flag");
	return check_done();
}
