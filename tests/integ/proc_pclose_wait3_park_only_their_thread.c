/* Hazard: glibc's pclose and wait3 wait for the child with its internal
 * waitpid/wait4, which no hook sees: preloaded, the wait blocked the one OS
 * thread, so every other thread stopped for as long as the child ran (and
 * a child that waits for its pipe to close could never end). Each must
 * park only its caller: a ticker thread keeps ticking while a 300 ms
 * child runs, and each returns the child's status. Checked: pclose of a
 * read stream ("sleep 0.3; exit 4" -> status 4), of a write stream whose
 * child ends only at EOF (cat, after a write: status 0, what was written
 * arrives), of a stream whose child another thread reaped first (-1,
 * ECHILD), and wait3 with rusage (the child's pid and status 6). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static atomic_int ticks, stop;

static void *ticker(void *arg)
{
	while (!atomic_load(&stop)) {
		sleep_ms(5);
		atomic_fetch_add(&ticks, 1);
	}
	return arg;
}

struct job {
	const char *what;
	int (*fn)(void);
	int result;
};

static void *run_job(void *arg)
{
	struct job *j = arg;

	j->result = j->fn();
	return NULL;
}

/* Runs fn in a thread of its own, checks that the ticker ran meanwhile. */
static int beside_ticker(const char *what, int (*fn)(void))
{
	struct job j = {what, fn, 0};
	pthread_t t;
	int t0 = atomic_load(&ticks);

	MUST(pthread_create(&t, NULL, run_job, &j));
	MUST(pthread_join(t, NULL));
	int ticked = atomic_load(&ticks) - t0;
	CHECK(ticked >= 10, "%s: the ticker kept ticking meanwhile", what);
	fprintf(stderr, "%s: %d ticks\n", what, ticked);
	return j.result;
}

static int pclose_reader(void)
{
	FILE *f = popen("sleep 0.3; exit 4", "r");

	return f ? pclose(f) : -2;
}

static char cat_out[64];

static int pclose_writer(void)
{
	snprintf(cat_out, sizeof cat_out, "/tmp/greenify-pclose-%d", (int)getpid());
	char cmd[128];
	snprintf(cmd, sizeof cmd, "sleep 0.3; cat > %s", cat_out);
	FILE *f = popen(cmd, "w");
	if (!f)
		return -2;
	fputs("written through the pipe\n", f);
	return pclose(f);
}

static pid_t child;

static int wait3_child(void)
{
	struct rusage ru;
	int st = 0;
	pid_t r = wait3(&st, 0, &ru);

	return r == child && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(void)
{
	pthread_t tk;
	char line[64] = "";

	MUST(pthread_create(&tk, NULL, ticker, NULL));

	int st = beside_ticker("pclose of a read stream", pclose_reader);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 4, "pclose returns the child's status 4");

	st = beside_ticker("pclose of a write stream", pclose_writer);
	CHECK(st == 0, "pclose of cat returns 0");
	FILE *in = fopen(cat_out, "r");
	CHECK(in && fgets(line, sizeof line, in) && strcmp(line, "written through the pipe\n") == 0,
	      "what was written reached the child");
	if (in)
		fclose(in);
	unlink(cat_out);

	FILE *f = popen("exit 0", "r");
	MUST(f ? 0 : -1);
	int reaped = 0;
	for (int i = 0; i < 1000 && !reaped; i++) {
		reaped = wait(NULL) > 0;
		if (!reaped)
			sleep_ms(1);
	}
	errno = 0;
	CHECK(reaped && pclose(f) == -1 && errno == ECHILD,
	      "pclose of a child reaped by another wait -> -1 ECHILD");

	child = fork();
	if (child == 0) {
		usleep(300000);
		_exit(6);
	}
	CHECK(beside_ticker("wait3", wait3_child) == 6, "wait3 returns the child and status 6");

	atomic_store(&stop, 1);
	MUST(pthread_join(tk, NULL));
	return check_done();
}
