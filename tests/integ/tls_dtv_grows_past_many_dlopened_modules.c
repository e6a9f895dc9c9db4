/* needs: private-tls */
/* Hazard: every library with TLS loaded by dlopen takes the next module id,
 * and a thread's DTV (its vector of TLS blocks, one entry per id) is sized
 * when the thread is made: a thread that then reaches a newer library's TLS
 * first grows its vector (glibc reallocs it). A vector that is not malloc's
 * must never reach that realloc, however many libraries come:
 *   a thread that has run before loads 30 copies of a library with a
 *     __thread counter (initializer 5), each under its own file name (each
 *     its own module), and uses them at once, before it sleeps or waits for
 *     anything: it reads every copy's counter (5), sets its own values,
 *     sleeps, and finds exactly its own values again;
 *   10 threads that waited meanwhile, then while main loads 90 more, do the
 *     same over all 120 copies;
 *   10 threads created after all that do the same;
 *   main's own values, set first, survive.
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

long *lib_counter(void);

__thread long lib_counter_v = 5; /* .tdata, general-dynamic: through the DTV */

long *lib_counter(void)
{
	return &lib_counter_v;
}

#else

/* ---- the program ---- */

#include <fcntl.h>
#include <sys/stat.h>

#include "check.h"

enum { EARLY = 10, LATE = 10, FIRST = 30, MORE = 90, MODS = FIRST + MORE };

static long *(*counter[MODS])(void);
static int loaded_count;
static pthread_barrier_t loaded;
static char dir[] = "/tmp/greenify-dtv-XXXXXX";
static char lib_path[PATH_MAX + 4];

static int fresh[EARLY + LATE + 1], kept[EARLY + LATE + 1];

/* Loads copies [from, to) of the library, each from a file of its own. */
static int load(int from, int to)
{
	for (int m = from; m < to; m++) {
		char path[PATH_MAX + 32];
		void *h;

		snprintf(path, sizeof path, "%s/lib%d.so", dir, m);
		h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		if (h == NULL) {
			fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
			return -1;
		}
		*(void **)&counter[m] = dlsym(h, "lib_counter");
		if (counter[m] == NULL) {
			fprintf(stderr, "dlsym: %s\n", dlerror());
			return -1;
		}
	}
	return 0;
}

/* Every loaded copy's counter starts at 5 in this thread; then it holds
 * this thread's own values across sleeps. */
static void use_all(int i, int mods)
{
	int ok = 1, start = 1;

	for (int m = 0; m < mods; m++) {
		start &= *counter[m]() == 5;
		*counter[m]() = 1000L * (i + 1) + m;
	}
	for (int r = 0; r < 3; r++) {
		sleep_ms(1 + (i + r) % 3);
		for (int m = 0; m < mods; m++) {
			ok &= *counter[m]() == 1000L * (i + 1) + m + r;
			*counter[m]() += 1;
		}
	}
	fresh[i] = start;
	kept[i] = ok;
}

static void *early(void *arg)
{
	pthread_barrier_wait(&loaded);
	use_all((int)(intptr_t)arg, MODS);
	return NULL;
}

static void *loader(void *arg)
{
	(void)arg;
	sleep_ms(10); /* has run and switched before */
	if (load(0, FIRST) == 0) {
		loaded_count = FIRST;
		use_all(EARLY + LATE, FIRST);
	}
	return NULL;
}

static void *late(void *arg)
{
	use_all((int)(intptr_t)arg, MODS);
	return NULL;
}

static int copy_library(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	static char data[1 << 20];
	ssize_t len;
	int fd;

	if (n < 0 || mkdtemp(dir) == NULL) {
		perror("readlink or mkdtemp");
		return -1;
	}
	self[n] = '\0';
	snprintf(lib_path, sizeof lib_path, "%s.so", self);
	fd = open(lib_path, O_RDONLY);
	len = fd < 0 ? -1 : read(fd, data, sizeof data);
	if (fd >= 0)
		close(fd);
	if (len <= 0 || len == (ssize_t)sizeof data) {
		fprintf(stderr, "cannot read %s\n", lib_path);
		return -1;
	}
	for (int m = 0; m < MODS; m++) {
		char path[PATH_MAX + 32];

		snprintf(path, sizeof path, "%s/lib%d.so", dir, m);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0700);
		if (fd < 0 || write(fd, data, (size_t)len) != len) {
			perror(path);
			return -1;
		}
		close(fd);
	}
	return 0;
}

static void remove_copies(void)
{
	for (int m = 0; m < MODS; m++) {
		char path[PATH_MAX + 32];

		snprintf(path, sizeof path, "%s/lib%d.so", dir, m);
		unlink(path);
	}
	rmdir(dir);
}

static void report(const char *who, int from, int to)
{
	int f = 0, k = 0;

	for (int i = from; i < to; i++) {
		f += fresh[i];
		k += kept[i];
	}
	CHECK(f == to - from, "%s: %d threads find every copy's counter at its initializer", who,
	      to - from);
	CHECK(k == to - from, "%s: their own values after every sleep", who);
}

int main(void)
{
	pthread_t t[EARLY + LATE], ld;
	int main_ok = 1;

	alarm(30);
	if (copy_library() < 0)
		return 2;
	MUST(pthread_barrier_init(&loaded, NULL, EARLY + 1));
	for (long i = 0; i < EARLY; i++)
		MUST(pthread_create(&t[i], NULL, early, (void *)(intptr_t)i));
	MUST(pthread_create(&ld, NULL, loader, NULL));
	MUST(pthread_join(ld, NULL));
	if (loaded_count != FIRST || load(FIRST, MODS) < 0) {
		remove_copies();
		return 2;
	}
	loaded_count = MODS;
	for (int m = 0; m < MODS; m++)
		*counter[m]() = -m;
	pthread_barrier_wait(&loaded);
	for (long i = EARLY; i < EARLY + LATE; i++)
		MUST(pthread_create(&t[i], NULL, late, (void *)(intptr_t)i));
	for (int i = 0; i < EARLY + LATE; i++)
		MUST(pthread_join(t[i], NULL));
	remove_copies();
	CHECK(loaded_count == MODS, "%d copies loaded, %d of them by a thread", MODS, FIRST);
	report("the thread that loaded the first ones", EARLY + LATE, EARLY + LATE + 1);
	report("threads made before the loads", 0, EARLY);
	report("threads made after", EARLY, EARLY + LATE);
	for (int m = 0; m < MODS; m++)
		main_ok &= *counter[m]() == -m;
	CHECK(main_ok, "main: its own values");
	return check_done();
}

#endif
