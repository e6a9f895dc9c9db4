/* Shared helpers for the integration programs in tests/integ/.
 *
 * Every program runs twice, natively and under the preload, and
 * tests/run-integ.sh compares what the two print on stdout.  So stdout must
 * be deterministic: it carries only facts that are the same in both modes
 * ("elapsed >= 50 ms yes", an error name), never a time, an address or an
 * order that depends on scheduling.  Anything mode-dependent that is still
 * worth seeing goes to stderr, which is not compared.
 *
 * Each program also checks itself: CHECK() prints "<what> yes" or "<what> NO",
 * check_done() prints a summary and gives the exit status, so a program is
 * useful on its own and natively too.
 *
 * C and C++ programs alike include it (the Makefile compiles it as C++ too).
 */
#ifndef INTEG_CHECK_H
#define INTEG_CHECK_H

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* C11's atomics; in C++ (before C++23's <stdatomic.h>) the same names from
 * <atomic>. */
#ifdef __cplusplus
#include <atomic>
using std::atomic_fetch_add;
using std::atomic_int;
using std::atomic_load;
#else
#include <stdatomic.h>
#endif

/* Failed checks so far.  Atomic because natively threads may check at once. */
static atomic_int check_failures;

/* Print "<what> yes" or "<what> NO" and, on failure, where to stderr. */
#define CHECK(cond, ...) check_report(!!(cond), __FILE__, __LINE__, #cond, __VA_ARGS__)

static inline int check_report(int ok, const char *file, int line, const char *expr,
			       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" %s\n", ok ? "yes" : "NO");
	if (!ok) {
		atomic_fetch_add(&check_failures, 1);
		fprintf(stderr, "%s:%d: check failed: %s\n", file, line, expr);
	}
	return ok;
}

/* "EINVAL" for EINVAL, "0" for 0: readable and the same in both modes. */
static inline const char *errname(int e)
{
	static char buf[4][16];
	static atomic_int next;
	const char *name;

	if (e == 0)
		return "0";
	name = strerrorname_np(e);
	if (name != NULL)
		return name;
	char *b = buf[atomic_fetch_add(&next, 1) & 3];
	snprintf(b, sizeof buf[0], "errno %d", e);
	return b;
}

/* Check that an error number (a pthread_* or clock_nanosleep result, or an
 * errno) is the expected one; prints "<what> -> EXPECTED yes". */
#define CHECK_ERR(got, want, ...) check_err((got), (want), __FILE__, __LINE__, __VA_ARGS__)

static inline int check_err(int got, int want, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" -> %s %s\n", errname(want), got == want ? "yes" : "NO");
	if (got != want) {
		atomic_fetch_add(&check_failures, 1);
		fprintf(stderr, "%s:%d: got %s, want %s\n", file, line, errname(got),
			errname(want));
	}
	return got == want;
}

static inline int64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	if (clock_gettime(clk, &ts) != 0) {
		perror("clock_gettime");
		abort();
	}
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

#define MS(n) ((int64_t)(n)*1000000)

/* A timespec on clock clk, delta_ns from now (negative: in the past). */
static inline struct timespec deadline_in(clockid_t clk, int64_t delta_ns)
{
	int64_t t = clock_ns(clk) + delta_ns;
	struct timespec ts = { .tv_sec = t / 1000000000, .tv_nsec = t % 1000000000 };

	return ts;
}

static inline int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

/* Die at once on a setup step that is not itself under test. */
#define MUST(call)                                                                           \
	do {                                                                                 \
		int must_rc_ = (call);                                                       \
		if (must_rc_ != 0) {                                                         \
			fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, \
				errname(must_rc_ < 0 ? errno : must_rc_));                   \
			exit(2);                                                             \
		}                                                                            \
	} while (0)

/* Sleep without caring about EINTR (no signals are used in these programs). */
static inline void sleep_ms(int64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	MUST(nanosleep(&ts, NULL));
}

