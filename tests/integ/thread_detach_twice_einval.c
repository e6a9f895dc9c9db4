/* Hazard: detaching is a one-way state change.  A second pthread_detach of a
 * running thread, or one of a thread created detached, returns EINVAL; a
 * thread may detach itself, after which joins fail with EINVAL; detaching a
 * joinable thread that has already ended returns 0 and frees it (200 times,
 * so that a double free or a use after free would likely show). */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

static atomic_int release;
static atomic_int finished;
static int self_detach_rc[2]; /* the self-detaching thread's two results */
static atomic_int self_detach_done;

static void *wait_for_release(void *arg)
{
	(void)arg;
	while (!atomic_load(&release))
		sleep_ms(1);
	atomic_fetch_add(&finished, 1);
	return NULL;
}

static void *detach_self(void *arg)
{
	self_detach_rc[0] = pthread_detach(pthread_self());
	self_detach_rc[1] = pthread_detach(pthread_self());
	atomic_store(&self_detach_done, 1);
	return wait_for_release(arg);
}

static void *end_at_once(void *arg)
{
	atomic_fetch_add(&finished, 1);
	return arg;
}

int main(void)
{
	pthread_t running, created_detached, self, ended;
	pthread_attr_t attr;

	MUST(pthread_create(&running, NULL, wait_for_release, NULL));
	CHECK_ERR(pthread_detach(running), 0, "first pthread_detach of a running thread");
	CHECK_ERR(pthread_detach(running), EINVAL, "second pthread_detach of it");

	MUST(pthread_attr_init(&attr));
	MUST(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED));
	MUST(pthread_create(&created_detached, &attr, wait_for_release, NULL));
	MUST(pthread_attr_destroy(&attr));
	CHECK_ERR(pthread_detach(created_detached), EINVAL,
		  "pthread_detach of a thread created detached");

	MUST(pthread_create(&self, NULL, detach_self, NULL));
	while (!atomic_load(&self_detach_done))
		sleep_ms(1);
	CHECK_ERR(self_detach_rc[0], 0, "a thread's pthread_detach(pthread_self())");
	CHECK_ERR(self_detach_rc[1], EINVAL, "and its second one");
	CHECK_ERR(pthread_join(self, NULL), EINVAL, "pthread_join of the self-detached thread");
	CHECK_ERR(pthread_detach(self), EINVAL, "pthread_detach of it from main");

	/* Detach threads that have already ended but were never joined. */
	int bad = 0, n = 200;
	for (int i = 0; i < n; i++) {
		int before = atomic_load(&finished);

		MUST(pthread_create(&ended, NULL, end_at_once, NULL));
		while (atomic_load(&finished) == before)
			sleep_ms(1);
		sleep_ms(1);
		if (pthread_detach(ended) != 0)
			bad++;
	}
	CHECK(bad == 0, "pthread_detach of %d ended, unjoined threads returned 0", n);

	atomic_store(&release, 1);
	for (int i = 0; i < 5000 && atomic_load(&finished) < n + 3; i++)
		sleep_ms(1);
	CHECK(atomic_load(&finished) == n + 3, "every detached thread ran to the end");
	return check_done();
}
