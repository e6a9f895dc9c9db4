/* Hazard: a line protocol over a socketpair, read and answered with stdio
 * (fgets, getline, getc and ungetc, the getc_unlocked a program inlines,
 * fread, fscanf; fprintf and fflush on the same "r+" stream) while the peer,
 * another thread of the process, sends every line in pieces, and sends a
 * piece only once a third thread has ticked on: a stdio call that blocked
 * the OS thread would stop the ticker, and so the peer, for ever. Each
 * call returns what the native one returns: a whole line from several
 * pieces, the pushed-back character, the record, the numbers, then EOF with
 * the EOF flag and not the error flag. */
/* run-also: disable */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

static int sv[2];
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

/* Sends s once the ticker has moved on twice more. */
static void piece(const char *s)
{
	int t = atomic_load(&ticks);

	while (atomic_load(&ticks) < t + 2)
		sleep_ms(1);
	if (write(sv[1], s, strlen(s)) != (ssize_t)strlen(s))
		abort();
}

static char answer[64];

/* The peer: requests in pieces, then reads the answer line with read(). */
static void *peer(void *arg)
{
	size_t got = 0;

	(void)arg;
	piece("al");
	piece("pha\nbe");
	piece("ta gam");
	piece("ma\nx");
	piece("yz\n");
	piece("REC0123456");
	piece("789");
	piece(" 42 17\n");
	piece("ask\n");
	/* The reply ends with a newline; it may come in pieces too. */
	while (got < sizeof(answer) - 1 && (got == 0 || answer[got - 1] != '\n')) {
		ssize_t n = read(sv[1], answer + got, sizeof(answer) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	piece("last line, no newline");
	shutdown(sv[1], SHUT_WR);
	return NULL;
}

int main(void)
{
	pthread_t tk, pr;
	char buf[64], rec[14];
	char *line = NULL;
	size_t cap = 0;
	FILE *f;
	int a = 0, b = 0, c;

	MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	f = fdopen(sv[0], "r+");
	if (!f)
		return 2;
	MUST(pthread_create(&tk, NULL, ticker, NULL));
	MUST(pthread_create(&pr, NULL, peer, NULL));

	CHECK(fgets(buf, sizeof(buf), f) && !strcmp(buf, "alpha\n"),
	      "fgets gets alpha from two pieces");
	CHECK(getline(&line, &cap, f) == 11 && !strcmp(line, "beta gamma\n"),
	      "getline gets beta gamma from three pieces");
	c = getc(f);
	CHECK(c == 'x', "getc gets x");
	CHECK(ungetc(c, f) == 'x', "ungetc pushes it back");
	flockfile(f);
	c = getc_unlocked(f);
	CHECK(c == 'x', "getc_unlocked gets the pushed-back x");
	CHECK(getc_unlocked(f) == 'y' && getc_unlocked(f) == 'z' && getc_unlocked(f) == '\n',
	      "getc_unlocked waits for the rest of the line");
	funlockfile(f);
	CHECK(fread(rec, 1, 13, f) == 13 && !memcmp(rec, "REC0123456789", 13),
	      "fread gets a 13-byte record from two pieces");
	CHECK(fscanf(f, "%d %d", &a, &b) == 2 && a == 42 && b == 17, "fscanf reads 42 17");
	CHECK(getc(f) == '\n', "the newline after them");
	CHECK(fgets(buf, sizeof(buf), f) && !strcmp(buf, "ask\n"), "fgets gets the request");
	/* An "r+" stream: output after input needs a positioning call, and a
	 * socket cannot seek, so the switch is glibc's own fflush. */
	CHECK(fflush(f) == 0, "fflush before writing to the r+ socket");
	CHECK(fprintf(f, "answer %d\n", a + b) == 10, "fprintf the answer");
	CHECK(fflush(f) == 0, "fflush sends it");
	CHECK(fgets(buf, sizeof(buf), f) && !strcmp(buf, "last line, no newline"),
	      "fgets gets the last line without newline at EOF");
	CHECK(feof(f) && !ferror(f), "EOF flag set, error flag not");
	CHECK(fgets(buf, sizeof(buf), f) == NULL, "fgets at EOF gives NULL");
	CHECK(getc(f) == EOF && feof(f), "getc at EOF gives EOF");
	clearerr(f);
	CHECK(!feof(f), "clearerr clears the EOF flag");
	MUST(pthread_join(pr, NULL));
	CHECK(!strcmp(answer, "answer 59\n"), "the peer read the answer");
	CHECK(atomic_load(&ticks) >= 18, "the ticker ran while stdio waited");
	atomic_store(&stop, 1);
	MUST(pthread_join(tk, NULL));
	free(line);
	fclose(f);
	close(sv[1]);
	return check_done();
}
