/* Hazard: an fd closed or replaced (dup2, dup3) while another thread is
 * blocked on it. Linux keeps the blocked call on the file it started
 * with: a read goes on and returns the byte written next into that pipe
 * (through another fd of it), a blocking write goes on and completes when
 * the pipe is drained, a poll goes on until that file has an event and
 * then reports POLLNVAL for the number; meanwhile the number is free,
 * and a new pipe that gets it at once works on its own. Afterwards the
 * process holds no more fds than before (nothing is left of the old
 * file). A signal whose handler has no SA_RESTART ends a blocked read
 * with EINTR. A ticker thread runs during every wait. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "check.h"

static int p[2];
static ssize_t got;
static int err;
static char byte;
static struct pollfd pf;
static atomic_int ticks, stop, calling;

/* Returns once the thread has reached its call, then gives it 100 ms to
 * block in it (a loaded machine may take that long to schedule it). */
static void wait_for_call(void)
{
	while (!atomic_exchange(&calling, 0))
		sleep_ms(1);
	sleep_ms(100);
}

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		sleep_ms(1);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

static void *reader(void *arg)
{
	(void)arg;
	byte = 0;
	atomic_store(&calling, 1);
	got = read(p[0], &byte, 1);
	err = got < 0 ? errno : 0;
	return NULL;
}

static void *poller(void *arg)
{
	(void)arg;
	pf = (struct pollfd){.fd = p[0], .events = POLLIN};
	atomic_store(&calling, 1);
	got = poll(&pf, 1, -1);
	return NULL;
}

static char big[2 * 65536];

static void *writer(void *arg)
{
	(void)arg;
	atomic_store(&calling, 1);
	got = write(p[1], big, sizeof(big));
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
}

/* A new pipe takes the number just freed, and works on its own. */
static void reuse_works(int number)
{
	int q[2];
	char c = 0;

	MUST(pipe(q));
	CHECK(q[0] == number || q[1] == number, "the number is free: a new pipe gets it");
	CHECK(write(q[1], "n", 1) == 1 && read(q[0], &c, 1) == 1 && c == 'n',
	      "and the new pipe works");
	close(q[0]);
	close(q[1]);
}

int main(void)
{
	pthread_t t, tick;
	int keep, other[2], number, fds, t0;
	struct sigaction sa = {0};

	alarm(20);
	MUST(pthread_create(&tick, NULL, ticker, NULL));
	fds = count_dir_entries("/proc/self/fd");

	/* close */
	MUST(pipe(p));
	keep = p[1];
	number = p[0];
	MUST(pthread_create(&t, NULL, reader, NULL));
	wait_for_call();
	MUST(close(p[0]));
	reuse_works(number);
	t0 = atomic_load(&ticks);
	sleep_ms(10);
	MUST(write(keep, "a", 1) != 1);
	MUST(pthread_join(t, NULL));
	CHECK(got == 1 && byte == 'a', "a read blocked when its fd was closed gets the next byte");
	CHECK(atomic_load(&ticks) > t0, "another thread ran meanwhile");
	close(keep);

	/* dup2 and dup3 */
	for (int three = 0; three < 2; three++) {
		MUST(pipe(p));
		MUST(pipe(other));
		keep = dup(p[1]);
		MUST(pthread_create(&t, NULL, reader, NULL));
		wait_for_call();
		if (three)
			MUST(dup3(other[0], p[0], O_CLOEXEC) < 0);
		else
			MUST(dup2(other[0], p[0]) < 0);
		MUST(write(other[1], "o", 1) != 1); /* into the file the number names now */
		sleep_ms(10);
		MUST(write(keep, three ? "c" : "b", 1) != 1);
		MUST(pthread_join(t, NULL));
		CHECK(got == 1 && byte == (three ? 'c' : 'b'),
		      "a read blocked when %s replaced its fd gets its own pipe's byte",
		      three ? "dup3" : "dup2");
		char c = 0;
		CHECK(read(p[0], &c, 1) == 1 && c == 'o', "the number reads the new file");
		close(p[0]);
		close(p[1]);
		close(other[0]);
		close(other[1]);
		close(keep);
	}

	/* A blocking write on a full pipe whose write end is closed. */
	MUST(pipe(p));
	MUST(fcntl(p[1], F_SETPIPE_SZ, 65536) != 65536);
	keep = p[0];
	MUST(pthread_create(&t, NULL, writer, NULL));
	wait_for_call();
	MUST(close(p[1]));
	static char sink[sizeof(big)];
	size_t drained = 0;
	while (drained < sizeof(big)) {
		ssize_t n = read(keep, sink, sizeof(sink));
		MUST(n <= 0);
		drained += (size_t)n;
	}
	MUST(pthread_join(t, NULL));
	CHECK(got == sizeof(big) && drained == sizeof(big),
	      "a write blocked when its fd was closed completes as the pipe drains");
	char c;
	CHECK(read(keep, &c, 1) == 0, "then the pipe has no writer left (EOF)");
	close(keep);

	/* poll: the write works, the blocked poll holding the only reader */
	MUST(pipe(p));
	keep = p[1];
	MUST(pthread_create(&t, NULL, poller, NULL));
	wait_for_call();
	MUST(close(p[0]));
	sleep_ms(10);
	MUST(write(keep, "p", 1) != 1);
	MUST(pthread_join(t, NULL));
	CHECK(got == 1 && pf.revents == POLLNVAL,
	      "a poll blocked when its fd was closed wakes at the old file's event: POLLNVAL");
	close(keep);
	CHECK(count_dir_entries("/proc/self/fd") == fds, "no fd is left over");

	/* A signal. */
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGUSR1, &sa, NULL));
	MUST(pipe(p));
	MUST(pthread_create(&t, NULL, reader, NULL));
	wait_for_call();
	MUST(pthread_kill(t, SIGUSR1));
	MUST(pthread_join(t, NULL));
	CHECK(got == -1 && err == EINTR, "a signal without SA_RESTART ended the read with EINTR");

	atomic_store(&stop, 1);
	MUST(pthread_join(tick, NULL));
	return check_done();
}
