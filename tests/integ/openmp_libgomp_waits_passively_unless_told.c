/* Hazard: GNU libgomp spins 300,000 turns before each futex wait when
 * OMP_WAIT_POLICY and GOMP_SPINCOUNT are unset, which on greenify's one OS
 * thread keeps the thread it waits for from running until preemption
 * stops the spinner (a loop of short parallel regions: seconds instead
 * of milliseconds). Under greenify libgomp takes the passive policy (spin
 * count 0, on stderr: omp_display_env's report), unless the program's
 * environment sets either variable, which it then honours as natively;
 * the program's own getenv still finds OMP_WAIT_POLICY unset. Its regions,
 * barriers and reductions give what they give natively. */
/* cflags: -fopenmp */
/* needs: private-tls */
/* expect-stderr-preload: libgomp's spin count 0 */
#define _GNU_SOURCE
#include <omp.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

/* libgomp's spin count, as omp_display_env(verbose) prints it on stderr:
 * read back through a pipe; -1 if it printed none. */
static long long spin_count(void)
{
	static char buf[16384];
	int p[2], saved;
	ssize_t n, got = 0;
	char *at;

	MUST(pipe(p));
	fflush(stderr);
	saved = dup(2);
	MUST(saved < 0 ? -1 : 0);
	MUST(dup2(p[1], 2) < 0 ? -1 : 0);
	omp_display_env(1);
	fflush(stderr);
	MUST(dup2(saved, 2) < 0 ? -1 : 0);
	close(saved);
	close(p[1]);
	while ((n = read(p[0], buf + got, sizeof(buf) - 1 - (size_t)got)) > 0)
		got += n;
	close(p[0]);
	buf[got] = '\0';
	at = strstr(buf, "GOMP_SPINCOUNT = '");
	return at ? strtoll(at + 18, NULL, 10) : -1;
}

/* Started again with one variable set: prints what libgomp took. */
static int child(const char *setting)
{
	long long n = spin_count();

	printf("  %s: libgomp's spin count %lld\n", setting, n);
	return 0;
}

static long long run_child(const char *self, const char *setting)
{
	pid_t c;
	int st;

	fflush(stdout);
	c = fork();
	if (c == 0) {
		char *eq = strchr(setting, '=');
		char name[64];
		snprintf(name, sizeof(name), "%.*s", (int)(eq - setting), setting);
		setenv(name, eq + 1, 1);
		execl(self, self, "child", setting, (char *)NULL);
		_exit(127);
	}
	return c > 0 && waitpid(c, &st, 0) == c && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(int argc, char **argv)
{
	char self[4096];
	ssize_t len;
	long long n;
	long sum = 0;
	int full_teams = 0, size = omp_get_max_threads();

	if (argc == 3 && strcmp(argv[1], "child") == 0)
		return child(argv[2]);

	CHECK(getenv("OMP_WAIT_POLICY") == NULL && getenv("GOMP_SPINCOUNT") == NULL,
	      "the program's getenv finds OMP_WAIT_POLICY and GOMP_SPINCOUNT unset");
	n = spin_count();
	fprintf(stderr, "libgomp's spin count %lld\n", n);
	CHECK(n >= 0, "libgomp reports its spin count");

	/* 2,000 short regions of the default team (one thread a CPU: libgomp
	 * spins its whole count only when threads do not outnumber CPUs),
	 * each with its implicit barriers. */
	for (int r = 0; r < 2000; r++) {
#pragma omp parallel reduction(+ : sum)
		{
			if (omp_get_thread_num() == 0 && omp_get_num_threads() == size)
#pragma omp atomic
				full_teams++;
#pragma omp for
			for (int i = 0; i < 100; i++)
				sum += i;
		}
	}
	CHECK(full_teams == 2000, "2,000 regions, each of the default team");
	CHECK(sum == 2000L * 4950, "their reductions sum to 2000 * 4950");

	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	MUST(len < 0 ? -1 : 0);
	self[len] = '\0';
	CHECK(run_child(self, "OMP_WAIT_POLICY=active") == 0, "a child with OMP_WAIT_POLICY=active");
	CHECK(run_child(self, "OMP_WAIT_POLICY=passive") == 0, "a child with OMP_WAIT_POLICY=passive");
	CHECK(run_child(self, "GOMP_SPINCOUNT=12345") == 0, "a child with GOMP_SPINCOUNT=12345");
	return check_done();
}
