/* run-also: disable */
/* Hazard: the point of the preload is that program threads do not become
 * kernel tasks.  While 100 threads are alive, main counts the entries of
 * /proc/self/task and reports the count on stderr (stdout must not differ
 * between modes) as "probe: os_tasks=K program_threads=N".  run-integ.sh
 * checks it: natively, and with GREENIFY_DISABLE=1, K > N; under the
 * preload K is at most N/10 (one task, plus any helpers the runtime owns).
 * The count is taken from outside the library, unlike its stats line. */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <unistd.h>

#include "check.h"

enum { NTHREADS = 100 };

static atomic_int started, release;

static void *wait_for_release(void *arg)
{
	atomic_fetch_add(&started, 1);
	while (!atomic_load(&release))
		sleep_ms(10);
	return arg;
}

int main(void)
{
	pthread_t tids[NTHREADS];
	int bad = 0;

	for (intptr_t i = 0; i < NTHREADS; i++)
		MUST(pthread_create(&tids[i], NULL, wait_for_release, (void *)i));
	while (atomic_load(&started) < NTHREADS)
		sleep_ms(1);
	int tasks = count_tasks();
	atomic_store(&release, 1);
	for (intptr_t i = 0; i < NTHREADS; i++) {
		void *rv;

		MUST(pthread_join(tids[i], &rv));
		bad += rv != (void *)i;
	}
	fprintf(stderr, "probe: os_tasks=%d program_threads=%d\n", tasks, NTHREADS + 1);
	CHECK(tasks > 0, "counted the tasks in /proc/self/task");
	CHECK(bad == 0, "all %d threads ran and were joined with their values", NTHREADS);
	return check_done();
}
