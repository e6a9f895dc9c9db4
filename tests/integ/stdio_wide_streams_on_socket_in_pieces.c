/* Hazard: wide-oriented streams (fgetws, fgetwc, fwscanf, fputws,
 * fwprintf) on a socketpair, UTF-8 characters split across the peer's
 * writes (a character's bytes in two pieces), each piece sent once a
 * ticker thread has moved on: glibc's wide streams read and write through
 * the same jump-table entries, and must park only their thread. */
#define _GNU_SOURCE
#include <locale.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wchar.h>

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

static void piece(const char *s)
{
	int t = atomic_load(&ticks);

	while (atomic_load(&ticks) < t + 2)
		sleep_ms(1);
	if (write(sv[1], s, strlen(s)) != (ssize_t)strlen(s))
		abort();
}

static char answer[64];

static void *peer(void *arg)
{
	size_t got = 0;
	ssize_t n;

	(void)arg;
	piece("gr\xc3");    /* "grü" with the ü split */
	piece("\xbcn\n\xe2\x82"); /* "€" split after two of its bytes */
	piece("\xac 42\n");
	while (got < sizeof(answer) - 1 && (n = read(sv[1], answer + got, sizeof(answer) - 1 - got)) > 0) {
		got += (size_t)n;
		if (answer[got - 1] == '\n')
			break;
	}
	shutdown(sv[1], SHUT_WR);
	return NULL;
}

int main(void)
{
	pthread_t tk, pr;
	wchar_t line[16];
	FILE *in, *out;
	int n = 0;

	if (!setlocale(LC_ALL, "C.UTF-8"))
		return 2;
	MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	in = fdopen(sv[0], "r");
	out = fdopen(dup(sv[0]), "w");
	if (!in || !out)
		return 2;
	MUST(pthread_create(&tk, NULL, ticker, NULL));
	MUST(pthread_create(&pr, NULL, peer, NULL));
	CHECK(fgetws(line, 16, in) && !wcscmp(line, L"gr\u00fcn\n"),
	      "fgetws decodes a character split across two writes");
	CHECK(fgetwc(in) == L'\u20ac', "fgetwc waits for the rest of the euro sign");
	CHECK(fwscanf(in, L"%d", &n) == 1 && n == 42, "fwscanf reads 42");
	CHECK(fgetwc(in) == L'\n', "then the newline");
	CHECK(fwprintf(out, L"%ls %d\n", L"d\u00e4nk", n + 1) == 8 && fflush(out) == 0,
	      "fwprintf and fflush an answer");
	MUST(pthread_join(pr, NULL));
	CHECK(!strcmp(answer, "d\xc3\xa4nk 43\n"), "the peer got it in UTF-8");
	CHECK(fgetwc(in) == WEOF && feof(in), "then WEOF");
	CHECK(atomic_load(&ticks) >= 6, "the ticker ran meanwhile");
	atomic_store(&stop, 1);
	MUST(pthread_join(tk, NULL));
	fclose(in);
	fclose(out);
	return check_done();
}
