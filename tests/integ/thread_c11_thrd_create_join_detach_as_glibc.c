/* run-also: disable */
/* Hazard: C11 threads are glibc's pthreads behind another interface, with
 * their own contract, which glibc keeps as follows:
 *   thrd_create -> thrd_success; the thread's int comes back whole from
 *     thrd_join's res (42, -5, INT_MIN, INT_MAX, for 40 threads at once),
 *     res may be NULL; pthread_join of a C11 thread sees the int as
 *     (void *)(uintptr_t), sign-extended (-5 is UINTPTR_MAX - 4);
 *   thrd_current in a thread is what thrd_create gave its creator
 *     (thrd_equal), not main's, and is pthread_self; thrd_equal of a thread
 *     with itself is non-zero;
 *   thrd_detach of a running thread -> thrd_success, and it runs on to its
 *     end; detaching it again, or joining it -> thrd_error (glibc's EINVAL);
 *     joining oneself -> thrd_error (glibc's EDEADLK);
 *   thrd_yield lets the other threads run: a thread that waits for a flag
 *     spinning on thrd_yield sees the flag set by another thread (on one OS
 *     thread, a yield that did not switch would spin for ever);
 *   a C11 thread creates and joins its own;
 *   when no memory for a thread can be had (RLIMIT_AS lowered),
 *     thrd_create -> thrd_error (glibc's EAGAIN, not thrd_nomem), and once
 *     the limit is raised again it works again. */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include "c11.h"

static int return_arg(void *arg)
{
	return (int)(intptr_t)arg;
}

static thrd_t seen_self;
static pthread_t seen_pthread;

static int note_self(void *arg)
{
	(void)arg;
	seen_self = thrd_current();
	seen_pthread = pthread_self();
	return 0;
}

static atomic_int go, detached_done;

static int detached_worker(void *arg)
{
	(void)arg;
	while (!atomic_load(&go))
		sleep_ms(1);
	sleep_ms(10);
	atomic_store(&detached_done, 1);
	return 0;
}

static int join_self(void *arg)
{
	(void)arg;
	return thrd_join(thrd_current(), NULL);
}

static atomic_int flag, spins;

static int spinner(void *arg)
{
	(void)arg;
	while (!atomic_load(&flag)) {
		atomic_fetch_add(&spins, 1);
		thrd_yield();
	}
	return 1;
}

static int setter(void *arg)
{
	(void)arg;
	for (int i = 0; i < 5; i++)
		thrd_yield();
	atomic_store(&flag, 1);
	return 2;
}

static int parent(void *arg)
{
	thrd_t child;
	int res = 0;

	(void)arg;
	if (thrd_create(&child, return_arg, (void *)(intptr_t)77) != thrd_success)
		return -1;
	if (thrd_join(child, &res) != thrd_success)
		return -2;
	return res + 1;
}

static atomic_int release;

static int wait_for_release(void *arg)
{
	(void)arg;
	while (!atomic_load(&release))
		sleep_ms(20);
	return 0;
}

/* The VmSize line of /proc/self/status, in bytes. */
static long long vm_size(void)
{
	char line[256];
	long long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "VmSize: %lld kB", &kib) == 1)
			break;
	fclose(f);
	return kib * 1024;
}

enum { MAX_THREADS = 100000 };

