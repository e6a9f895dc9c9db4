/*
 * prog2 — the talk's "Prog 2": what a sleeping thread costs in memory.
 *
 *   prog2 N [sleep_ms=auto]
 *
 * Starts N threads (default attributes) that each check in and then sleep until
 * released; once all N have checked in, main reads /proc/self/status and prints
 *   prog2 n=N created=K rss_kb=.. hwm_kb=.. pte_kb=.. vsz_kb=.. base_rss_kb=..
 *         base_pte_kb=.. per_thread_bytes=.. ok
 * with per_thread_bytes = ((rss+pte) - (base_rss+base_pte)) * 1024 / K.
 * A failed pthread_create still measures the K threads that exist and ends the
 * line with "fail errno=NAME" (exit status 1), so the native limit shows what
 * those threads cost too.
 *
 * What it does not see: natively each thread also holds a 16 KiB kernel stack
 * and some slab, which no per-process counter reports.
 *
 * sleep_ms is how long each sleeper sleeps between looks at the release flag.
 * The flag, not one long sleep, is what keeps the threads asleep however long
 * creation takes; the interval stays long (default max(1 s, 3 us * N)) because
 * a million threads that wake every 10 ms would measure the wakeups instead.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "bench.h"

/* Fields of /proc/self/status, in kB as the kernel reports them. */
struct vm {
	long rss; /* VmRSS: resident memory */
	long hwm; /* VmHWM: peak resident memory */
	long pte; /* VmPTE: page tables, which stacks spread out in memory inflate */
	long vsz; /* VmSize: address space, dominated natively by 8 MiB stacks */
};

static long sleep_ms;	       /* set before any thread starts */
static atomic_long checked_in; /* threads that have started running */
static atomic_int released;    /* set by main once it has measured */

static void *sleeper(void *arg)
{
	(void)arg;
	atomic_fetch_add(&checked_in, 1);
	while (!atomic_load(&released))
		bench_sleep_ms(sleep_ms);
	return NULL;
}

static void *nothing(void *arg)
{
	return arg;
}

static int read_vm(struct vm *vm)
{
	char line[256];
	FILE *f;
	int found = 0;

	f = fopen("/proc/self/status", "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL) {
		found += sscanf(line, "VmRSS: %ld", &vm->rss) == 1;
		found += sscanf(line, "VmHWM: %ld", &vm->hwm) == 1;
		found += sscanf(line, "VmPTE: %ld", &vm->pte) == 1;
		found += sscanf(line, "VmSize: %ld", &vm->vsz) == 1;
	}
	fclose(f);
	return found == 4 ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct vm base, now;
	pthread_t *tids, warm;
	long n, k, i, per_thread;
	int err = 0, measured;

	if (argc < 2 || argc > 3 || bench_parse_count(argv[1], 1, 100000000L, &n) != 0 ||
	    (argc == 3 && strcmp(argv[2], "auto") != 0 &&
	     bench_parse_count(argv[2], 1, 3600000L, &sleep_ms) != 0)) {
		fprintf(stderr, "usage: prog2 N [sleep_ms=auto]\n");
		return 2;
	}
	if (sleep_ms == 0)
		sleep_ms = n * 3 / 1000 > 1000 ? n * 3 / 1000 : 1000;

	/* Touch the handle array now so that its pages count in the baseline:
	 * the question is what a thread costs, not what this program's
	 * bookkeeping costs. */
	tids = malloc((size_t)n * sizeof *tids);
	if (tids == NULL) {
		fprintf(stderr, "prog2: out of memory for %ld thread handles\n", n);
		return 2;
	}
	memset(tids, 0, (size_t)n * sizeof *tids);

	/* One thread started and joined before the baseline pays the one-time
	 * costs (glibc's first-thread setup, or a threading runtime starting
	 * up) so they are not charged to the N threads measured. */
	if (pthread_create(&warm, NULL, nothing, NULL) == 0)
		pthread_join(warm, NULL);

	if (read_vm(&base) != 0) {
		fprintf(stderr, "prog2: cannot read /proc/self/status\n");
		free(tids);
		return 2;
	}

	for (k = 0; k < n; k++) {
		err = pthread_create(&tids[k], NULL, sleeper, NULL);
		if (err != 0)
			break;
	}
	while (atomic_load(&checked_in) < k)
		usleep(1000);

	measured = read_vm(&now) == 0;
	atomic_store(&released, 1);
	for (i = 0; i < k; i++)
		pthread_join(tids[i], NULL);
	free(tids);
	if (!measured) {
		fprintf(stderr, "prog2: cannot read /proc/self/status\n");
		return 2;
	}

	per_thread = k > 0 ? ((now.rss + now.pte) - (base.rss + base.pte)) * 1024 / k : 0;
	printf("prog2 n=%ld created=%ld rss_kb=%ld hwm_kb=%ld pte_kb=%ld vsz_kb=%ld "
	       "base_rss_kb=%ld base_pte_kb=%ld per_thread_bytes=%ld ",
	       n, k, now.rss, now.hwm, now.pte, now.vsz, base.rss, base.pte, per_thread);
	if (err != 0) {
		char ebuf[16];

		printf("fail errno=%s\n", bench_errno_name(err, ebuf, sizeof ebuf));
		return 1;
	}
	printf("ok\n");
	return 0;
}
