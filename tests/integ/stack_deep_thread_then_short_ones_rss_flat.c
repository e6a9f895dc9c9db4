/* Hazard: a stack slot reused for short threads must not keep the pages a
 * deep thread once touched there. One thread uses 4 MiB of stack; then
 * 100,000 short threads are created and joined (in batches of 20, so
 * they keep reusing the deep thread's stack): resident memory ends within 2 MiB
 * of what it was before the deep thread. glibc gives a stack's unused
 * pages back at each thread exit; greenify gives a freed slot's deep part
 * back every 1,024 uses of the slot (bench/ runs the same with 1,000,000). */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

#define MIB ((long)1 << 20)

static long rss_bytes(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f || fscanf(f, "%ld %ld", &pages, &resident) != 2)
		exit(2);
	fclose(f);
	return resident * sysconf(_SC_PAGESIZE);
}

static void *deep(void *arg)
{
	volatile char locals[4 * MIB];

	memset((char *)locals, 1, sizeof(locals));
	return (void *)(long)(locals[MIB] + (long)arg);
}

static void *shallow(void *arg)
{
	return arg;
}

static void short_ones(long n)
{
	pthread_t t[20];

	for (long i = 0; i < n; i += 20) {
		for (int k = 0; k < 20; k++)
			MUST(pthread_create(&t[k], NULL, shallow, NULL));
		for (int k = 0; k < 20; k++)
			MUST(pthread_join(t[k], NULL));
	}
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	pthread_t t;
	void *r;

	short_ones(1000); /* warm: stacks, caches, the runtime */
	long before = rss_bytes();
	MUST(pthread_create(&t, NULL, deep, NULL));
	MUST(pthread_join(t, &r));
	CHECK((long)r == 1, "the deep thread ran");
	short_ones(n);
	long after = rss_bytes();
	fprintf(stderr, "rss before %ld KiB, after %ld short threads %ld KiB\n", before >> 10, n,
		after >> 10);
	CHECK(after - before < 2 * MIB, "resident memory flat after the short threads");
	return check_done();
}
