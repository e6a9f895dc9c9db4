/* Hazard: the kernel decides who may use a real-time policy, and glibc
 * passes its answer on. Without CAP_SYS_NICE (dropped here) and with
 * RLIMIT_RTPRIO 0, pthread_create with PTHREAD_EXPLICIT_SCHED and
 * SCHED_FIFO gives EPERM, as do pthread_setschedparam and
 * sched_setscheduler of a thread's id; with RLIMIT_RTPRIO 20, FIFO 10 is
 * allowed and 30 is not. Bad values give EINVAL: an unknown policy, a
 * priority for SCHED_OTHER, priority 0 for SCHED_FIFO. A thread's policy is
 * its own: setting one thread's leaves the others' as they were. */
#define _GNU_SOURCE
#include <linux/capability.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

static void drop_sys_nice(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];

	MUST((int)syscall(SYS_capget, &h, d));
	d[CAP_SYS_NICE / 32].effective &= ~(1u << (CAP_SYS_NICE % 32));
	MUST((int)syscall(SYS_capset, &h, d));
}

static void *idle(void *arg)
{
	sleep_ms(30);
	return arg;
}

static int create_fifo(int prio)
{
	pthread_attr_t a;
	struct sched_param sp = {.sched_priority = prio};
	pthread_t t;
	int err;

	MUST(pthread_attr_init(&a));
	MUST(pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED));
	MUST(pthread_attr_setschedpolicy(&a, SCHED_FIFO));
	MUST(pthread_attr_setschedparam(&a, &sp));
	err = pthread_create(&t, &a, idle, NULL);
	if (err == 0)
		MUST(pthread_join(t, NULL));
	pthread_attr_destroy(&a);
	return err;
}

/* The soft limit n, under a hard limit of at least 20 while that can
 * still be raised (CAP_SYS_RESOURCE); 0 or -1. */
static int set_rtprio(rlim_t n)
{
	struct rlimit rl;

	MUST(getrlimit(RLIMIT_RTPRIO, &rl));
	rl.rlim_cur = n;
	if (rl.rlim_max < 20)
		rl.rlim_max = 20;
	return setrlimit(RLIMIT_RTPRIO, &rl);
}

static pid_t other_tid;
static pthread_barrier_t b;

static void *other(void *arg)
{
	other_tid = gettid();
	pthread_barrier_wait(&b);
	pthread_barrier_wait(&b);
	return arg;
}

int main(void)
{
	struct sched_param sp = {.sched_priority = 10};
	pthread_t t;
	int policy;

	int can_raise = set_rtprio(0) == 0;
	drop_sys_nice();
	CHECK_ERR(create_fifo(10), EPERM, "explicit SCHED_FIFO 10, no privilege");
	CHECK_ERR(pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp), EPERM,
		  "setschedparam SCHED_FIFO, no privilege");

	MUST(pthread_barrier_init(&b, NULL, 2));
	MUST(pthread_create(&t, NULL, other, NULL));
	pthread_barrier_wait(&b);
	CHECK_ERR(sched_setscheduler(other_tid, SCHED_RR, &sp) < 0 ? errno : 0, EPERM,
		  "sched_setscheduler of another thread's id, no privilege");
	sp.sched_priority = 0;
	CHECK_ERR(sched_setscheduler(other_tid, SCHED_BATCH, &sp) < 0 ? errno : 0, 0,
		  "sched_setscheduler SCHED_BATCH of its id");
	CHECK(sched_getscheduler(other_tid) == SCHED_BATCH, "its policy is SCHED_BATCH");
	CHECK(sched_getscheduler(0) == SCHED_OTHER, "main's is still SCHED_OTHER");
	MUST(pthread_getschedparam(t, &policy, &sp));
	CHECK(policy == SCHED_BATCH, "pthread_getschedparam agrees");
	pthread_barrier_wait(&b);
	MUST(pthread_join(t, NULL));

	if (can_raise && set_rtprio(20) == 0) {
		CHECK_ERR(create_fifo(10), 0, "RLIMIT_RTPRIO 20: SCHED_FIFO 10");
		CHECK_ERR(create_fifo(30), EPERM, "RLIMIT_RTPRIO 20: SCHED_FIFO 30");
	} else {
		printf("RLIMIT_RTPRIO cannot be raised here: its checks not run\n");
	}

	sp.sched_priority = 0;
	CHECK_ERR(pthread_setschedparam(pthread_self(), 12345, &sp), EINVAL, "an unknown policy");
	sp.sched_priority = 5;
	CHECK_ERR(pthread_setschedparam(pthread_self(), SCHED_OTHER, &sp), EINVAL,
		  "SCHED_OTHER with priority 5");
	sp.sched_priority = 0;
	CHECK_ERR(pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp), EINVAL,
		  "SCHED_FIFO with priority 0");
	CHECK_ERR(pthread_setschedprio(pthread_self(), 3), EINVAL, "setschedprio 3 for SCHED_OTHER");
	return check_done();
}
