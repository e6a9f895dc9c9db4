/* GREENIFY_MONITOR names what blocked every thread. A ticker thread should
 * tick every 5 ms; three threads in turn keep the one OS thread from it:
 * two call nanosleep for 400 ms through syscall() (no hook sees it: under
 * the preload every thread waits), one computes for 300 ms of CPU time
 * with preemption off, in a loop that calls nothing. The monitor (100 ms) prints one line for the
 * system-call site, naming the call and the program's frames above it,
 * counts the second stall there instead of printing it again, prints one
 * line for the computing site, and the stats summary counts both sites.
 * The program's own output is the same natively, where the ticker ticks
 * throughout and nothing is reported. Built as Debian builds its packages
 * (-D_FORTIFY_SOURCE=2 -O2): the frames are still the program's. */
/* cflags: -D_FORTIFY_SOURCE=2 -O2 */
/* env-preload: GREENIFY_MONITOR=100 */
/* env-preload: GREENIFY_PREEMPT=off */
/* expect-stderr-preload-once: ms in nanosleep (raw syscall) ← stall_here ← sys_worker */
/* expect-stderr-preload: "sys-stall" blocked every thread for */
/* expect-stderr-preload-once: ms computing in spin_turns ← spin_here ← cpu_worker */
/* expect-stderr-preload: "cpu-stall" blocked every thread for */
/* expect-stderr-preload: greenify: monitor: 3 stalls of 100 ms or more at 2 sites */
/* expect-stderr-preload: greenify: monitor:   2× */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static struct ticker tick;

__attribute__((noinline)) static long stall_here(void)
{
	struct timespec t = {0, 400 * 1000 * 1000};

	return syscall(SYS_nanosleep, &t, NULL);
}

static void *sys_worker(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "sys-stall");
	long r = stall_here();
	__asm__ volatile("" ::: "memory"); /* keeps sys_worker's frame above stall_here's */
	return (void *)r;
}

static unsigned long per_ms; /* spin_turns per ms of CPU time */

/* 300 ms of CPU time in a loop that calls nothing */
__attribute__((noinline)) static void spin_here(void)
{
	spin_turns(300 * per_ms);
	__asm__ volatile("" ::: "memory");
}

static void *cpu_worker(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "cpu-stall");
	spin_here();
	__asm__ volatile("" ::: "memory");
	return NULL;
}

int main(void)
{
	per_ms = spin_turns_per_ms();
	tick_start(&tick, 5);
	CHECK(run_thread(sys_worker, NULL) == NULL, "the first raw sleep succeeded");
	sleep_ms(50);
	CHECK(run_thread(sys_worker, NULL) == NULL, "the second raw sleep succeeded");
	sleep_ms(50);
	run_thread(cpu_worker, NULL);
	tick_stop(&tick);
	printf("ticker ran: %s\n", atomic_load(&tick.ticks) > 2 ? "yes" : "no");
	return check_done();
}