/* Naps of 1 ms until *v is above floor, for at most 10 s: a thread waits
 * for another to get somewhere (a ticker's next tick, a handler's count)
 * however late a crowded CPU schedules it. */
static inline void wait_above(atomic_int *v, int floor)
{
	for (int i = 0; i < 10000 && atomic_load(v) <= floor; i++)
		sleep_ms(1);
}

/* A ticker: a thread that sleeps ms milliseconds and counts, until
 * stopped, the other threads' witness that a wait of one parks only that
 * one (and, with a sleeper due, the timers preemption needs are armed). */
struct ticker {
	atomic_int stop, ticks;
	int ms;
	pthread_t thread;
};

__attribute__((unused)) static void *tick_main(void *arg)
{
	struct ticker *k = (struct ticker *)arg;

	while (!atomic_load(&k->stop)) {
		sleep_ms(k->ms);
		atomic_fetch_add(&k->ticks, 1);
	}
	return NULL;
}

/* Starts k and waits for its first two ticks. */
static inline void tick_start(struct ticker *k, int ms)
{
	atomic_store(&k->stop, 0);
	atomic_store(&k->ticks, 0);
	k->ms = ms;
	MUST(pthread_create(&k->thread, NULL, tick_main, k));
	wait_above(&k->ticks, 2);
}

static inline void tick_stop(struct ticker *k)
{
	atomic_store(&k->stop, 1);
	MUST(pthread_join(k->thread, NULL));
}

/* Runs fn(arg) in a new thread and gives what it returned. */
static inline void *run_thread(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	void *r;

	MUST(pthread_create(&t, NULL, fn, arg));
	MUST(pthread_join(t, &r));
	return r;
}

/* Pure computation: a loop that calls nothing (no hook sees it, so only
 * preemption, or nothing, interrupts it), n turns. */
static volatile unsigned long spin_sink;
__attribute__((noinline, unused)) static void spin_turns(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		spin_sink = spin_sink + i * 2654435761u; /* C++20: no compound assignment to a volatile */
}

/* Turns of spin_turns per millisecond of this thread's CPU time, measured
 * over 20 ms of it (CPU time: a crowded machine that gives the thread
 * less of a CPU does not change it). */
static inline unsigned long spin_turns_per_ms(void)
{
	struct timespec a, b;
	unsigned long n = 0;
	int64_t ns;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	do {
		spin_turns(1 << 16);
		n += 1 << 16;
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
		ns = (int64_t)(b.tv_sec - a.tv_sec) * 1000000000 + (b.tv_nsec - a.tv_nsec);
	} while (ns < 20 * 1000000);
	return (unsigned long)((double)n * 1e6 / (double)ns);
}

/* Print the summary line and give main's exit status. */
static inline int check_done(void)
{
	int n = atomic_load(&check_failures);

	if (n == 0)
		printf("all checks passed\n");
	else
		printf("%d checks FAILED\n", n);
	return n == 0 ? 0 : 1;
}

/* Entries of a directory, "." and ".." aside; -1 if it is unreadable. */
static inline int count_dir_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Into path (cap bytes): this program's own path with suffix, the library
 * a build-also tag builds beside it (".so", ".2.so"). Exits 2 when /proc
 * cannot tell. */
static inline void beside_self(char *path, size_t cap, const char *suffix)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);

	if (n < 0) {
		perror("readlink /proc/self/exe");
		exit(2);
	}
	self[n] = '\0';
	snprintf(path, cap, "%s%s", self, suffix);
}

/* The kernel tasks (OS threads) of this process now: the probe that tells
 * green threads (one task) from OS threads. -1 if /proc is unreadable. */
static inline int count_tasks(void)
{
	return count_dir_entries("/proc/self/task");
}

static inline int check_cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;

	return x < y ? -1 : x > y;
}

/* How many different pointers among n (sorts them). */
static inline int count_distinct(void **p, int n)
{
	int d = n > 0;

	qsort(p, n, sizeof *p, check_cmp_ptr);
	for (int k = 1; k < n; k++)
		d += p[k] != p[k - 1];
	return d;
}

#endif
