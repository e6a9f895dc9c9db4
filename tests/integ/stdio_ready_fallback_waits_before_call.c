/* Hazard: the fallback for a libc whose stdio tables greenify cannot
 * change (forced here with GREENIFY_STDIO=ready): each stdio call first
 * waits, parked, until its fd is ready, then calls glibc. Exact when a line
 * comes whole and a write fits the pipe, as here: the peer thread sends
 * each line in one write, once a ticker thread has moved on, and answers
 * what it reads; the caller's wait must not stop the ticker. */
/* env-preload: GREENIFY_STDIO=ready */
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

static void send_whole(const char *s)
{
	int t = atomic_load(&ticks);

	while (atomic_load(&ticks) < t + 3)
		sleep_ms(1);
	if (write(sv[1], s, strlen(s)) != (ssize_t)strlen(s))
		abort();
}

static char reply[32];

static void *peer(void *arg)
{
	ssize_t n;

	(void)arg;
	send_whole("one line\n");
	send_whole("two\n");
	send_whole("RECORD");
	n = read(sv[1], reply, sizeof(reply) - 1);
	reply[n > 0 ? n : 0] = '\0';
	shutdown(sv[1], SHUT_WR);
	return NULL;
}

int main(void)
{
	pthread_t tk, pr;
	char buf[32];
	FILE *f, *w;

	MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	f = fdopen(sv[0], "r");
	w = fdopen(dup(sv[0]), "w");
	if (!f || !w)
		return 2;
	MUST(pthread_create(&tk, NULL, ticker, NULL));
	MUST(pthread_create(&pr, NULL, peer, NULL));
	CHECK(fgets(buf, sizeof(buf), f) && !strcmp(buf, "one line\n"), "fgets waits for a line");
	CHECK(getc(f) == 't' && getc(f) == 'w' && getc(f) == 'o' && getc(f) == '\n',
	      "getc waits for the next");
	CHECK(fread(buf, 1, 6, f) == 6 && !memcmp(buf, "RECORD", 6), "fread waits for a record");
	CHECK(fprintf(w, "thanks\n") == 7 && fflush(w) == 0, "fprintf and fflush the answer");
	CHECK(fgets(buf, sizeof(buf), f) == NULL && feof(f) && !ferror(f), "then EOF");
	MUST(pthread_join(pr, NULL));
	CHECK(!strcmp(reply, "thanks\n"), "the peer got the answer");
	CHECK(atomic_load(&ticks) >= 9, "the ticker ran while stdio waited");
	atomic_store(&stop, 1);
	MUST(pthread_join(tk, NULL));
	fclose(f);
	fclose(w);
	return check_done();
}
