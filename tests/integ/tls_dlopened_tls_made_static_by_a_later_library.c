/* needs: private-tls */
/* Hazard: a library loaded with dlopen has dynamic TLS until a thread
 * first reaches it; a second library loaded later that reaches the
 * first one's TLS with the initial-exec model (an IE reference to its
 * symbol) makes the dynamic linker give the first one static TLS then,
 * copying its initial image into every thread there is. The second
 * library has no TLS of its own: the modules' generation
 * (GL(dl_tls_generation)) does not move, only the static TLS in use
 * grows. Every thread made afterwards must find the first library's
 * initial image in its static TLS, as glibc's _dl_allocate_tls_init
 * copies it, whether or not greenify copies new blocks from a template
 * made before:
 *   library 1 (counter 42, dynamic TLS) is loaded RTLD_GLOBAL and nobody
 *   reaches its TLS; 5 threads run one after another (their blocks are
 *   made, their slots reused later), a 6th waits; library 2 (no TLS, an
 *   initial-exec reference to the counter) is loaded; the waiting thread
 *   and then 30 threads one after another find the counter at 42 through
 *   both libraries, at one address, and write their own value.
 * The libraries are this file built with -DINTEG_SHARED and with
 * -DINTEG_SHARED2 (the build-also tags). */
/* build-also: shared */
/* build-also: shared2 */
/* run-also: disable */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#if defined(INTEG_SHARED)

long *lib_dyn(void);

__thread long lib_counter_v = 42; /* general-dynamic: through the DTV */

long *lib_dyn(void)
{
	return &lib_counter_v;
}

#elif defined(INTEG_SHARED2)

long *lib2_ie(void);

extern __thread long lib_counter_v __attribute__((tls_model("initial-exec")));

long *lib2_ie(void)
{
	return &lib_counter_v;
}

#else

#include "check.h"

enum { EARLY = 5, LATE = 30 };

static long *(*dyn)(void), *(*ie)(void);
static atomic_int loaded, bad_value, bad_addr;

static void *nothing(void *arg)
{
	return arg;
}

/* Checks the counter is the library's initial value, then dirties it. */
static void *use(void *arg)
{
	long *a = ie(), *b = dyn();

	if (*a != 42) {
		fprintf(stderr, "thread %ld: counter %ld\n", (long)(intptr_t)arg, *a);
		atomic_fetch_add(&bad_value, 1);
	}
	if (a != b)
		atomic_fetch_add(&bad_addr, 1);
	*a = 1000 + (long)(intptr_t)arg;
	return NULL;
}

static void *waiter(void *arg)
{
	while (!atomic_load(&loaded))
		usleep(1000);
	return use(arg);
}

static void *load(const char *self, const char *suffix, int mode, const char *sym)
{
	char path[PATH_MAX + 8];
	void *h, *f;

	snprintf(path, sizeof path, "%s%s", self, suffix);
	h = dlopen(path, mode);
	if (h == NULL) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		exit(2);
	}
	f = dlsym(h, sym);
	if (f == NULL) {
		fprintf(stderr, "dlsym: %s\n", dlerror());
		exit(2);
	}
	return f;
}

int main(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	pthread_t t, w;

	if (n < 0) {
		perror("readlink /proc/self/exe");
		return 2;
	}
	self[n] = '\0';
	alarm(60);
	*(void **)&dyn = load(self, ".so", RTLD_NOW | RTLD_GLOBAL, "lib_dyn");
	for (long i = 0; i < EARLY; i++) {
		MUST(pthread_create(&t, NULL, nothing, NULL));
		MUST(pthread_join(t, NULL));
	}
	MUST(pthread_create(&w, NULL, waiter, (void *)(intptr_t)-1));
	*(void **)&ie = load(self, ".2.so", RTLD_NOW | RTLD_LOCAL, "lib2_ie");
	atomic_store(&loaded, 1);
	MUST(pthread_join(w, NULL));
	CHECK(atomic_load(&bad_value) == 0, "a thread made before library 2 finds the counter");
	for (long i = 0; i < LATE; i++) {
		MUST(pthread_create(&t, NULL, use, (void *)(intptr_t)i));
		MUST(pthread_join(t, NULL));
	}
	CHECK(atomic_load(&bad_value) == 0,
	      "every thread made after library 2 finds the counter at 42 (%d did not)",
	      atomic_load(&bad_value));
	CHECK(atomic_load(&bad_addr) == 0, "both libraries reach one counter in every thread");
	return check_done();
}

#endif
