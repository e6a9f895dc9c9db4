/* Hazard: an end of a splice closed or replaced (dup2) by another thread
 * while the splice waits on it. Linux keeps the blocked call on the file
 * it started with: a splice waiting for data in its input pipe goes on
 * and moves what is written next into that pipe (through another fd of
 * it), also into a socket; one waiting for room in its output pipe goes
 * on and moves its data once the pipe is drained. Meanwhile the number is
 * free (a new pipe gets it at once and works on its own), a number that
 * dup2 replaced names the new file, and afterwards nothing is left of the
 * old file (the pipe sees EOF, the process holds no more fds than before).
 * A ticker thread runs during every wait. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

static atomic_int ticks, stop;
static int in_fd, out_fd;
static size_t want;
static ssize_t got;
static int err;

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		sleep_ms(1);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

/* The waiter is about to make its call: then it has 100 ms to be blocked
 * in it (its start, the slow part on a loaded machine, is not counted). */
static atomic_int entering;

static void about_to_call(void)
{
	atomic_store(&entering, 1);
}

static void wait_until_blocked(void)
{
	while (!atomic_load(&entering))
		sleep_ms(1);
	atomic_store(&entering, 0);
	sleep_ms(100);
}

static void *splicer(void *arg)
{
	(void)arg;
	about_to_call();
	got = splice(in_fd, NULL, out_fd, NULL, want, 0);
	err = got < 0 ? errno : 0;
	return NULL;
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

/* Reads exactly n bytes from fd into buf. */
static void read_all(int fd, char *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = read(fd, buf + done, n - done);
		MUST(r <= 0);
		done += (size_t)r;
	}
}

/* The splice waits for its input: the input's number is closed (how 0),
 * or replaced by dup2 (1), and the data comes through another fd of the
 * input pipe. to_socket: the output is a socket (which the splice feeds
 * from a worker), else a pipe. */
static void input_goes_away(int how, int to_socket)
{
	int a[2], b[2], other[2], keep, number, t0;
	char buf[16] = {0};
	pthread_t t;
	const char *what = how ? "dup2 replaced" : "close closed";
	const char *into = to_socket ? "a socket" : "a pipe";

	MUST(pipe(a));
	if (to_socket)
		MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, b));
	else
		MUST(pipe(b));
	keep = a[1];
	number = a[0];
	in_fd = a[0];
	out_fd = b[1];
	want = 16;
	MUST(pthread_create(&t, NULL, splicer, NULL));
	wait_until_blocked();
	t0 = atomic_load(&ticks);
	if (how) {
		MUST(pipe(other));
		MUST(dup2(other[0], number) < 0);
		MUST(write(other[1], "o", 1) != 1); /* into the file the number names now */
	} else {
		MUST(close(number));
		reuse_works(number);
	}
	sleep_ms(20);
	wait_above(&ticks, t0); /* a crowded CPU may not have run the ticker natively in 20 ms */
	MUST(write(keep, "hello", 5) != 5);
	MUST(pthread_join(t, NULL));
	CHECK(got == 5, "a splice into %s whose input fd %s goes on with its pipe: %zd (%s)", into,
	      what, got, got < 0 ? errname(err) : "-");
	if (got == 5) {
		read_all(b[0], buf, 5);
		CHECK(memcmp(buf, "hello", 5) == 0, "and moved the data written into that pipe");
	}
	CHECK(atomic_load(&ticks) > t0, "another thread ran meanwhile");
	if (how) {
		char c = 0;
		CHECK(read(number, &c, 1) == 1 && c == 'o', "the number reads the new file");
		close(number);
		close(other[0]);
		close(other[1]);
	} else {
		/* The splice's hold on the input is gone with it: the pipe has
		 * no reader left. */
		signal(SIGPIPE, SIG_IGN);
		CHECK(write(keep, "x", 1) == -1 && errno == EPIPE,
		      "then the input pipe has no reader left (EPIPE)");
		signal(SIGPIPE, SIG_DFL);
	}
	close(keep);
	close(b[0]);
	close(b[1]);
}

/* The splice waits for room in its output pipe, whose number is closed;
 * the pipe is drained through its read end. */
static void output_goes_away(void)
{
	static char fill[4096], sink[sizeof(fill) + 4];
	int a[2], b[2], t0;
	pthread_t t;
	char c;

	MUST(pipe(a));
	MUST(pipe(b));
	MUST(fcntl(b[1], F_SETPIPE_SZ, 4096) < 0);
	memset(fill, 'f', sizeof(fill));
	MUST(write(b[1], fill, sizeof(fill)) != (ssize_t)sizeof(fill));
	MUST(write(a[1], "tail", 4) != 4);
	in_fd = a[0];
	out_fd = b[1];
	want = 4;
	MUST(pthread_create(&t, NULL, splicer, NULL));
	wait_until_blocked();
	t0 = atomic_load(&ticks);
	MUST(close(b[1]));
	reuse_works(b[1]);
	sleep_ms(20);
	wait_above(&ticks, t0); /* a crowded CPU may not have run the ticker natively in 20 ms */
	read_all(b[0], sink, sizeof(fill));
	MUST(pthread_join(t, NULL));
	CHECK(got == 4, "a splice whose output fd was closed goes on as its pipe drains: %zd (%s)",
	      got, got < 0 ? errname(err) : "-");
	if (got == 4) {
		read_all(b[0], sink, 4);
		CHECK(memcmp(sink, "tail", 4) == 0, "and its data comes out of that pipe");
	}
	CHECK(atomic_load(&ticks) > t0, "another thread ran meanwhile");
	CHECK(read(b[0], &c, 1) == 0, "then the output pipe has no writer left (EOF)");
	close(a[0]);
	close(a[1]);
	close(b[0]);
}

int main(void)
{
	pthread_t tick;
	int fds;

	alarm(20);
	MUST(pthread_create(&tick, NULL, ticker, NULL));
	fds = count_dir_entries("/proc/self/fd");
	for (int how = 0; how < 2; how++)
		for (int sock = 0; sock < 2; sock++)
			input_goes_away(how, sock);
	output_goes_away();
	CHECK(count_dir_entries("/proc/self/fd") == fds, "no fd is left over");
	atomic_store(&stop, 1);
	MUST(pthread_join(tick, NULL));
	return check_done();
}
