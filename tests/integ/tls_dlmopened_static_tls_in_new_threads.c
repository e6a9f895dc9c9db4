/* needs: private-tls */
/* Hazard: a library loaded with dlmopen into a new namespace (as
 * LD_AUDIT loads audit modules) with initial-exec TLS takes static TLS;
 * glibc's pthread_create copies its initial image into every new
 * thread's block, as for the base namespace's modules
 * (_dl_allocate_tls_init's second argument says "a new thread", which
 * glibc 2.35 to 2.40 spell init_tls = true and 2.41 main_thread = false:
 * the first block of the process skips other namespaces' images). Every
 * green thread made after the dlmopen finds that image:
 *   a thread runs first (the runtime starts); the library (counter 42,
 *   initial-exec) is loaded with dlmopen(LM_ID_NEWLM); 20 threads one
 *   after another find the counter at 42, then write their own value.
 * The library is this file built with -DINTEG_SHARED (the build-also tag). */
/* build-also: shared */
/* run-also: disable */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#ifdef INTEG_SHARED

long *lib_ie(void);

__thread long lib_counter_v __attribute__((tls_model("initial-exec"))) = 42;

long *lib_ie(void)
{
	return &lib_counter_v;
}

#else

#include "check.h"

enum { THREADS = 20 };

static long *(*ie)(void);
static atomic_int bad;

static void *nothing(void *arg)
{
	return arg;
}

static void *use(void *arg)
{
	long *c = ie();

	if (*c != 42) {
		fprintf(stderr, "thread %ld: counter %ld\n", (long)(intptr_t)arg, *c);
		atomic_fetch_add(&bad, 1);
	}
	*c = 1000 + (long)(intptr_t)arg;
	return NULL;
}

int main(void)
{
	char path[PATH_MAX + 4];
	pthread_t t;
	void *h;

	beside_self(path, sizeof path, ".so");
	alarm(60);
	MUST(pthread_create(&t, NULL, nothing, NULL));
	MUST(pthread_join(t, NULL));
	h = dlmopen(LM_ID_NEWLM, path, RTLD_NOW);
	if (h == NULL) {
		fprintf(stderr, "dlmopen: %s\n", dlerror());
		return 2;
	}
	*(void **)&ie = dlsym(h, "lib_ie");
	if (ie == NULL) {
		fprintf(stderr, "dlsym: %s\n", dlerror());
		return 2;
	}
	CHECK(*ie() == 42, "the loading thread finds the counter at 42");
	for (long i = 0; i < THREADS; i++) {
		MUST(pthread_create(&t, NULL, use, (void *)(intptr_t)i));
		MUST(pthread_join(t, NULL));
	}
	CHECK(atomic_load(&bad) == 0,
	      "every thread made after the dlmopen finds the counter at 42 (%d did not)",
	      atomic_load(&bad));
	return check_done();
}

#endif
