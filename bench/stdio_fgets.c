/*
 * stdio_fgets: line throughput of fgets.
 *
 *   stdio_fgets socket [lines=1M] [len=100]
 *       one thread writes lines of len bytes (newline included) with fputs
 *       into a socketpair, another reads them with fgets;
 *   stdio_fgets file [lines=1M] [len=100]
 *       the same lines are written to a regular file first, then read back
 *       with fgets (a thread has been created, so that under greenify the
 *       reads are a green thread's: the cost of the hooks on the plain path).
 *
 * Prints lines, MB/s and ns per line of the reading (wall time). A plain
 * pthread program: natively the writer and the reader run on two cores and
 * wake each other through the socket; under greenify they take turns.
 */
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

static long lines = 1000000, len = 100;
static int sv[2];

static void fill(char *line)
{
	for (long i = 0; i < len - 1; i++)
		line[i] = (char)('a' + i % 26);
	line[len - 1] = '\n';
	line[len] = '\0';
}

static void *writer(void *arg)
{
	FILE *w = fdopen(sv[0], "w");
	char *line = malloc((size_t)len + 1);

	(void)arg;
	if (!w || !line)
		abort();
	fill(line);
	for (long i = 0; i < lines; i++)
		if (fputs(line, w) == EOF)
			abort();
	fclose(w);
	free(line);
	return NULL;
}

static void *nothing(void *arg)
{
	return arg;
}

/* Reads r to its end; returns the lines and adds their bytes to *bytes. */
static long read_all(FILE *r, long *bytes)
{
	char buf[4096];
	long n = 0;

	while (fgets(buf, sizeof(buf), r)) {
		n++;
		*bytes += (long)strlen(buf);
	}
	return n;
}

int main(int argc, char **argv)
{
	pthread_t t;
	double t0, t1;
	long n, bytes = 0;
	FILE *r;
	int sock;

	if (argc < 2 || argc > 4 || (strcmp(argv[1], "socket") && strcmp(argv[1], "file")) ||
	    (argc > 2 && bench_parse_count(argv[2], 1, 1000000000L, &lines) != 0) ||
	    (argc > 3 && bench_parse_count(argv[3], 2, 4000, &len) != 0)) {
		fprintf(stderr, "usage: stdio_fgets socket|file [lines=1M] [len=100]\n");
		return 2;
	}
	sock = !strcmp(argv[1], "socket");
	if (sock) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
			return 1;
		r = fdopen(sv[1], "r");
		if (!r)
			return 1;
		t0 = bench_now_ms(CLOCK_MONOTONIC);
		pthread_create(&t, NULL, writer, NULL);
		n = read_all(r, &bytes);
		t1 = bench_now_ms(CLOCK_MONOTONIC);
		pthread_join(t, NULL);
	} else {
		char *line = malloc((size_t)len + 1);
		r = tmpfile();
		if (!r || !line)
			return 1;
		fill(line);
		for (long i = 0; i < lines; i++)
			fputs(line, r);
		rewind(r);
		free(line);
		pthread_create(&t, NULL, nothing, NULL);
		pthread_join(t, NULL);
		t0 = bench_now_ms(CLOCK_MONOTONIC);
		n = read_all(r, &bytes);
		t1 = bench_now_ms(CLOCK_MONOTONIC);
	}
	fclose(r);
	if (n != lines || bytes != lines * len) {
		fprintf(stderr, "stdio_fgets: read %ld lines, %ld bytes: expected %ld, %ld\n", n,
			bytes, lines, lines * len);
		return 1;
	}
	printf("stdio_fgets %s lines=%ld len=%ld ms=%.1f mb_per_s=%.1f ns_per_line=%.1f\n", argv[1],
	       n, len, t1 - t0, (double)bytes / 1e3 / (t1 - t0), (t1 - t0) * 1e6 / (double)n);
	return 0;
}
