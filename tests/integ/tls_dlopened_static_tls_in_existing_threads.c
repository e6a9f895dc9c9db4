/* needs: private-tls */
/* Hazard: a library loaded with dlopen whose TLS goes into the static TLS
 * block of every thread (initial-exec TLS here; on aarch64 any TLS reached
 * through descriptors while the surplus lasts). glibc then copies the
 * library's initial values into the static block of each thread it knows
 * of, at once, and never again: a green thread glibc does not know of keeps
 * whatever its block held (zeros, or a previous library's values).
 *   20 threads exist before the dlopen and wait for it; 20 are created
 *     after; each reads the library's counter (initializer 11, .tdata) and
 *     buffer (.tbss) first, then adds its own values, sleeping between
 *     rounds: every thread starts at 11 and zeros and ends with exactly
 *     its own values;
 *   main's values, set first, survive.
 * The library is this file built with -DINTEG_SHARED (the build-also tag). */
/* build-also: shared */
/* run-also: disable */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <unistd.h>

#ifdef INTEG_SHARED

/* ---- the library ---- */

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

/* ---- the program ---- */

#include "check.h"

enum { EARLY = 20, LATE = 20, ROUNDS = 6, BUF = 200 };

static long *(*counter)(void);
static unsigned char *(*buf)(void);
static pthread_barrier_t loaded;

static int fresh[EARLY + LATE], kept[EARLY + LATE];

static void use_lib(long i)
{
	long *c = counter();
	unsigned char *b = buf();
	int zero = 1, ok = 1;

	for (int k = 0; k < BUF; k++)
		zero &= b[k] == 0;
	fresh[i] = *c == 11 && zero;
	for (int r = 0; r < ROUNDS; r++) {
		*c += i + 1;
		b[r] = (unsigned char)(i + r + 1);
		sleep_ms(1 + (i + r) % 3);
		ok &= *counter() == 11 + (r + 1) * (i + 1) && buf()[r] == (unsigned char)(i + r + 1);
	}
	for (int k = ROUNDS; k < BUF; k++)
		ok &= b[k] == 0;
	kept[i] = ok;
}

static void *early(void *arg)
{
	pthread_barrier_wait(&loaded);
	use_lib((long)(intptr_t)arg);
	return NULL;
}

static void *late(void *arg)
{
	use_lib((long)(intptr_t)arg);
	return NULL;
}

static void report(const char *who, int from, int to)
{
	int f = 0, k = 0;

	for (int i = from; i < to; i++) {
		f += fresh[i];
		k += kept[i];
	}
	CHECK(f == to - from, "%s: %d threads start at the initializer 11 and a zeroed buffer",
	      who, to - from);
	CHECK(k == to - from, "%s: their own values after every sleep and at the end", who);
}

int main(void)
{
	char path[PATH_MAX + 4];
	pthread_t t[EARLY + LATE];
	void *h;

	beside_self(path, sizeof path, ".so");
	alarm(20);
	MUST(pthread_barrier_init(&loaded, NULL, EARLY + 1));
	for (long i = 0; i < EARLY; i++)
		MUST(pthread_create(&t[i], NULL, early, (void *)(intptr_t)i));
	sleep_ms(20); /* every early thread exists and waits */
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
	CHECK(*counter() == 11 && buf()[0] == 0, "main: the library's TLS starts initialised");
	*counter() = -5;
	buf()[0] = 0xCD;
	pthread_barrier_wait(&loaded);
	for (long i = EARLY; i < EARLY + LATE; i++)
		MUST(pthread_create(&t[i], NULL, late, (void *)(intptr_t)i));
	for (int i = 0; i < EARLY + LATE; i++)
		MUST(pthread_join(t[i], NULL));
	report("threads created before the dlopen", 0, EARLY);
	report("threads created after the dlopen", EARLY, EARLY + LATE);
	CHECK(*counter() == -5 && buf()[0] == 0xCD, "main's own values untouched");
	return check_done();
}

#endif
