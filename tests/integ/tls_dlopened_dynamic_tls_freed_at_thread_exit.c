/* needs: private-tls */
/* Hazard: a library loaded with dlopen has dynamic TLS (the default
 * model of -fPIC code): glibc allocates a thread's block of it at the
 * thread's first access (__tls_get_addr) and frees it when the thread's
 * resources go. Green threads made from a template of glibc's new block
 * free it too, whether they were made before the dlopen (their vector is
 * then brought up to date) or after, and so do threads made after a
 * dlclose and a second dlopen (a new generation of modules):
 *   100 threads made before the dlopen wait for it, then each finds the
 *   library's 1 MiB buffer zero and its counter at 5, and writes both;
 *   400 threads made after it one after another do the same; then a
 *   dlclose, a dlopen again, 400 more. malloc's bytes in use (mallinfo2)
 *   grow by less than 16 MiB in each round: 400 leaked buffers would be
 *   400 MiB.
 * The library is this file built with -DINTEG_SHARED (the build-also tag). */
/* build-also: shared */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

enum { BIG = 1 << 20 };

#ifdef INTEG_SHARED

char *lib_big(void);
long *lib_counter(void);

__thread char lib_big_v[BIG];
__thread long lib_counter_v = 5;

char *lib_big(void)
{
	return lib_big_v;
}

long *lib_counter(void)
{
	return &lib_counter_v;
}

#else

#include "check.h"

enum { BEFORE = 100, AFTER = 400, LEAK = 16 << 20 };

static char *(*big)(void);
static long *(*counter)(void);
static atomic_int loaded, not_fresh;

/* Checks that the library's TLS is new, then dirties it. */
static void use(long i)
{
	char *b = big();

	if (b[0] || b[BIG / 2] || b[BIG - 1] || *counter() != 5)
		atomic_fetch_add(&not_fresh, 1);
	b[0] = b[BIG / 2] = b[BIG - 1] = (char)(1 + i % 100);
	*counter() = i;
}

static void *early(void *arg)
{
	while (!atomic_load(&loaded))
		usleep(1000);
	use((long)(intptr_t)arg);
	return NULL;
}

static void *late(void *arg)
{
	use((long)(intptr_t)arg);
	return NULL;
}

static void *load(const char *path)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	if (h == NULL) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		exit(2);
	}
	*(void **)&big = dlsym(h, "lib_big");
	*(void **)&counter = dlsym(h, "lib_counter");
	if (big == NULL || counter == NULL) {
		fprintf(stderr, "dlsym: %s\n", dlerror());
		exit(2);
	}
	return h;
}

/* AFTER threads one after another; what malloc holds more after them. */
static long round_of_late(void)
{
	size_t before = mallinfo2().uordblks;

	for (long i = 0; i < AFTER; i++) {
		pthread_t t;
		MUST(pthread_create(&t, NULL, late, (void *)(intptr_t)i));
		MUST(pthread_join(t, NULL));
	}
	return (long)(mallinfo2().uordblks - before);
}

int main(void)
{
	char path[PATH_MAX + 4];
	pthread_t t[BEFORE];
	size_t before;
	long grew;
	void *h;

	beside_self(path, sizeof path, ".so");
	alarm(60);
	for (long i = 0; i < BEFORE; i++)
		MUST(pthread_create(&t[i], NULL, early, (void *)(intptr_t)i));
	h = load(path);
	before = mallinfo2().uordblks;
	atomic_store(&loaded, 1);
	for (int i = 0; i < BEFORE; i++)
		MUST(pthread_join(t[i], NULL));
	grew = (long)(mallinfo2().uordblks - before);
	fprintf(stderr, "threads made before the dlopen: %ld bytes more in use\n", grew);
	CHECK(grew < LEAK, "threads made before the dlopen free its TLS");
	grew = round_of_late();
	fprintf(stderr, "threads made after the dlopen: %ld bytes more in use\n", grew);
	CHECK(grew < LEAK, "threads made after the dlopen free its TLS");
	dlclose(h);
	load(path);
	grew = round_of_late();
	fprintf(stderr, "after a dlclose and a dlopen: %ld bytes more in use\n", grew);
	CHECK(grew < LEAK, "threads made after a second dlopen free its TLS");
	CHECK(atomic_load(&not_fresh) == 0, "every thread finds the library's TLS new (%d did not)",
	      atomic_load(&not_fresh));
	return check_done();
}

#endif
