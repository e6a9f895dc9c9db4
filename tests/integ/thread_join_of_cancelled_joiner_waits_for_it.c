/* Hazard: joining a thread that is itself joining the caller is EDEADLK
 * (glibc's "may" error) only while that thread has not been asked to
 * cancel: once pthread_cancel asked, glibc's join waits, the other thread
 * is cancelled in its join and ends, and the join gives PTHREAD_CANCELED
 * (glibc's sysdeps/pthread/tst-join5, tst-join8, tst-join10, tst-join12,
 * with pthread_join, timedjoin and clockjoin). The join answered EDEADLK.
 *
 * A thread joins main; main cancels it, then joins it with each kind of
 * join. (Before the cancel, greenify answers EDEADLK, as glibc means to;
 * glibc 2.36 itself never records who joins whom, so its join of such a
 * thread waits for good: not checked here.) */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

static pthread_t main_thread;
static atomic_int joining;

static void *join_main(void *arg)
{
	(void)arg;
	atomic_store(&joining, 1);
	pthread_join(main_thread, NULL);
	printf("the join of main returned NO\n");
	return NULL;
}

static int join_kind(int kind, pthread_t t, void **ret)
{
	struct timespec rt = deadline_in(CLOCK_REALTIME, MS(20000));
	struct timespec mono = deadline_in(CLOCK_MONOTONIC, MS(20000));

	switch (kind) {
	case 0: return pthread_join(t, ret);
	case 1: return pthread_timedjoin_np(t, ret, &rt);
	default: return pthread_clockjoin_np(t, ret, CLOCK_MONOTONIC, &mono);
	}
}

int main(void)
{
	static const char *const names[] = {"pthread_join", "pthread_timedjoin_np",
					    "pthread_clockjoin_np"};

	main_thread = pthread_self();
	for (int kind = 0; kind < 3; kind++) {
		pthread_t t;
		void *ret = NULL;

		atomic_store(&joining, 0);
		MUST(pthread_create(&t, NULL, join_main, NULL));
		wait_above(&joining, 0);
		sleep_ms(20); /* into its join (or not yet: the same answers) */
		CHECK_ERR(pthread_tryjoin_np(t, NULL), EBUSY, "%s: tryjoin of the joiner",
			  names[kind]);
		MUST(pthread_cancel(t));
		CHECK_ERR(join_kind(kind, t, &ret), 0, "%s: join once it is asked to cancel",
			  names[kind]);
		CHECK(ret == PTHREAD_CANCELED, "%s: its value is PTHREAD_CANCELED", names[kind]);
	}
	return check_done();
}
