/* Hazard: getline on a terminal (the slave of a pty pair, a FILE of its
 * own) while another thread of the process "types" on the master, a few
 * characters at a time, each once a ticker thread has moved on. The line
 * discipline hands the reader a line only at its newline, so getline waits
 * through every piece: that wait must park only the reader. Then the
 * terminal's end-of-file character ends the input: getline gives -1 with
 * the EOF flag set. Output to the terminal is line-buffered (glibc makes a
 * tty's stream so): the master sees a line as soon as its newline is put.
 * While the reader waits for a line, another thread prints to stdout (a
 * prompt, say) and only then does the typist type: glibc flushes stdout
 * before it reads a terminal, but does not hold stdout while it waits. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "check.h"

static int master;
static atomic_int ticks, stop, prompted;

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		atomic_fetch_add(&ticks, 1);
		sleep_ms(1);
	}
	return NULL;
}

static void type(const char *s, size_t n)
{
	int t = atomic_load(&ticks);

	while (atomic_load(&ticks) < t + 2)
		sleep_ms(1);
	if (write(master, s, n) != (ssize_t)n)
		abort();
}

static void *typist(void *arg)
{
	char eof;
	struct termios tio;

	(void)arg;
	while (!atomic_load(&prompted))
		sleep_ms(1);
	type("hel", 3);
	type("lo wo", 5);
	type("rld\n", 4);
	type("sec", 3);
	type("ond\n", 4);
	MUST(tcgetattr(master, &tio));
	eof = (char)tio.c_cc[VEOF];
	type(&eof, 1); /* at the start of a line: end-of-file */
	return NULL;
}

static void *prompter(void *arg)
{
	(void)arg;
	sleep_ms(5); /* the reader waits for its line by now, natively too */
	printf("prompt printed while the reader waits\n");
	fflush(stdout);
	atomic_store(&prompted, 1);
	return NULL;
}

int main(void)
{
	pthread_t tk, ty, pm;
	char *line = NULL, echo[64];
	size_t cap = 0;
	struct termios tio;
	FILE *in, *out;
	int slave;
	ssize_t n;

	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) || unlockpt(master))
		return 2;
	slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	if (slave < 0)
		return 2;
	/* Canonical input, no echo (so the master reads only our output). */
	MUST(tcgetattr(slave, &tio));
	tio.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	tio.c_lflag |= ICANON;
	tio.c_oflag &= ~(tcflag_t)OPOST;
	MUST(tcsetattr(slave, TCSANOW, &tio));
	in = fdopen(slave, "r");
	out = fdopen(dup(slave), "w");
	if (!in || !out)
		return 2;

	MUST(pthread_create(&tk, NULL, ticker, NULL));
	MUST(pthread_create(&ty, NULL, typist, NULL));
	MUST(pthread_create(&pm, NULL, prompter, NULL));
	n = getline(&line, &cap, in);
	CHECK(n == 12 && !strcmp(line, "hello world\n"), "getline gets the line typed in 3 pieces");
	n = getline(&line, &cap, in);
	CHECK(n == 7 && !strcmp(line, "second\n"), "getline gets the second line");
	n = getline(&line, &cap, in);
	CHECK(n == -1 && feof(in) && !ferror(in), "end-of-file: -1, EOF flag");
	MUST(pthread_join(ty, NULL));
	MUST(pthread_join(pm, NULL));

	/* Line-buffered: the newline sends the line, no fflush needed. */
	CHECK(fputs("to the terminal\n", out) >= 0, "fputs a line to the tty");
	n = read(master, echo, sizeof(echo) - 1);
	echo[n > 0 ? n : 0] = '\0';
	CHECK(!strcmp(echo, "to the terminal\n"), "the master read it without a flush");
	CHECK(atomic_load(&ticks) >= 12, "the ticker ran while getline waited");
	atomic_store(&stop, 1);
	MUST(pthread_join(tk, NULL));
	free(line);
	fclose(in);
	fclose(out);
	close(master);
	return check_done();
}
