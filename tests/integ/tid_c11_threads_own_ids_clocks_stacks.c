/* Hazard: a C11 thread (thrd_create) is a pthread like any other, so what
 * a program can observe of a pthread holds for it too:
 *   its gettid() is its own (none equals the pid or another thread's), and
 *     tgkill(getpid(), tid, SIGUSR1) runs the handler in that thread while
 *     the others keep sleeping;
 *   thrd_current is unique among the live threads and is pthread_self;
 *   pthread_getattr_np of it reports glibc's default stack size (the one
 *     pthread_getattr_default_np gives);
 *   pthread_getcpuclockid(thrd_current()) is its own CPU clock: a thread
 *     spins until it reads 30 ms there (within 10 s), while one that only
 *     sleeps meanwhile reads less than 20 ms on its own;
 *   pthread_setschedprio of one SCHED_OTHER thread to 0 succeeds and its
 *     policy is still SCHED_OTHER. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "c11.h"

#define N 6

static pid_t tids[N];
static thrd_t selves[N];
static size_t stack_sizes[N];
static int self_is_pthread[N];
static atomic_int got[N], stop, ready;

static void on_usr1(int sig)
{
	pid_t me = gettid();

	(void)sig;
	for (int i = 0; i < N; i++)
		if (tids[i] == me)
			atomic_fetch_add(&got[i], 1);
}

static int64_t cpu_ns(thrd_t t)
{
	clockid_t clk;
	struct timespec ts;

	if (pthread_getcpuclockid((pthread_t)t, &clk) != 0 || clock_gettime(clk, &ts) != 0)
		return -1;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int worker(void *arg)
{
	int i = (int)(intptr_t)arg;
	pthread_attr_t attr;

	tids[i] = gettid();
	selves[i] = thrd_current();
	self_is_pthread[i] = pthread_equal((pthread_t)selves[i], pthread_self());
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		pthread_attr_getstacksize(&attr, &stack_sizes[i]);
		pthread_attr_destroy(&attr);
	}
	atomic_fetch_add(&ready, 1);
	while (!atomic_load(&stop)) {
		struct timespec ms = {0, 1000000};
		nanosleep(&ms, NULL); /* EINTR when the signal comes */
	}
	return i;
}

static atomic_int spin_done;
static int64_t spun_ns = -1, slept_ns = -1;

/* Spins until its own CPU clock says 30 ms (a loaded machine only makes
 * that take longer), or 10 s of wall time. */
static int spinner(void *arg)
{
	struct timespec t0, t;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		spun_ns = cpu_ns(thrd_current());
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (spun_ns >= 0 && spun_ns < 30000000 && t.tv_sec - t0.tv_sec < 10);
	atomic_store(&spin_done, 1);
	return 0;
}

static int sleeper(void *arg)
{
	(void)arg;
	while (!atomic_load(&spin_done))
		sleep_ms(2);
	slept_ns = cpu_ns(thrd_current());
	return 0;
}

int main(void)
{
	thrd_t th[N], sp, sl;
	pthread_attr_t def;
	size_t def_size = 0;
	int res;

	signal(SIGUSR1, on_usr1);
	MUST(pthread_getattr_default_np(&def));
	MUST(pthread_attr_getstacksize(&def, &def_size));
	MUST(pthread_attr_destroy(&def));
	for (int i = 0; i < N; i++)
		CHECK_C11(thrd_create(&th[i], worker, (void *)(intptr_t)i), thrd_success,
			  "thrd_create %d", i);
	while (atomic_load(&ready) < N)
		sleep_ms(1);

	int distinct = 1, not_pid = 1, unique_self = 1, is_pthread = 1, glibc_size = 1;
	for (int i = 0; i < N; i++) {
		not_pid &= tids[i] > 0 && tids[i] != getpid() && tids[i] != gettid();
		is_pthread &= self_is_pthread[i] && thrd_equal(selves[i], th[i]);
		glibc_size &= stack_sizes[i] == def_size;
		for (int j = 0; j < i; j++) {
			distinct &= tids[i] != tids[j];
			unique_self &= !thrd_equal(selves[i], selves[j]);
		}
	}
	CHECK(distinct, "each C11 thread has its own gettid");
	CHECK(not_pid, "none has the pid or main's id");
	CHECK(unique_self, "thrd_current is unique among the live threads");
	CHECK(is_pthread, "thrd_current is pthread_self and what thrd_create gave");
	CHECK(glibc_size, "a C11 thread has glibc's default stack size");

	MUST(syscall(SYS_tgkill, getpid(), tids[2], SIGUSR1) == 0 ? 0 : -1);
	for (int k = 0; k < 5000 && !atomic_load(&got[2]); k++)
		sleep_ms(1);
	int others = 0;
	for (int i = 0; i < N; i++)
		if (i != 2)
			others += atomic_load(&got[i]);
	CHECK(atomic_load(&got[2]) == 1 && others == 0,
	      "tgkill to a C11 thread's id runs the handler in that thread only");

	struct sched_param sp0 = {0};
	int pol = -1;
	CHECK(pthread_setschedprio((pthread_t)th[3], 0) == 0, "setschedprio of a C11 thread");
	CHECK(pthread_getschedparam((pthread_t)th[3], &pol, &sp0) == 0 && pol == SCHED_OTHER &&
		      sp0.sched_priority == 0,
	      "and it is still SCHED_OTHER, priority 0");

	atomic_store(&stop, 1);
	int joined = 1;
	for (int i = 0; i < N; i++)
		joined &= thrd_join(th[i], &res) == thrd_success && res == i;
	CHECK(joined, "each C11 thread joined with its own value");

	CHECK_C11(thrd_create(&sl, sleeper, NULL), thrd_success, "thrd_create sleeper");
	CHECK_C11(thrd_create(&sp, spinner, NULL), thrd_success, "thrd_create spinner");
	MUST(thrd_join(sp, NULL) == thrd_success ? 0 : -1);
	MUST(thrd_join(sl, NULL) == thrd_success ? 0 : -1);
	fprintf(stderr, "spinner %lld ns, sleeper %lld ns of CPU\n", (long long)spun_ns,
		(long long)slept_ns);
	CHECK(spun_ns >= 30000000, "a spinning C11 thread's CPU clock counts its own time");
	CHECK(slept_ns >= 0 && slept_ns < 20000000,
	      "a sleeping one's counts not the spinner's time");
	return check_done();
}
