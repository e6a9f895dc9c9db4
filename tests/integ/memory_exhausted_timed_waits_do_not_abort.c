/* Hazard: once malloc fails, a sleep or a timed wait must still work as
 * natively (none of them needs memory there), never abort the process. The
 * waits' deadlines must not need memory then (the deadline heap growing on
 * a park was fatal: "out of memory for N timers").
 *
 * 1500 threads are created first (more deadlines than any first guess of
 * the heap's size), each waiting for a start signal. Then RLIMIT_AS is
 * lowered to what the process maps now and malloc is exhausted (blocks of
 * falling sizes until even 16 bytes fail). Then all threads are released
 * at once: each sleeps 20 ms, times out on a semaphore and on a condition
 * (50 ms deadlines), and ends; main sleeps beside them, then joins them
 * all. Afterwards the limit is raised and the memory freed. */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <sys/resource.h>
#include <unistd.h>

#include "check.h"

enum { THREADS = 1500 };

static sem_t go, never;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static atomic_int slept_ok, sem_timed_out, cond_timed_out;

static void *waiter(void *arg)
{
	while (sem_wait(&go) != 0)
		;
	if (nanosleep(&(struct timespec){0, 20000000}, NULL) == 0)
		atomic_fetch_add(&slept_ok, 1);
	struct timespec d = deadline_in(CLOCK_REALTIME, MS(50));
	if (sem_timedwait(&never, &d) == -1 && errno == ETIMEDOUT)
		atomic_fetch_add(&sem_timed_out, 1);
	d = deadline_in(CLOCK_REALTIME, MS(50));
	pthread_mutex_lock(&m);
	if (pthread_cond_timedwait(&c, &m, &d) == ETIMEDOUT)
		atomic_fetch_add(&cond_timed_out, 1);
	pthread_mutex_unlock(&m);
	return arg;
}

/* The VmSize line of /proc/self/status, in bytes. */
static long long vm_size(void)
{
	char line[256];
	long long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "VmSize: %lld kB", &kib) == 1)
			break;
	fclose(f);
	return kib * 1024;
}

int main(void)
{
	static pthread_t t[THREADS];
	static const size_t sizes[] = {1 << 20, 1 << 16, 1 << 12, 256, 16};
	pthread_attr_t attr;
	struct rlimit saved, low;
	void *blocks = NULL;
	long n = 0;

	printf("%d threads wait for a start signal\n", THREADS);
	fflush(stdout);
	MUST(sem_init(&go, 0, 0));
	MUST(sem_init(&never, 0, 0));
	MUST(pthread_attr_init(&attr));
	MUST(pthread_attr_setstacksize(&attr, 64 * 1024));
	for (int i = 0; i < THREADS; i++)
		MUST(pthread_create(&t[i], &attr, waiter, NULL));

	long long vm = vm_size();
	MUST(vm > 0 ? 0 : -1);
	MUST(getrlimit(RLIMIT_AS, &saved));
	low = saved;
	low.rlim_cur = (rlim_t)vm;
	MUST(setrlimit(RLIMIT_AS, &low));
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		void **b;
		while ((b = malloc(sizes[s])) != NULL) {
			*b = blocks;
			blocks = b;
			n++;
		}
	}
	void *probe = malloc(16);
	CHECK(probe == NULL, "malloc fails once memory is exhausted");
	free(probe);
	fprintf(stderr, "took %ld blocks before malloc failed\n", n);

	for (int i = 0; i < THREADS; i++)
		sem_post(&go);
	int64_t t0 = mono_ns();
	for (int i = 0; i < 10; i++)
		nanosleep(&(struct timespec){0, 10000000}, NULL);
	int main_slept = mono_ns() - t0 >= MS(100);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);

	while (blocks) {
		void *next = *(void **)blocks;
		free(blocks);
		blocks = next;
	}
	MUST(setrlimit(RLIMIT_AS, &saved));
	CHECK(main_slept, "main slept 10 x 10 ms with malloc failing");
	CHECK(atomic_load(&slept_ok) == THREADS, "every thread slept 20 ms");
	CHECK(atomic_load(&sem_timed_out) == THREADS, "every sem_timedwait timed out");
	CHECK(atomic_load(&cond_timed_out) == THREADS, "every cond_timedwait timed out");
	return check_done();
}
