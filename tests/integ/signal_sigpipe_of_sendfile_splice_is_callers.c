/* Hazard: sendfile and splice into a blocking socket whose peer is gone
 * fail with EPIPE and raise SIGPIPE for the calling thread. Under the
 * preload such a call runs on a worker thread, which the kernel then
 * raises the signal for: it must still be the caller's, or it is lost (a
 * program with the default action would live on, one with a handler would
 * never see it).
 *   - with a handler: EPIPE, and the handler ran once, in the calling
 *     thread, before the call returned;
 *   - blocked in the calling thread: EPIPE, and SIGPIPE pending for that
 *     thread, which takes it with sigtimedwait;
 *   - the default action: a child process whose thread does it dies of
 *     SIGPIPE.
 * A second thread keeps running meanwhile. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static atomic_int handled, ticks, stop;
static volatile pthread_t handled_by;
static char path[64];

static void on_pipe(int sig)
{
	(void)sig;
	handled_by = pthread_self();
	atomic_fetch_add(&handled, 1);
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

/* A blocking stream socket whose peer is closed. */
static int broken_socket(void)
{
	int sv[2];

	MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	close(sv[1]);
	return sv[0];
}

enum { SENDFILE, SPLICE };
static const char *const names[] = {"sendfile", "splice"};

/* One call into a broken socket: -1 and errno, as the call gives them. */
static int call(int op, int *err)
{
	int s = broken_socket(), r;

	if (op == SENDFILE) {
		int f = open(path, O_RDONLY);
		if (f < 0)
			exit(2);
		r = (int)sendfile(s, f, NULL, 100);
		*err = errno;
		close(f);
	} else {
		int p[2];
		MUST(pipe(p));
		if (write(p[1], "data", 4) != 4)
			exit(2);
		r = (int)splice(p[0], NULL, s, NULL, 4, 0);
		*err = errno;
		close(p[0]);
		close(p[1]);
	}
	close(s);
	return r;
}

static void *with_handler(void *arg)
{
	int op = *(int *)arg, err = 0;
	int r = call(op, &err);

	CHECK(r == -1 && err == EPIPE, "%s, handler: EPIPE", names[op]);
	CHECK(atomic_load(&handled) == 1 && pthread_equal(handled_by, pthread_self()),
	      "%s, handler: ran once, in the calling thread, before the call returned", names[op]);
	return NULL;
}

static void *blocking(void *arg)
{
	int op = *(int *)arg, err = 0;
	sigset_t m, p;
	struct timespec zero = {0, 0};

	sigemptyset(&m);
	sigaddset(&m, SIGPIPE);
	MUST(pthread_sigmask(SIG_BLOCK, &m, NULL));
	int r = call(op, &err);
	CHECK(r == -1 && err == EPIPE, "%s, blocked: EPIPE", names[op]);
	sigpending(&p);
	CHECK(sigismember(&p, SIGPIPE), "%s, blocked: SIGPIPE pending for the caller", names[op]);
	CHECK(sigtimedwait(&m, NULL, &zero) == SIGPIPE, "%s, blocked: the caller takes it",
	      names[op]);
	CHECK(atomic_load(&handled) == 0, "%s, blocked: no handler ran", names[op]);
	return NULL;
}

static void *dying(void *arg)
{
	int err;

	call(*(int *)arg, &err);
	return NULL;
}

int main(void)
{
	struct sigaction sa = {.sa_handler = on_pipe};
	pthread_t tick, t;
	int fd;

	snprintf(path, sizeof(path), "/tmp/greenify-sigpipe-%d", (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, "0123456789", 10) != 10) {
		perror(path);
		return 2;
	}
	close(fd);
	MUST(pthread_create(&tick, NULL, ticker, NULL));
	for (int op = SENDFILE; op <= SPLICE; op++) {
		int t0 = atomic_load(&ticks);

		/* The default action, in a child: it dies of SIGPIPE. */
		pid_t pid = fork();
		if (pid == 0) {
			MUST(pthread_create(&t, NULL, dying, &op));
			pthread_join(t, NULL);
			_exit(0);
		}
		int status = 0;
		CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) &&
			      WTERMSIG(status) == SIGPIPE,
		      "%s, default action: the process dies of SIGPIPE", names[op]);

		sigemptyset(&sa.sa_mask);
		MUST(sigaction(SIGPIPE, &sa, NULL));
		atomic_store(&handled, 0);
		MUST(pthread_create(&t, NULL, with_handler, &op));
		MUST(pthread_join(t, NULL));

		atomic_store(&handled, 0);
		MUST(pthread_create(&t, NULL, blocking, &op));
		MUST(pthread_join(t, NULL));
		signal(SIGPIPE, SIG_DFL);
		sleep_ms(20);
		fprintf(stderr, "%s: %d ticks\n", names[op], atomic_load(&ticks) - t0);
		CHECK(atomic_load(&ticks) > t0, "%s: the ticker ran meanwhile", names[op]);
	}
	atomic_store(&stop, 1);
	MUST(pthread_join(tick, NULL));
	unlink(path);
	return check_done();
}
