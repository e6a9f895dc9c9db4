/* Hazard: pthread_self must name the running green thread, not the one OS
 * thread they all share.  Inside each thread it equals the handle
 * pthread_create gave its creator, stays the same across sleeps, and differs
 * from every other thread's; main's own handle is stable too. */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

enum { NTHREADS = 20 };

struct slot {
	pthread_t before_sleep, after_sleep;
};

static struct slot slots[NTHREADS];
static pthread_t main_thread;

static void *record_self(void *arg)
{
	struct slot *s = arg;

	s->before_sleep = pthread_self();
	sleep_ms(10 + (s - slots) % 3);
	s->after_sleep = pthread_self();
	return NULL;
}

int main(void)
{
	pthread_t tids[NTHREADS];
	int same = 1, stable = 1, distinct = 1, not_main = 1;

	main_thread = pthread_self();
	CHECK(pthread_equal(main_thread, pthread_self()), "main: pthread_equal(self, self)");
	for (int i = 0; i < NTHREADS; i++)
		MUST(pthread_create(&tids[i], NULL, record_self, &slots[i]));
	sleep_ms(5);
	CHECK(pthread_equal(main_thread, pthread_self()),
	      "main: self unchanged after creating and sleeping");
	for (int i = 0; i < NTHREADS; i++)
		MUST(pthread_join(tids[i], NULL));

	for (int i = 0; i < NTHREADS; i++) {
		same &= pthread_equal(slots[i].before_sleep, tids[i]) != 0;
		stable &= pthread_equal(slots[i].before_sleep, slots[i].after_sleep) != 0;
		not_main &= !pthread_equal(tids[i], main_thread);
		for (int j = 0; j < i; j++)
			distinct &= !pthread_equal(tids[i], tids[j]);
	}
	CHECK(same, "each thread's pthread_self equals the handle pthread_create returned");
	CHECK(stable, "each thread's pthread_self is the same after a sleep");
	/* None was joined yet when it recorded itself, so none was reused. */
	CHECK(distinct, "no two unjoined threads' handles are pthread_equal");
	CHECK(not_main, "no thread's handle equals main's");
	return check_done();
}
