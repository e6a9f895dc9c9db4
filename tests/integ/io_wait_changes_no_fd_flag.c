/* Hazard: waiting on an fd must not change its flags, not even for a
 * moment: the open file description is shared with other processes,
 * which would see O_NONBLOCK (and get EAGAIN) meanwhile. A child process
 * keeps sampling F_GETFL of 200 pipes it shares with its parent, whose
 * threads wait on each of them for the first time, on the write side too,
 * and with poll; it must never see O_NONBLOCK. Inside the process, the
 * flags of an fd are looked at while a thread waits on it: a pipe, a
 * socket, a listener in accept, a unix socket in connect waiting for a
 * full backlog; and are the program's own after each wait. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define NPIPES 200

static int pipes[NPIPES][2];
static atomic_int waiting_on = -1, flags_during_wait;
/* Shared with the child: the pipe a thread is about to wait on. */
static volatile int *shared_at;

static int nonblocking(int fd)
{
	return (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0;
}

/* Reads each pipe once; every read has to wait (odd ones through poll). */
static void *reader(void *arg)
{
	char c;

	(void)arg;
	for (int i = 0; i < NPIPES; i++) {
		atomic_store(&waiting_on, i);
		*shared_at = i;
		if (i % 2) {
			struct pollfd p = {.fd = pipes[i][0], .events = POLLIN};
			if (poll(&p, 1, 10000) != 1)
				abort();
		}
		if (read(pipes[i][0], &c, 1) != 1)
			abort();
	}
	return NULL;
}

/* Writes each pipe once the reader waits on it, checking its flags then. */
static void *writer(void *arg)
{
	(void)arg;
	for (int i = 0; i < NPIPES; i++) {
		while (atomic_load(&waiting_on) != i)
			sleep_ms(1);
		sleep_ms(1);
		if (nonblocking(pipes[i][0]))
			atomic_fetch_add(&flags_during_wait, 1);
		if (write(pipes[i][1], "w", 1) != 1)
			abort();
	}
	return NULL;
}

/* In the child: samples the pipe the parent is about to wait on (a flag
 * changed for a moment shows in a tight loop), and now and then all of
 * them, until told to stop; exits with how many times it saw O_NONBLOCK
 * (at most 100). */
static int sample(int ready_fd, int stop_fd)
{
	int seen = 0;
	char c;

	if (write(ready_fd, "r", 1) != 1)
		return 100;
	for (;;) {
		for (int k = 0; k < 10000; k++) {
			int i = *shared_at;
			if (i >= 0)
				seen += nonblocking(pipes[i][0]) + nonblocking(pipes[i][1]);
		}
		for (int i = 0; i < NPIPES; i++)
			seen += nonblocking(pipes[i][0]) + nonblocking(pipes[i][1]);
		if (read(stop_fd, &c, 1) == 1)
			break;
	}
	return seen > 100 ? 100 : seen;
}

static int wfd;

static void *fill_and_write(void *arg)
{
	static char big[65536 * 2];

	(void)arg;
	return (void *)(intptr_t)(write(wfd, big, sizeof(big)) == sizeof(big));
}

static int sfd;
static struct sockaddr_un addr = {.sun_family = AF_UNIX, .sun_path = "\0greenify-noflag"};

static void *connect_full(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)(connect(sfd, (struct sockaddr *)&addr, sizeof(addr)) == 0);
}

int main(void)
{
	int ready[2], stop[2], st;
	pthread_t r, w, t;
	void *ok;
	char c;

	alarm(60);
	shared_at = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	MUST(shared_at == MAP_FAILED);
	*shared_at = -1;
	for (int i = 0; i < NPIPES; i++)
		MUST(pipe(pipes[i]));
	MUST(pipe(ready));
	MUST(pipe2(stop, O_NONBLOCK));
	pid_t pid = fork();
	if (pid == 0)
		_exit(sample(ready[1], stop[0]));
	MUST(read(ready[0], &c, 1) != 1);
	MUST(pthread_create(&r, NULL, reader, NULL));
	MUST(pthread_create(&w, NULL, writer, NULL));
	MUST(pthread_join(r, NULL));
	MUST(pthread_join(w, NULL));
	/* The write side waits too: a pipe filled, written on, drained. */
	for (int i = 0; i < NPIPES; i += 20) {
		wfd = pipes[i][1];
		*shared_at = i;
		MUST(pthread_create(&t, NULL, fill_and_write, NULL));
		sleep_ms(5);
		if (nonblocking(pipes[i][1]))
			atomic_fetch_add(&flags_during_wait, 1);
		static char sink[65536 * 2 + 1];
		size_t got = 0;
		while (got < 65536 * 2) {
			ssize_t n = read(pipes[i][0], sink, sizeof(sink));
			MUST(n <= 0);
			got += (size_t)n;
		}
		MUST(pthread_join(t, &ok));
		MUST(ok == NULL);
	}
	MUST(write(stop[1], "s", 1) != 1);
	MUST(waitpid(pid, &st, 0) != pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "a process sharing the pipes never saw O_NONBLOCK while threads waited");
	if (WIFEXITED(st) && WEXITSTATUS(st))
		fprintf(stderr, "the child saw O_NONBLOCK %d times\n", WEXITSTATUS(st));
	CHECK(atomic_load(&flags_during_wait) == 0, "no pipe was non-blocking during a wait");
	int still = 0;
	for (int i = 0; i < NPIPES; i++)
		still += nonblocking(pipes[i][0]) + nonblocking(pipes[i][1]);
	CHECK(still == 0, "and none is after");

	/* A listener in accept, a unix socket in connect (backlog full). */
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	MUST(bind(l, (struct sockaddr *)&addr, sizeof(addr)));
	MUST(listen(l, 0)); /* takes one connection, then is full */
	int q = socket(AF_UNIX, SOCK_STREAM, 0);
	MUST(connect(q, (struct sockaddr *)&addr, sizeof(addr)));
	sfd = socket(AF_UNIX, SOCK_STREAM, 0);
	MUST(pthread_create(&t, NULL, connect_full, NULL));
	sleep_ms(30);
	CHECK(!nonblocking(sfd), "a socket is not non-blocking while connect waits for room");
	for (int i = 0; i < 2; i++) {
		int a = accept(l, NULL, NULL);
		MUST(a < 0);
		close(a);
	}
	MUST(pthread_join(t, &ok));
	CHECK(ok != NULL && !nonblocking(sfd), "connect then succeeds, the socket still blocking");
	return check_done();
}
