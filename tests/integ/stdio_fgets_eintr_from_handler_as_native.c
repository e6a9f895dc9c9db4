/* Hazard: a signal handler runs in a thread blocked in stdio on a pipe.
 * Without SA_RESTART the read it interrupts fails with EINTR, so fgets
 * returns NULL with the error flag set and errno EINTR; after clearerr the
 * stream reads on. With SA_RESTART the read goes on and fgets returns the
 * line that comes after the handlers ran. A write blocked on a full pipe
 * fails the same way: fflush gives EOF, the error flag, EINTR. The signals
 * come from another thread, again and again until the call has seen one:
 * one that arrives before the call blocks only runs its handler. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

static int p[2], q[2];
static FILE *in, *out;
static atomic_int handled, phase_done;
static pthread_t victim;

static void on_usr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&handled, 1);
}

static void handler(int flags)
{
	struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = flags};

	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGUSR1, &sa, NULL));
}

/* Signals the victim every 2 ms until it says it is done. */
static void kick_until_done(void)
{
	while (!atomic_load(&phase_done)) {
		MUST(pthread_kill(victim, SIGUSR1));
		sleep_ms(2);
	}
	atomic_store(&phase_done, 0);
}

static char *r_fgets;
static int e_fgets, err_flag, r_flush, e_flush, flush_err_flag;
static char line[32];

static void *reader(void *arg)
{
	(void)arg;
	errno = 0;
	r_fgets = fgets(line, sizeof(line), in);
	e_fgets = errno;
	err_flag = ferror(in);
	clearerr(in);
	atomic_store(&phase_done, 1);
	return NULL;
}

static void *writer(void *arg)
{
	static char big[128 * 1024];

	(void)arg;
	memset(big, 'y', sizeof(big));
	fwrite(big, 1, 100, out); /* buffered */
	errno = 0;
	r_flush = fflush(out);
	e_flush = errno;
	flush_err_flag = ferror(out);
	atomic_store(&phase_done, 1);
	return NULL;
}

int main(void)
{
	char buf[32];
	int n;

	MUST(pipe(p));
	MUST(pipe(q));
	in = fdopen(p[0], "r");
	out = fdopen(q[1], "w");
	if (!in || !out)
		return 2;

	handler(0);
	MUST(pthread_create(&victim, NULL, reader, NULL));
	kick_until_done();
	MUST(pthread_join(victim, NULL));
	CHECK(r_fgets == NULL && e_fgets == EINTR, "without SA_RESTART: fgets NULL, EINTR");
	CHECK(err_flag, "the error flag was set");
	if (write(p[1], "next\n", 5) != 5)
		return 2;
	CHECK(fgets(buf, sizeof(buf), in) && !strcmp(buf, "next\n"),
	      "after clearerr the stream reads on");

	handler(SA_RESTART);
	atomic_store(&handled, 0);
	MUST(pthread_create(&victim, NULL, reader, NULL));
	/* Five handlers run in the blocked reader, then the line comes. */
	for (int i = 0; i < 5; i++) {
		int h = atomic_load(&handled);
		MUST(pthread_kill(victim, SIGUSR1));
		while (atomic_load(&handled) == h)
			sleep_ms(1);
	}
	CHECK(!atomic_load(&phase_done), "with SA_RESTART: still reading after 5 handlers");
	if (write(p[1], "restarted\n", 10) != 10)
		return 2;
	while (!atomic_load(&phase_done))
		sleep_ms(1);
	atomic_store(&phase_done, 0);
	MUST(pthread_join(victim, NULL));
	CHECK(r_fgets && !strcmp(line, "restarted\n") && !err_flag,
	      "with SA_RESTART: fgets returns the line");

	/* Fill the pipe, so that the next write blocks. */
	MUST(fcntl(q[1], F_SETFL, O_NONBLOCK));
	while ((n = (int)write(q[1], buf, sizeof(buf))) > 0)
		;
	MUST(fcntl(q[1], F_SETFL, 0));
	handler(0);
	MUST(pthread_create(&victim, NULL, writer, NULL));
	kick_until_done();
	MUST(pthread_join(victim, NULL));
	CHECK(r_flush == EOF && e_flush == EINTR && flush_err_flag,
	      "a write blocked on a full pipe: fflush EOF, EINTR, error flag");

	__fpurge(out);
	fclose(out);
	close(q[0]);
	fclose(in);
	close(p[1]);
	return check_done();
}
