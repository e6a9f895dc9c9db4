/* Hazard: pthread_getaffinity_np and pthread_setaffinity_np take any
 * thread's handle: another thread's and one's own give the process's CPUs,
 * setting one's own to that same set succeeds, and a buffer smaller than
 * the kernel's mask gives EINVAL, as glibc passes the kernel's answer on;
 * pthread_getschedparam of a running thread and of main report SCHED_OTHER
 * 0, which pthread_setschedprio(0) keeps. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>

#include "check.h"

static pthread_barrier_t b;

static void *wait_twice(void *arg)
{
	pthread_barrier_wait(&b);
	pthread_barrier_wait(&b);
	return arg;
}

int main(void)
{
	cpu_set_t all, set;
	pthread_t t;
	struct sched_param sp;
	int policy;

	MUST(sched_getaffinity(0, sizeof(all), &all));
	MUST(pthread_barrier_init(&b, NULL, 2));
	MUST(pthread_create(&t, NULL, wait_twice, NULL));
	pthread_barrier_wait(&b);
	CPU_ZERO(&set);
	CHECK_ERR(pthread_getaffinity_np(t, sizeof(set), &set), 0, "getaffinity of another thread");
	CHECK(CPU_EQUAL(&set, &all), "it has the process's CPUs");
	CPU_ZERO(&set);
	CHECK_ERR(pthread_getaffinity_np(pthread_self(), sizeof(set), &set), 0, "getaffinity of main");
	CHECK(CPU_EQUAL(&set, &all), "main has them too");
	CHECK_ERR(pthread_setaffinity_np(pthread_self(), sizeof(all), &all), 0,
		  "setaffinity of main to the same CPUs");
	CHECK_ERR(pthread_getaffinity_np(t, 1, &set), EINVAL, "getaffinity into 1 byte");
	CHECK_ERR(pthread_getschedparam(t, &policy, &sp), 0, "getschedparam of another thread");
	CHECK(policy == SCHED_OTHER && sp.sched_priority == 0, "SCHED_OTHER 0");
	CHECK_ERR(pthread_setschedprio(t, 0), 0, "setschedprio 0 keeps it");
	CHECK_ERR(pthread_getschedparam(pthread_self(), &policy, &sp), 0, "getschedparam of main");
	CHECK(policy == SCHED_OTHER && sp.sched_priority == 0, "main is SCHED_OTHER 0");
	pthread_barrier_wait(&b);
	MUST(pthread_join(t, NULL));
	return check_done();
}
