/* Hazard: when memory for a new thread cannot be had, pthread_create must
 * return EAGAIN, not crash or hang.  With RLIMIT_AS lowered to 16 MiB above
 * what the process maps now, threads are created (each parked in a sleep so
 * its memory stays taken) until one fails; it must fail with EAGAIN, within
 * 100000 attempts whatever the stack size.  Once the limit is raised again,
 * creation works again and every thread created before still runs. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include "check.h"

enum { MAX_THREADS = 100000 };

static atomic_int release;
static atomic_int finished;

static void *wait_for_release(void *arg)
{
	while (!atomic_load(&release))
		sleep_ms(20);
	atomic_fetch_add(&finished, 1);
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
	static pthread_t tids[MAX_THREADS];
	struct rlimit saved, low;
	int n = 0, rc = 0;
	pthread_t t;

	/* Warm up before the limit: one thread (the runtime starts, green) and
	 * stdout's buffer (stdout is a pipe under the harness). */
	printf("creating threads under a low RLIMIT_AS\n");
	MUST(pthread_create(&t, NULL, wait_for_release, NULL));
	atomic_store(&release, 1);
	MUST(pthread_join(t, NULL));
	atomic_store(&release, 0);
	atomic_store(&finished, 0);

	long long vm = vm_size();
	if (vm <= 0) {
		fprintf(stderr, "cannot read VmSize\n");
		return 2;
	}
	MUST(getrlimit(RLIMIT_AS, &saved));
	low = saved;
	low.rlim_cur = (rlim_t)vm + 16 * 1024 * 1024;
	MUST(setrlimit(RLIMIT_AS, &low));
	while (n < MAX_THREADS &&
	       (rc = pthread_create(&tids[n], NULL, wait_for_release, NULL)) == 0)
		n++;
	MUST(setrlimit(RLIMIT_AS, &saved));
	fprintf(stderr, "created %d threads before pthread_create failed with %s\n", n,
		errname(rc));

	CHECK(rc == EAGAIN, "got EAGAIN");
	CHECK_ERR(pthread_create(&t, NULL, wait_for_release, NULL), 0,
		  "pthread_create after the limit is raised again");
	atomic_store(&release, 1);
	MUST(pthread_join(t, NULL));
	int joined = 0;
	for (int i = 0; i < n; i++)
		joined += pthread_join(tids[i], NULL) == 0;
	CHECK(joined == n && atomic_load(&finished) == n + 1,
	      "every thread created under the limit ran to the end and was joined");
	return check_done();
}
