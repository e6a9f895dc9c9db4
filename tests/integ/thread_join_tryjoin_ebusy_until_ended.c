/* Hazard: pthread_tryjoin_np must never wait.  While the thread runs it
 * returns EBUSY at once and leaves the value alone (the thread waits for
 * main, so a tryjoin that waited would hang); the first call after the
 * thread has ended returns 0 with the value, which needs the thread to have
 * been scheduled while main polled. */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

static atomic_int release;
static atomic_int returning;

static void *wait_sleep_return(void *arg)
{
	while (!atomic_load(&release))
		sleep_ms(1);
	sleep_ms((intptr_t)arg);
	atomic_store(&returning, 1);
	return (void *)7;
}

int main(void)
{
	pthread_t t;
	void *rv = (void *)-1;
	int64_t t0;
	int rc, busy = 0;

	MUST(pthread_create(&t, NULL, wait_sleep_return, (void *)100));
	CHECK_ERR(pthread_tryjoin_np(t, &rv), EBUSY, "tryjoin of a thread waiting for main");
	CHECK(rv == (void *)-1, "it left the value alone");
	t0 = mono_ns();
	atomic_store(&release, 1);
	while ((rc = pthread_tryjoin_np(t, &rv)) == EBUSY) {
		busy++;
		sleep_ms(5);
	}
	CHECK_ERR(rc, 0, "tryjoin once the thread has ended");
	CHECK(rv == (void *)7, "it got the thread's value");
	CHECK(mono_ns() - t0 >= MS(100), "not before the thread's 100 ms sleep was over");
	CHECK(busy > 0, "EBUSY while polling");

	/* A thread that has surely ended: tryjoin reaps it at once. */
	atomic_store(&returning, 0);
	MUST(pthread_create(&t, NULL, wait_sleep_return, (void *)0));
	while (!atomic_load(&returning))
		sleep_ms(1);
	sleep_ms(100);
	rv = NULL;
	CHECK_ERR(pthread_tryjoin_np(t, &rv), 0, "tryjoin 100 ms after the thread returned");
	CHECK(rv == (void *)7, "it got the thread's value");
	return check_done();
}
