/* needs: private-tls */
/* Hazard: TLS of a library loaded with dlopen after the threads exist.  Its
 * block is not in any thread's static TLS: glibc hands it out lazily, per
 * thread, through the thread's DTV (__tls_get_addr), and a DTV made before
 * the dlopen must grow.  Green threads need a DTV each, or they share the
 * library's variables:
 *   20 threads start, wait until main has dlopened the library, then use its
 *     __thread counter (initializer 7, .tdata) and __thread buffer (.tbss),
 *     sleeping between rounds: each starts at 7 and zeros and ends with
 *     exactly its own values; 20 threads created after the dlopen likewise;
 *   the variables' addresses differ in every thread and main;
 *   main's own values, set first, survive;
 *   after dlclose and a second dlopen, new threads and main see fresh
 *     initial values again (the old blocks are stale, not reused as they
 *     were).
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

enum { BUF = 256 };

long *lib_counter(void);
unsigned char *lib_buf(void);

__thread long lib_tl_counter = 7;	/* .tdata */
__thread unsigned char lib_tl_buf[BUF]; /* .tbss */

/* Functions, so that every access goes through the library's own
 * general-dynamic TLS code. */
long *lib_counter(void)
{
	return &lib_tl_counter;
}

unsigned char *lib_buf(void)
{
	return lib_tl_buf;
}

#else

/* ---- the program ---- */

#include "check.h"

enum { EARLY = 20, LATE = 20, ROUNDS = 8, BUF = 256 };

struct lib {
	void *handle;
	long *(*counter)(void);
	unsigned char *(*buf)(void);
};

static struct lib lib;

/* What each thread saw. */
struct seen {
	int fresh;	  /* counter 7 and buffer zero on first use */
	int rounds_ok;	  /* own values after every sleep */
	int end_ok;	  /* exact values at the end */
	void *counter_at; /* lib_counter() */
};

static struct seen seen[EARLY + LATE];
static pthread_barrier_t loaded; /* early threads + main: the library is open */

static void lib_open(struct lib *l)
{
	char self[PATH_MAX], path[PATH_MAX + 4];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);

	if (n < 0) {
		perror("readlink /proc/self/exe");
		exit(2);
	}
	self[n] = '\0';
	snprintf(path, sizeof path, "%s.so", self);
	l->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (l->handle == NULL) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		exit(2);
	}
	*(void **)&l->counter = dlsym(l->handle, "lib_counter");
	*(void **)&l->buf = dlsym(l->handle, "lib_buf");
	if (l->counter == NULL || l->buf == NULL) {
		fprintf(stderr, "dlsym: %s\n", dlerror());
		exit(2);
	}
}

static void use_lib(long i)
{
	struct seen *s = &seen[i];
	long *c = lib.counter();
	unsigned char *b = lib.buf();
	int zero = 1;

	for (int k = 0; k < BUF; k++)
		zero &= b[k] == 0;
	s->fresh = *c == 7 && zero;
	s->counter_at = c;
	s->rounds_ok = 1;
	for (int r = 0; r < ROUNDS; r++) {
		*lib.counter() += i + 1;
		lib.buf()[r] = (unsigned char)(i + r);
		sleep_ms(1 + (i + r) % 3);
		if (*lib.counter() != 7 + (r + 1) * (i + 1) ||
		    lib.buf()[r] != (unsigned char)(i + r))
			s->rounds_ok = 0;
	}
	int ok = *lib.counter() == 7 + ROUNDS * (i + 1) && lib.counter() == c && lib.buf() == b;
	for (int k = 0; k < BUF; k++)
		ok &= b[k] == (k < ROUNDS ? (unsigned char)(i + k) : 0);
	s->end_ok = ok;
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

/* Prints the checks for threads [from, to). */
static void report(const char *who, int from, int to)
{
	int n = to - from, fresh = 0, rounds = 0, end = 0;

	for (int i = from; i < to; i++) {
		fresh += seen[i].fresh;
		rounds += seen[i].rounds_ok;
		end += seen[i].end_ok;
	}
	CHECK(fresh == n, "%s: %d threads start at the initializer 7 and a zeroed buffer", who, n);
	CHECK(rounds == n, "%s: own library TLS after every sleep", who);
	CHECK(end == n, "%s: exactly their own values at the end", who);
}

int main(void)
{
	pthread_t t[EARLY + LATE];
	void *addrs[EARLY + LATE + 1];

	alarm(20);
	MUST(pthread_barrier_init(&loaded, NULL, EARLY + 1));
	for (long i = 0; i < EARLY; i++)
		MUST(pthread_create(&t[i], NULL, early, (void *)(intptr_t)i));
	/* Every early thread exists (and has its DTV) before the dlopen. */
	sleep_ms(20);
	lib_open(&lib);
	int main_fresh = *lib.counter() == 7;
	*lib.counter() = -1000;
	lib.buf()[0] = 0xAB;
	pthread_barrier_wait(&loaded);
	for (long i = EARLY; i < EARLY + LATE; i++)
		MUST(pthread_create(&t[i], NULL, late, (void *)(intptr_t)i));
	for (int i = 0; i < EARLY + LATE; i++)
		MUST(pthread_join(t[i], NULL));

	CHECK(main_fresh, "main: the library's counter starts at 7");
	report("threads created before the dlopen", 0, EARLY);
	report("threads created after the dlopen", EARLY, EARLY + LATE);
	for (int i = 0; i < EARLY + LATE; i++)
		addrs[i] = seen[i].counter_at;
	addrs[EARLY + LATE] = lib.counter();
	CHECK(count_distinct(addrs, EARLY + LATE + 1) == EARLY + LATE + 1,
	      "the library counter's address differs in every thread and main");
	CHECK(*lib.counter() == -1000 && lib.buf()[0] == 0xAB, "main's own library TLS untouched");

	/* Unload, load again: every thread's old block is stale. */
	MUST(dlclose(lib.handle));
	lib_open(&lib);
	CHECK(*lib.counter() == 7 && lib.buf()[0] == 0,
	      "main after dlclose + dlopen: fresh values");
	memset(seen, 0, sizeof seen);
	for (long i = 0; i < LATE; i++)
		MUST(pthread_create(&t[i], NULL, late, (void *)(intptr_t)i));
	for (int i = 0; i < LATE; i++)
		MUST(pthread_join(t[i], NULL));
	report("threads after dlclose + dlopen", 0, LATE);
	MUST(dlclose(lib.handle));
	return check_done();
}

#endif
