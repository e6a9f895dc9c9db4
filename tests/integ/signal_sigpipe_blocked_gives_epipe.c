/* Hazard: the kernel raises SIGPIPE (a write to a pipe or socket whose
 * reader is gone) and SIGXFSZ (a write past RLIMIT_FSIZE) for the thread
 * that made the call: that thread's mask decides, whatever the others do.
 *   - A thread that blocks SIGPIPE writes to a closed pipe while main does
 *     not block it and has no handler (default: terminate): the write gets
 *     EPIPE, the process lives, and the signal is pending for the writer
 *     only, also after main has run meanwhile; the writer takes it with
 *     sigtimedwait. Same for send() on a socket whose peer is closed, and
 *     for SIGXFSZ (EFBIG). MSG_NOSIGNAL raises nothing.
 *   - With a handler installed, a thread that does not block SIGPIPE runs
 *     it itself (not main), and its write gets EPIPE after.
 *   - A pending SIGPIPE of a thread that then unblocks it runs the handler
 *     in that thread, before pthread_sigmask returns.
 *   - kill() of the process's own SIGPIPE is the process's: pending while
 *     main (alone by then) blocks it, handled by main once unblocked. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

static pthread_t main_thread;
static atomic_int ticks, stop;
static volatile pthread_t handled_by;
static atomic_int handled;

static void on_pipe(int sig)
{
	(void)sig;
	handled_by = pthread_self();
	atomic_fetch_add(&handled, 1);
}

static int pending(int sig)
{
	sigset_t p;

	sigpending(&p);
	return sigismember(&p, sig);
}

static void block(int how, int sig)
{
	sigset_t m;

	sigemptyset(&m);
	sigaddset(&m, sig);
	pthread_sigmask(how, &m, NULL);
}

static int take(int sig)
{
	sigset_t m;
	struct timespec zero = {0, 0};

	sigemptyset(&m);
	sigaddset(&m, sig);
	return sigtimedwait(&m, NULL, &zero);
}

/* A pipe whose reader is closed. */
static int broken_pipe(void)
{
	int p[2];

	MUST(pipe(p));
	close(p[0]);
	return p[1];
}

static atomic_int main_pending_seen;

static void *writer_blocking(void *arg)
{
	int fd = broken_pipe(), sv[2];

	(void)arg;
	block(SIG_BLOCK, SIGPIPE);
	errno = 0;
	CHECK(write(fd, "x", 1) == -1 && errno == EPIPE, "blocked: write to a closed pipe -> EPIPE");
	CHECK(pending(SIGPIPE), "blocked: SIGPIPE is pending for the writer");
	int t0 = atomic_load(&ticks);
	while (atomic_load(&ticks) < t0 + 5)
		sleep_ms(2); /* main runs, not blocking SIGPIPE */
	CHECK(pending(SIGPIPE), "still pending for the writer after main ran");
	CHECK(take(SIGPIPE) == SIGPIPE, "the writer takes it with sigtimedwait");
	CHECK(!pending(SIGPIPE), "then nothing is pending");
	close(fd);

	MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	close(sv[1]);
	errno = 0;
	CHECK(send(sv[0], "x", 1, MSG_NOSIGNAL) == -1 && errno == EPIPE,
	      "send MSG_NOSIGNAL to a closed peer -> EPIPE");
	CHECK(!pending(SIGPIPE), "and raises nothing");
	errno = 0;
	CHECK(send(sv[0], "x", 1, 0) == -1 && errno == EPIPE, "send to a closed peer -> EPIPE");
	CHECK(take(SIGPIPE) == SIGPIPE, "and SIGPIPE is the sender's");
	close(sv[0]);

	struct rlimit lim = {4096, RLIM_INFINITY}, saved;
	char path[64], buf[8192] = {0};
	snprintf(path, sizeof path, "/tmp/greenify-xfsz-%d", (int)getpid());
	int f = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	MUST(f >= 0 ? 0 : -1);
	unlink(path);
	MUST(getrlimit(RLIMIT_FSIZE, &saved));
	block(SIG_BLOCK, SIGXFSZ);
	MUST(setrlimit(RLIMIT_FSIZE, &lim));
	CHECK(write(f, buf, sizeof buf) == 4096, "a write across RLIMIT_FSIZE writes up to it");
	errno = 0;
	CHECK(write(f, buf, 1) == -1 && errno == EFBIG, "the next -> EFBIG");
	MUST(setrlimit(RLIMIT_FSIZE, &saved));
	CHECK(take(SIGXFSZ) == SIGXFSZ, "SIGXFSZ is pending for the writer");
	close(f);
	atomic_store(&main_pending_seen, 1);
	return NULL;
}

static void *writer_with_handler(void *arg)
{
	int fd = broken_pipe();

	(void)arg;
	errno = 0;
	CHECK(write(fd, "x", 1) == -1 && errno == EPIPE, "with a handler: write -> EPIPE");
	CHECK(atomic_load(&handled) == 1 && pthread_equal(handled_by, pthread_self()),
	      "the handler ran in the writing thread, before write returned");

	block(SIG_BLOCK, SIGPIPE);
	CHECK(write(fd, "x", 1) == -1 && errno == EPIPE, "blocked with a handler: EPIPE");
	CHECK(atomic_load(&handled) == 1, "the handler waits while the writer blocks it");
	block(SIG_UNBLOCK, SIGPIPE);
	CHECK(atomic_load(&handled) == 2 && pthread_equal(handled_by, pthread_self()),
	      "unblocking runs it in the writer, before pthread_sigmask returns");
	close(fd);
	return NULL;
}

static void *ticker(void *arg)
{
	while (!atomic_load(&stop)) {
		sleep_ms(1);
		atomic_fetch_add(&ticks, 1);
	}
	return arg;
}

int main(void)
{
	struct sigaction sa = {.sa_handler = on_pipe};
	pthread_t t, tk;

	main_thread = pthread_self();
	MUST(pthread_create(&tk, NULL, ticker, NULL));
	MUST(pthread_create(&t, NULL, writer_blocking, NULL));
	while (!atomic_load(&main_pending_seen)) {
		sleep_ms(1);
		if (pending(SIGPIPE) || pending(SIGXFSZ))
			break;
	}
	MUST(pthread_join(t, NULL));
	CHECK(!pending(SIGPIPE) && !pending(SIGXFSZ), "main never saw the writer's signals");

	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGPIPE, &sa, NULL));
	MUST(pthread_create(&t, NULL, writer_with_handler, NULL));
	MUST(pthread_join(t, NULL));

	atomic_store(&stop, 1);
	MUST(pthread_join(tk, NULL)); /* main alone: it is the one to take it */
	handled_by = 0;
	block(SIG_BLOCK, SIGPIPE);
	MUST(kill(getpid(), SIGPIPE));
	CHECK(pending(SIGPIPE), "kill() of our own SIGPIPE: pending for the process");
	block(SIG_UNBLOCK, SIGPIPE);
	CHECK(atomic_load(&handled) == 3 && pthread_equal(handled_by, main_thread),
	      "main takes it");
	return check_done();
}
