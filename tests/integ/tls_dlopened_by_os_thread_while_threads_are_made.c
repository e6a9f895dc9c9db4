/* needs: private-tls */
/* Hazard: a library with static TLS (initial-exec) is loaded by an OS
 * thread greenify did not make green (a timer_create SIGEV_THREAD
 * thread of glibc's) while green threads are being made one batch after
 * another. glibc copies the library's initial TLS into every thread that
 * exists, and a thread made later gets it from the dynamic linker; a
 * green thread made from a template of an earlier generation of modules
 * must get it too, whenever the load falls.
 *   Batches of 64 threads are made and joined until the load is done and
 *   for 30 batches more; every thread waits for the load (yielding), then
 *   finds the library's counter at its initializer 29 and its buffer zero,
 *   then writes both, so that a slot reused with stale TLS would show.
 * The library is this file built with -DINTEG_SHARED (the build-also tag). */
/* build-also: shared */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { BUF = 128 };

#ifdef INTEG_SHARED

long *lib_counter(void);
unsigned char *lib_buf(void);

__thread long lib_counter_v __attribute__((tls_model("initial-exec"))) = 29;
__thread unsigned char lib_buf_v[BUF] __attribute__((tls_model("initial-exec")));

long *lib_counter(void)
{
	return &lib_counter_v;
}

unsigned char *lib_buf(void)
{
	return lib_buf_v;
}

#else

#include "check.h"

enum { BATCH = 64, AFTER = 30 };

static char path[PATH_MAX + 4];
static long *(*counter)(void);
static unsigned char *(*buf)(void);
static atomic_int loaded, failed_load, not_fresh, checked;

static void loader(union sigval v)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	(void)v;
	if (h == NULL) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		atomic_store(&failed_load, 1);
		atomic_store(&loaded, 1);
		return;
	}
	*(void **)&counter = dlsym(h, "lib_counter");
	*(void **)&buf = dlsym(h, "lib_buf");
	if (counter == NULL || buf == NULL)
		atomic_store(&failed_load, 1);
	atomic_store(&loaded, 1);
}

static void *worker(void *arg)
{
	long i = (long)(intptr_t)arg;
	unsigned char *b;
	int zero = 1;

	while (!atomic_load(&loaded))
		sched_yield();
	if (atomic_load(&failed_load))
		return NULL;
	b = buf();
	for (int k = 0; k < BUF; k++)
		zero &= b[k] == 0;
	if (*counter() != 29 || !zero)
		atomic_fetch_add(&not_fresh, 1);
	atomic_fetch_add(&checked, 1);
	*counter() = 1000 + i;
	memset(b, (int)(1 + i % 200), BUF);
	return NULL;
}

int main(void)
{
	struct sigevent ev = {.sigev_notify = SIGEV_THREAD, .sigev_notify_function = loader};
	struct itimerspec when = {.it_value = {0, 20 * 1000 * 1000}};
	pthread_t t[BATCH];
	timer_t tm;
	long made = 0;

	beside_self(path, sizeof path, ".so");
	alarm(60);
	MUST(timer_create(CLOCK_MONOTONIC, &ev, &tm));
	MUST(timer_settime(tm, 0, &when, NULL));
	for (int after = 0; after < AFTER;) {
		if (atomic_load(&loaded))
			after++;
		for (int i = 0; i < BATCH; i++)
			MUST(pthread_create(&t[i], NULL, worker, (void *)(intptr_t)made++));
		for (int i = 0; i < BATCH; i++)
			MUST(pthread_join(t[i], NULL));
	}
	fprintf(stderr, "%ld threads, %d checked\n", made, atomic_load(&checked));
	CHECK(!atomic_load(&failed_load), "the OS thread loaded the library");
	CHECK(atomic_load(&checked) == made, "every thread looked at the library's TLS");
	CHECK(atomic_load(&not_fresh) == 0,
	      "every thread finds the library's initial TLS (%d did not)", atomic_load(&not_fresh));
	return check_done();
}

#endif
