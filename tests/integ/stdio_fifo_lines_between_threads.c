/* Hazard: stdio on a FIFO (a named pipe) between two threads of the
 * process: a FIFO has no non-blocking read or write attempt (RWF_NOWAIT
 * gives EOPNOTSUPP), so its reads wait for readiness, then read. The writer
 * thread sends lines with fputs and fflush in pieces, each once a ticker
 * thread has moved on; the reader's fgets and fscanf must park only it,
 * and see EOF once the writer closes. A write larger than the FIFO holds
 * waits for the reader the same way. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

#define BIG (300 * 1024)

static atomic_int ticks, stop;
static FILE *w;

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		atomic_fetch_add(&ticks, 1);
		sleep_ms(1);
	}
	return NULL;
}

static void piece(const char *s)
{
	int t = atomic_load(&ticks);

	while (atomic_load(&ticks) < t + 2)
		sleep_ms(1);
	if (fputs(s, w) == EOF || fflush(w) == EOF)
		abort();
}

static void *writer(void *arg)
{
	static char big[BIG + 2];

	(void)arg;
	piece("through a ");
	piece("fifo\n7 ");
	piece("8\n");
	memset(big, 'f', BIG);
	big[BIG] = '\n';
	if (fputs(big, w) == EOF) /* more than the FIFO holds */
		abort();
	fclose(w);
	return NULL;
}

int main(void)
{
	static char line[BIG + 16];
	char path[64];
	pthread_t tk, wr;
	int fd, a = 0, b = 0;
	FILE *r;

	snprintf(path, sizeof(path), "/tmp/greenify-stdio-fifo-%d", (int)getpid());
	unlink(path);
	MUST(mkfifo(path, 0600));
	/* Opened without blocking (the other end is not open yet), then made
	 * blocking again, as a reader that waits for data is. */
	fd = open(path, O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		return 2;
	w = fopen(path, "w");
	MUST(fcntl(fd, F_SETFL, 0));
	r = fdopen(fd, "r");
	if (!r || !w)
		return 2;
	unlink(path);
	MUST(pthread_create(&tk, NULL, ticker, NULL));
	MUST(pthread_create(&wr, NULL, writer, NULL));
	CHECK(fgets(line, sizeof(line), r) && !strcmp(line, "through a fifo\n"),
	      "fgets gets a line from two pieces");
	CHECK(fscanf(r, "%d %d", &a, &b) == 2 && a == 7 && b == 8, "fscanf reads 7 8");
	CHECK(getc(r) == '\n', "the newline after them");
	CHECK(fgets(line, sizeof(line), r) && strlen(line) == BIG + 1 && line[BIG - 1] == 'f',
	      "a line larger than the FIFO holds comes whole");
	CHECK(fgets(line, sizeof(line), r) == NULL && feof(r) && !ferror(r), "then EOF");
	MUST(pthread_join(wr, NULL));
	CHECK(atomic_load(&ticks) >= 6, "the ticker ran meanwhile");
	atomic_store(&stop, 1);
	MUST(pthread_join(tk, NULL));
	fclose(r);
	return check_done();
}
