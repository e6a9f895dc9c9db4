/* Hazard: glibc's syslog and fmtmsg hold a lock of their own (syslog_lock,
 * fmtmsg's static lock) while they write through stdio: syslog copies
 * each line to stderr with LOG_PERROR (and to /dev/console with LOG_CONS
 * when no log daemon listens, as stunnel logs every connection), fmtmsg
 * prints to stderr. When that write waits (stderr is a full pipe here),
 * natively the writer blocks and the other loggers wait for the lock
 * until a reader drains the pipe. Green, a writer that parked in the write
 * with the lock held left the next logger waiting for the lock in the
 * kernel: the one OS thread stopped for good, the reader never ran.
 *
 * Four threads each log 40 lines with syslog (LOG_PERROR), then 40
 * messages with fmtmsg (MM_PRINT, two lines each), into stderr made a
 * 4 KiB pipe that one reader thread drains only after a pause; the reader
 * counts every line. Before, syslog's %m names the caller's errno, which
 * syslog leaves as it was. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <fmtmsg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <syslog.h>
#include <unistd.h>

#include "check.h"

#define WRITERS 4
#define MSGS	40

static int pfd[2];
static char pad[300];
static atomic_int phase; /* 1: syslog, 2: fmtmsg */

static void *writer(void *arg)
{
	int id = (int)(intptr_t)arg;

	for (int k = 0; k < MSGS; k++)
		syslog(LOG_NOTICE, "w%d %02d %s", id, k, pad);
	while (atomic_load(&phase) < 2)
		sleep_ms(1);
	for (int k = 0; k < MSGS; k++)
		fmtmsg(MM_PRINT, "greenify:test", MM_INFO, pad, "none", "tag");
	return NULL;
}

/* Reads until want newlines came; returns how many came. */
static long drain(long want)
{
	char buf[4096];
	long lines = 0;

	while (lines < want) {
		ssize_t n = read(pfd[0], buf, sizeof(buf));
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			lines += buf[i] == '\n';
	}
	return lines;
}

static void *reader(void *arg)
{
	long *got = arg;

	sleep_ms(100); /* the writers fill the pipe and wait */
	got[0] = drain(WRITERS * MSGS);
	atomic_store(&phase, 2);
	sleep_ms(100);
	got[1] = drain(2L * WRITERS * MSGS);
	return NULL;
}

static void *idle(void *arg)
{
	return arg;
}

int main(void)
{
	pthread_t w[WRITERS], r;
	long got[2] = {0, 0};
	char line[512];
	int saved_err = dup(2);
	ssize_t n;

	alarm(30); /* hang guard */
	memset(pad, 'x', sizeof(pad) - 1);
	MUST(pipe(pfd));
	fcntl(pfd[1], F_SETPIPE_SZ, 4096);
	MUST(dup2(pfd[1], 2) == 2 ? 0 : -1);
	openlog("greenify-test", LOG_PERROR, LOG_USER);
	run_thread(idle, NULL); /* the runtime is up */

	errno = ENOENT;
	syslog(LOG_NOTICE, "m=%m");
	CHECK(errno == ENOENT, "syslog leaves errno as it was");
	n = read(pfd[0], line, sizeof(line) - 1);
	line[n > 0 ? n : 0] = 0;
	CHECK(strstr(line, "m=No such file or directory") != NULL, "syslog's %%m names the caller's errno");

	atomic_store(&phase, 1);
	for (int i = 0; i < WRITERS; i++)
		MUST(pthread_create(&w[i], NULL, writer, (void *)(intptr_t)i));
	MUST(pthread_create(&r, NULL, reader, got));
	for (int i = 0; i < WRITERS; i++)
		pthread_join(w[i], NULL);
	pthread_join(r, NULL);
	closelog();
	dup2(saved_err, 2);
	CHECK(got[0] == WRITERS * MSGS, "every syslog line came through the full pipe (%ld)", got[0]);
	CHECK(got[1] == 2L * WRITERS * MSGS, "every fmtmsg line came through the full pipe (%ld)",
	      got[1]);
	return check_done();
}
