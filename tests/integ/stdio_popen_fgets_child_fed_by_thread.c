/* Hazard: fgets on popen()'s pipe while the child's input comes from
 * another thread of the process, piece by piece, each piece only once a
 * ticker thread has moved on: a stdio read that blocked the OS thread
 * would stop the feeder, and the child with it. pclose then waits for the
 * child (parking only its caller) and gives its status; fclose of a "w"
 * stream closes the child's input first, as glibc's does, so the child
 * that reads to the end finishes. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static int feed[2];
static atomic_int ticks, stop;

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		atomic_fetch_add(&ticks, 1);
		sleep_ms(1);
	}
	return NULL;
}

static void piece(int fd, const char *s)
{
	int t = atomic_load(&ticks);

	while (atomic_load(&ticks) < t + 2)
		sleep_ms(1);
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		abort();
}

static void *feeder(void *arg)
{
	(void)arg;
	piece(feed[1], "one\ntw");
	piece(feed[1], "o\nthr");
	piece(feed[1], "ee\n");
	close(feed[1]);
	return NULL;
}

int main(void)
{
	pthread_t tk, fd_thread;
	char cmd[64], buf[64];
	FILE *p;
	int status, n = 0;

	/* Only the read end reaches the child (a dup, not close-on-exec):
	 * with the write end the child would never see end-of-file. */
	MUST(pipe2(feed, O_CLOEXEC));
	int in = dup(feed[0]);
	MUST(pthread_create(&tk, NULL, ticker, NULL));
	/* The child reads the feeder's pipe, numbering its lines. */
	snprintf(cmd, sizeof(cmd), "exec cat -n <&%d", in);
	p = popen(cmd, "r");
	if (!p)
		return 2;
	close(in);
	close(feed[0]);
	MUST(pthread_create(&fd_thread, NULL, feeder, NULL));
	while (fgets(buf, sizeof(buf), p)) {
		int num;
		char word[16];
		n++;
		CHECK(sscanf(buf, "%d %15s", &num, word) == 2 && num == n, "line %d numbered %d", n,
		      n);
		printf("child said %s\n", word);
	}
	CHECK(n == 3 && feof(p) && !ferror(p), "three lines, then EOF");
	status = pclose(p);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "pclose gives the child's status 0");
	MUST(pthread_join(fd_thread, NULL));

	/* A "w" stream: the child counts what it reads until end-of-file,
	 * which only the close sends; its status says what it counted. */
	p = popen("n=$(wc -c); exit $((n == 600000 ? 7 : 1))", "w");
	if (!p)
		return 2;
	for (int i = 0; i < 6000; i++)
		fputs("0123456789012345678901234567890123456789012345678901234567890123456789"
		      "01234567890123456789012345678\n",
		      p);
	status = pclose(p);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7,
	      "the child read all 600000 bytes, then exit 7");

	p = popen("exit 3", "r");
	CHECK(p && fgets(buf, sizeof(buf), p) == NULL && feof(p), "a silent child: EOF at once");
	/* fclose, as code that does not know where its stream came from
	 * calls it (through a pointer: gcc warns of fclose on popen's). */
	int (*volatile close_any)(FILE *) = fclose;
	status = p ? close_any(p) : -1;
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 3, "fclose of a popen stream gives 3");

	CHECK(atomic_load(&ticks) >= 6, "the ticker ran meanwhile");
	atomic_store(&stop, 1);
	MUST(pthread_join(tk, NULL));
	return check_done();
}
