/* The monitor, where a user would break it. A thread blocked for 500 ms in
 * a system call no hook sees is told while it lasts (a hang may never
 * end: at ten times GREENIFY_MONITOR=30) and again when it ends; a thread
 * that computes with preemption off is named from its own signal frame
 * (GR_SIG_OWN, SIGURG) while the program has a SIGURG handler of its own,
 * which must never see the monitor's signal; a fork child has a monitor of
 * its own that names its stall. Natively nothing is reported and the
 * program's output is the same. (The hang is told once, by its thread's
 * name; the child's 150 ms stall is told while it lasts too when a
 * crowded machine makes it pass 300 ms, as one CI run's did: 391 ms.) */
/* env-preload: GREENIFY_MONITOR=30 */
/* env-preload: GREENIFY_PREEMPT=off */
/* expect-stderr-preload-once: "hang" has blocked every thread for */
/* expect-stderr-preload: so far, in nanosleep at libc.so.6+0x */
/* expect-stderr-preload: ms in nanosleep (raw syscall) ← hang_here ← hang_worker */
/* expect-stderr-preload: ms computing in spin_turns ← spin_here ← cpu_worker */
/* expect-stderr-preload: "child-stall" blocked every thread for */
/* expect-stderr-preload: ms in nanosleep (raw syscall) ← child_stall_here ← child_worker */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static atomic_int urgs;
static struct ticker tick;

static void on_urg(int sig)
{
	(void)sig;
	atomic_fetch_add(&urgs, 1);
}

static long raw_sleep_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000};

	return syscall(SYS_nanosleep, &t, NULL);
}

__attribute__((noinline)) static long hang_here(void)
{
	return raw_sleep_ms(500);
}

static void *hang_worker(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "hang");
	long r = hang_here();
	__asm__ volatile("" ::: "memory");
	return (void *)r;
}

__attribute__((noinline)) static long child_stall_here(void)
{
	return raw_sleep_ms(150);
}

static void *child_worker(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "child-stall");
	long r = child_stall_here();
	__asm__ volatile("" ::: "memory");
	return (void *)r;
}

static unsigned long per_ms; /* spin_turns per ms of CPU time */

/* 200 ms of CPU time in a loop that calls nothing */
__attribute__((noinline)) static void spin_here(void)
{
	spin_turns(200 * per_ms);
	__asm__ volatile("" ::: "memory");
}

static void *cpu_worker(void *arg)
{
	(void)arg;
	spin_here();
	__asm__ volatile("" ::: "memory");
	return NULL;
}

int main(void)
{
	struct sigaction sa = {.sa_handler = on_urg};
	int status;
	pid_t pid;

	per_ms = spin_turns_per_ms();
	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGURG, &sa, NULL));
	tick_start(&tick, 5);
	CHECK(run_thread(hang_worker, NULL) == NULL, "the raw 500 ms sleep succeeded");
	run_thread(cpu_worker, NULL);
	fflush(stdout);
	pid = fork();
	MUST(pid < 0);
	if (pid == 0) {
		tick_start(&tick, 5); /* the parent's ticker is not here */
		CHECK(run_thread(child_worker, NULL) == NULL, "the child's raw sleep succeeded");
		tick_stop(&tick);
		exit(check_done());
	}
	MUST(waitpid(pid, &status, 0) != pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child's checks passed");
	tick_stop(&tick);
	CHECK(atomic_load(&urgs) == 0, "the program's SIGURG handler never ran");
	return check_done();
}
