/* Hazard: with one OS thread, a thread that polls instead of blocking could
 * keep the CPU forever and a sleeper's timer would never fire.  A thread
 * spinning on pthread_tryjoin_np, and main spinning on sched_yield and
 * pthread_yield, each wait for a thread that sleeps 50 ms: the sleeper must
 * wake in time (bound: 1 s, generous for a loaded machine), and every yield
 * returns 0. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "check.h"

static atomic_llong slept_ns;
static atomic_int woke;

static void *sleep_50ms(void *arg)
{
	int64_t t0 = mono_ns();

	usleep(50 * 1000);
	atomic_store(&slept_ns, mono_ns() - t0);
	atomic_store(&woke, 1);
	return arg;
}

static void *spin_on_tryjoin(void *arg)
{
	pthread_t sleeper = *(pthread_t *)arg;
	void *rv = NULL;
	long spins = 0;
	int rc;

	while ((rc = pthread_tryjoin_np(sleeper, &rv)) == EBUSY)
		spins++;
	return rc == 0 && rv == (void *)3 && spins > 0 ? (void *)1 : (void *)0;
}

int main(void)
{
	pthread_t sleeper, spinner;
	void *ok = NULL;
	int yields_ok = 1;
	long spins = 0;

	MUST(pthread_create(&sleeper, NULL, sleep_50ms, (void *)3));
	MUST(pthread_create(&spinner, NULL, spin_on_tryjoin, &sleeper));
	MUST(pthread_join(spinner, &ok));
	CHECK(ok == (void *)1, "the tryjoin spinner joined the sleeper and got its value");
	CHECK(atomic_load(&slept_ns) >= MS(50), "the sleeper slept >= 50 ms");
	CHECK(atomic_load(&slept_ns) < MS(1000), "the sleeper woke within 1 s despite the spinner");

	atomic_store(&woke, 0);
	atomic_store(&slept_ns, 0);
	MUST(pthread_create(&sleeper, NULL, sleep_50ms, (void *)3));
	while (!atomic_load(&woke)) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
		int rc = spins % 2 ? sched_yield() : pthread_yield();
#pragma GCC diagnostic pop
		yields_ok &= rc == 0;
		spins++;
	}
	MUST(pthread_join(sleeper, NULL));
	CHECK(yields_ok && spins > 0, "sched_yield and pthread_yield returned 0");
	CHECK(atomic_load(&slept_ns) >= MS(50), "the sleeper slept >= 50 ms");
	CHECK(atomic_load(&slept_ns) < MS(1000),
	      "the sleeper woke within 1 s despite main yielding");
	return check_done();
}
