/* needs: private-tls */
/* Hazard: a library loaded with dlopen takes static TLS (initial-exec
 * TLS) from the surplus glibc keeps in every thread's block; green threads
 * reuse stack slots, and a slot's next thread must find the library's
 * initial values there again, not what the slot's last thread left.
 *   50 threads run and end before the dlopen (their slots are reused
 *   later); after it, 200 threads one after another each find the
 *   library's counter at its initializer 11 and its buffer zero, then
 *   write both and check them after a sleep, while a thread made before
 *   the dlopen keeps its own values across those switches.
 * The library is this file built with -DINTEG_SHARED (the build-also tag). */
/* build-also: shared */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#ifdef INTEG_SHARED

enum { BUF = 200 };

long *lib_counter(void);
unsigned char *lib_buf(void);

__thread long lib_counter_v __attribute__((tls_model("initial-exec"))) = 11;
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

enum { BEFORE = 50, AFTER = 200, BUF = 200 };

static long *(*counter)(void);
static unsigned char *(*buf)(void);
static __thread long own = 3;
static int not_fresh, not_kept, keeper_bad;
static volatile int loaded, stop;

static void *before(void *arg)
{
	own = (long)(intptr_t)arg;
	return NULL;
}

static void *after(void *arg)
{
	long i = (long)(intptr_t)arg;
	unsigned char *b = buf();
	int zero = 1;

	for (int k = 0; k < BUF; k++)
		zero &= b[k] == 0;
	if (*counter() != 11 || !zero || own != 3)
		not_fresh++;
	*counter() = 1000 + i;
	memset(b, (int)(1 + i % 200), BUF);
	sleep_ms(i % 2);
	if (*counter() != 1000 + i || buf()[BUF - 1] != (unsigned char)(1 + i % 200))
		not_kept++;
	return NULL;
}

static void *keeper(void *arg)
{
	(void)arg;
	while (!loaded)
		sleep_ms(1);
	*counter() = -7;
	while (!stop) {
		sleep_ms(1);
		if (*counter() != -7)
			keeper_bad++;
	}
	return NULL;
}

int main(void)
{
	char path[PATH_MAX + 4];
	pthread_t k;
	void *h;

	beside_self(path, sizeof path, ".so");
	alarm(30);
	for (long i = 0; i < BEFORE; i++) {
		pthread_t t;
		MUST(pthread_create(&t, NULL, before, (void *)(intptr_t)i));
		MUST(pthread_join(t, NULL));
	}
	MUST(pthread_create(&k, NULL, keeper, NULL));
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 2;
	}
	*(void **)&counter = dlsym(h, "lib_counter");
	*(void **)&buf = dlsym(h, "lib_buf");
	if (counter == NULL || buf == NULL) {
		fprintf(stderr, "dlsym: %s\n", dlerror());
		return 2;
	}
	loaded = 1;
	for (long i = 0; i < AFTER; i++) {
		pthread_t t;
		MUST(pthread_create(&t, NULL, after, (void *)(intptr_t)i));
		MUST(pthread_join(t, NULL));
	}
	stop = 1;
	MUST(pthread_join(k, NULL));
	CHECK(not_fresh == 0, "every thread after the dlopen starts at 11, zeros and its own 3 (%d did not)",
	      not_fresh);
	CHECK(not_kept == 0, "every thread keeps its values across a sleep");
	CHECK(keeper_bad == 0, "a thread made before the dlopen keeps its own value");
	CHECK(*counter() == 11 && own == 3, "main's values untouched");
	return check_done();
}

#endif