int main(void)
{
	static const int values[] = { 42, -5, INT_MIN, INT_MAX, 0 };
	thrd_t t, many[40];
	int res;

	alarm(20);
	for (unsigned i = 0; i < sizeof values / sizeof values[0]; i++) {
		CHECK_C11(thrd_create(&t, return_arg, (void *)(intptr_t)values[i]), thrd_success,
			  "thrd_create -> thrd_success");
		res = 12345;
		CHECK_C11(thrd_join(t, &res), thrd_success, "thrd_join -> thrd_success");
		CHECK(res == values[i], "thrd_join's res is the thread's %d", values[i]);
	}
	int all = 1;
	for (int i = 0; i < 40; i++)
		MUST(thrd_create(&many[i], return_arg, (void *)(intptr_t)(i * 1000 - 20000)));
	for (int i = 0; i < 40; i++) {
		MUST(thrd_join(many[i], &res));
		all &= res == i * 1000 - 20000;
	}
	CHECK(all, "40 threads at once: each join gets its thread's int");
	MUST(thrd_create(&t, return_arg, (void *)(intptr_t)9));
	CHECK_C11(thrd_join(t, NULL), thrd_success, "thrd_join with a NULL res -> thrd_success");

	MUST(thrd_create(&t, return_arg, (void *)(intptr_t)-5));
	void *v = NULL;
	MUST(pthread_join((pthread_t)t, &v));
	CHECK((uintptr_t)v == UINTPTR_MAX - 4,
	      "pthread_join of a C11 thread that returned -5: (void *)(uintptr_t)-5");

	MUST(thrd_create(&t, note_self, NULL));
	MUST(thrd_join(t, NULL));
	CHECK(thrd_equal(seen_self, t), "thrd_current in the thread is what thrd_create gave");
	CHECK(!thrd_equal(seen_self, thrd_current()), "and not main's");
	CHECK(pthread_equal(seen_pthread, (pthread_t)seen_self), "and is its pthread_self");
	CHECK(thrd_equal(thrd_current(), thrd_current()) != 0,
	      "thrd_equal of a thread with itself is non-zero");
	CHECK(pthread_equal(pthread_self(), (pthread_t)thrd_current()),
	      "main's thrd_current is its pthread_self");

	MUST(thrd_create(&t, detached_worker, NULL));
	CHECK_C11(thrd_detach(t), thrd_success, "thrd_detach of a running thread -> thrd_success");
	CHECK_C11(thrd_detach(t), thrd_error, "thrd_detach again -> thrd_error");
	CHECK_C11(thrd_join(t, &res), thrd_error, "thrd_join of a detached thread -> thrd_error");
	atomic_store(&go, 1);
	for (int64_t t0 = mono_ns(); !atomic_load(&detached_done) && mono_ns() - t0 < MS(5000);)
		sleep_ms(1);
	CHECK(atomic_load(&detached_done), "the detached thread ran on to its end");

	MUST(thrd_create(&t, join_self, NULL));
	MUST(thrd_join(t, &res));
	CHECK_C11(res, thrd_error, "a thread's thrd_join of itself -> thrd_error");

	thrd_t a, b;
	int ra = 0, rb = 0;
	MUST(thrd_create(&a, spinner, NULL));
	MUST(thrd_create(&b, setter, NULL));
	MUST(thrd_join(a, &ra));
	MUST(thrd_join(b, &rb));
	CHECK(ra == 1 && rb == 2, "a thread spinning on thrd_yield saw another set its flag");
	fprintf(stderr, "%d spins\n", atomic_load(&spins));

	MUST(thrd_create(&t, parent, NULL));
	MUST(thrd_join(t, &res));
	CHECK(res == 78, "a C11 thread created and joined its own");

	/* Out of memory for threads: warm up first (stdout's buffer). */
	printf("creating threads under a low RLIMIT_AS\n");
	fflush(stdout);
	static thrd_t tids[MAX_THREADS];
	struct rlimit saved, low;
	int n = 0, rc = thrd_success;
	long long vm = vm_size();
	if (vm <= 0) {
		fprintf(stderr, "cannot read VmSize\n");
		return 2;
	}
	MUST(getrlimit(RLIMIT_AS, &saved));
	low = saved;
	low.rlim_cur = (rlim_t)vm + 16 * 1024 * 1024;
	MUST(setrlimit(RLIMIT_AS, &low));
	while (n < MAX_THREADS &&
	       (rc = thrd_create(&tids[n], wait_for_release, NULL)) == thrd_success)
		n++;
	MUST(setrlimit(RLIMIT_AS, &saved));
	fprintf(stderr, "created %d threads before thrd_create failed with %s\n", n, c11_name(rc));
	CHECK_C11(rc, thrd_error, "no memory for a thread: thrd_create -> thrd_error");
	CHECK_C11(thrd_create(&t, wait_for_release, NULL), thrd_success,
		  "thrd_create after the limit is raised again");
	atomic_store(&release, 1);
	MUST(thrd_join(t, NULL));
	int joined = 0;
	for (int i = 0; i < n; i++)
		joined += thrd_join(tids[i], NULL) == thrd_success;
	CHECK(joined == n, "every thread created under the limit was joined");
	return check_done();
}
