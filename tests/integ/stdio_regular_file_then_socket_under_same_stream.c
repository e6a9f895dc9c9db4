/* Hazard: one stream whose fd changes kind. A FILE read from a regular
 * file (the plain calls: seeks, positions, ungetc, a buffer of its own)
 * then gets a socket dup2'ed onto its fd, as an inetd-style server does,
 * and stdin is freopen'ed onto a pipe: from then on their reads wait for a
 * peer thread that sends in pieces, once a ticker has moved on, and must
 * park only the reader. What kind a fd is must be asked at each read, not
 * remembered. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

static int sv[2], pp[2];
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

static void *peer(void *arg)
{
	(void)arg;
	piece(sv[1], "from the ");
	piece(sv[1], "socket\n");
	piece(pp[1], "pi");
	piece(pp[1], "pe\n");
	close(pp[1]);
	return NULL;
}

int main(void)
{
	char path[64], buf[64], vbuf[128], proc[64];
	pthread_t tk, pr;
	fpos_t pos;
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/greenify-stdio-reg-%d", (int)getpid());
	f = fopen(path, "w+");
	if (!f)
		return 2;
	MUST(setvbuf(f, vbuf, _IOFBF, sizeof(vbuf)));
	for (int i = 0; i < 20; i++)
		fprintf(f, "line %02d\n", i);
	CHECK(ftell(f) == 160, "ftell after 20 lines");
	rewind(f);
	CHECK(fgets(buf, sizeof(buf), f) && !strcmp(buf, "line 00\n"), "fgets after rewind");
	CHECK(fgetpos(f, &pos) == 0, "fgetpos");
	CHECK(fseek(f, 8 * 15, SEEK_SET) == 0 && fgets(buf, sizeof(buf), f) &&
		      !strcmp(buf, "line 15\n"),
	      "fseek and fgets");
	CHECK(fsetpos(f, &pos) == 0 && getc(f) == 'l', "fsetpos back");
	CHECK(ungetc('L', f) == 'L' && fgets(buf, sizeof(buf), f) && !strcmp(buf, "Line 01\n"),
	      "ungetc on a regular file");
	fclose(f);
	unlink(path);

	MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	MUST(pipe(pp));
	f = fopen("/etc/hostname", "r");
	if (!f)
		f = fopen("/etc/passwd", "r");
	if (!f)
		return 2;
	CHECK(fgets(buf, sizeof(buf), f) != NULL, "a line of a regular file");
	/* Read the rest, so that the next read asks the fd. */
	while (fgets(buf, sizeof(buf), f))
		;
	clearerr(f);
	MUST(dup2(sv[0], fileno(f)) < 0);
	MUST(pthread_create(&tk, NULL, ticker, NULL));
	MUST(pthread_create(&pr, NULL, peer, NULL));
	CHECK(fgets(buf, sizeof(buf), f) && !strcmp(buf, "from the socket\n"),
	      "after dup2 of a socket: fgets waits for it");
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pp[0]);
	CHECK(freopen(proc, "r", stdin) == stdin, "freopen stdin onto a pipe");
	CHECK(getchar() == 'p' && getchar() == 'i' && getchar() == 'p' && getchar() == 'e',
	      "getchar waits for the pipe");
	CHECK(getchar() == '\n' && getchar() == EOF && feof(stdin), "then EOF");
	MUST(pthread_join(pr, NULL));
	CHECK(atomic_load(&ticks) >= 8, "the ticker ran meanwhile");
	atomic_store(&stop, 1);
	MUST(pthread_join(tk, NULL));
	fclose(f);
	return check_done();
}
