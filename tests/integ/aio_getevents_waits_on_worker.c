/* Hazard: io_getevents waits in the kernel for AIO completions; libaio
 * calls it through syscall(), and MariaDB's InnoDB waits so in a thread of
 * its own. When what completes the request is another thread of the
 * process (here an IOCB_CMD_POLL on a pipe that another thread writes), a
 * wait that blocks the OS thread never lets that thread run (a hang).
 *   - syscall(SYS_io_getevents, min_nr 1) waits for a poll request that
 *     completes when another thread writes the pipe 30 ms later; a ticker
 *     thread runs meanwhile;
 *   - the same through libaio's io_getevents (libaio1, loaded with
 *     dlopen);
 *   - completions already there come back at once; a timeout of 30 ms with
 *     nothing completing gives 0; a handler ends the wait with EINTR;
 *     EINVAL for a bad context; EFAULT for an unreadable timeout;
 *   - liburing's io_uring_queue_init either makes a ring (natively) or
 *     answers -ENOSYS (under greenify, which refuses rings whose waits it
 *     cannot see; stderr says which). */
/* expect-stderr-preload: io_uring_queue_init: -ENOSYS */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <linux/aio_abi.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

static atomic_int ticks, stop, handled;

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		sleep_ms(1);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

struct later {
	int fd;
	int ms;
};

static void *write_later(void *arg)
{
	struct later *l = arg;

	sleep_ms(l->ms);
	MUST(write(l->fd, "x", 1) == 1 ? 0 : -1);
	return NULL;
}

static void submit_poll(aio_context_t ctx, int fd, struct iocb *cb)
{
	struct iocb *list[1] = {cb};

	memset(cb, 0, sizeof(*cb));
	cb->aio_lio_opcode = IOCB_CMD_POLL;
	cb->aio_fildes = (unsigned)fd;
	cb->aio_buf = POLLIN;
	cb->aio_data = 42;
	MUST(syscall(SYS_io_submit, ctx, 1, list) == 1 ? 0 : -1);
}

typedef int (*libaio_getevents)(aio_context_t, long, long, struct io_event *, struct timespec *);

static void on_usr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&handled, 1);
}

static void *kick_later(void *arg)
{
	sleep_ms(30);
	MUST(pthread_kill(*(pthread_t *)arg, SIGUSR1));
	return NULL;
}

static void drain_pipe(int fd)
{
	char c;

	MUST(read(fd, &c, 1) == 1 ? 0 : -1);
}

static void aio(void)
{
	aio_context_t ctx = 0;
	struct io_event ev[2];
	struct iocb cb;
	struct later l;
	struct timespec t30 = {0, 30 * 1000000};
	struct sigaction sa = {.sa_handler = on_usr1};
	pthread_t t, self = pthread_self();
	void *h;
	libaio_getevents ge;
	int p[2], t0;

	MUST(pipe(p));
	MUST(syscall(SYS_io_setup, 8, &ctx) == 0 ? 0 : -1);

	submit_poll(ctx, p[0], &cb);
	l = (struct later){p[1], 30};
	t0 = atomic_load(&ticks);
	MUST(pthread_create(&t, NULL, write_later, &l));
	CHECK(syscall(SYS_io_getevents, ctx, 1, 2, ev, NULL) == 1 && ev[0].data == 42,
	      "syscall(io_getevents) waits for the completion another thread causes");
	CHECK(atomic_load(&ticks) > t0, "the ticker ran meanwhile");
	MUST(pthread_join(t, NULL));
	drain_pipe(p[0]);

	h = dlopen("libaio.so.1", RTLD_NOW);
	ge = h ? (libaio_getevents)dlsym(h, "io_getevents") : NULL;
	if (CHECK(ge != NULL, "libaio's io_getevents is there (libaio1)")) {
		submit_poll(ctx, p[0], &cb);
		MUST(pthread_create(&t, NULL, write_later, &l));
		CHECK(ge(ctx, 1, 2, ev, NULL) == 1 && ev[0].data == 42,
		      "libaio's io_getevents waits likewise");
		MUST(pthread_join(t, NULL));
		drain_pipe(p[0]);
	}

	MUST(write(p[1], "x", 1) == 1 ? 0 : -1);
	submit_poll(ctx, p[0], &cb);
	sleep_ms(5);
	CHECK(syscall(SYS_io_getevents, ctx, 1, 2, ev, NULL) == 1, "a completion already there");
	drain_pipe(p[0]);

	int64_t t1 = mono_ns();
	CHECK(syscall(SYS_io_getevents, ctx, 1, 2, ev, &t30) == 0,
	      "30 ms with nothing completing: 0 events");
	CHECK(mono_ns() - t1 >= MS(25), "after about 30 ms");

	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGUSR1, &sa, NULL));
	submit_poll(ctx, p[0], &cb);
	MUST(pthread_create(&t, NULL, kick_later, &self));
	CHECK_ERR(syscall(SYS_io_getevents, ctx, 1, 2, ev, NULL) == -1 ? errno : 0, EINTR,
		  "io_getevents and a handler");
	MUST(pthread_join(t, NULL));
	CHECK(atomic_load(&handled) == 1, "the handler ran");
	CHECK_ERR(syscall(SYS_io_getevents, (aio_context_t)12345, 1, 2, ev, NULL) == -1 ? errno : 0,
		  EINVAL, "io_getevents on a bad context");
	CHECK_ERR(syscall(SYS_io_getevents, ctx, 1, 2, ev, (struct timespec *)8) == -1 ? errno : 0,
		  EFAULT, "io_getevents with an unreadable timeout");
	/* The poll request still pending completes when written. */
	MUST(write(p[1], "x", 1) == 1 ? 0 : -1);
	CHECK(syscall(SYS_io_getevents, ctx, 1, 2, ev, NULL) == 1,
	      "the interrupted wait's request completes later");
	MUST(syscall(SYS_io_destroy, ctx));
	close(p[0]);
	close(p[1]);
}

static void uring(void)
{
	void *h = dlopen("liburing.so.2", RTLD_NOW);
	int (*init)(unsigned, void *, unsigned) = h ? (int (*)(unsigned, void *, unsigned))dlsym(
								    h, "io_uring_queue_init")
						    : NULL;
	void (*exit_ring)(void *) = h ? (void (*)(void *))dlsym(h, "io_uring_queue_exit") : NULL;
	static char ring[4096];

	if (!CHECK(init != NULL, "liburing's io_uring_queue_init is there (liburing2)"))
		return;
	int r = init(8, ring, 0);
	fprintf(stderr, "io_uring_queue_init: %s\n", r == 0 ? "0" : r == -ENOSYS ? "-ENOSYS" : "?");
	CHECK(r == 0 || r == -ENOSYS, "io_uring_queue_init makes a ring or answers -ENOSYS");
	if (r == 0 && exit_ring)
		exit_ring(ring);
}

int main(void)
{
	pthread_t tick;

	MUST(pthread_create(&tick, NULL, ticker, NULL));
	aio();
	uring();
	atomic_store(&stop, 1);
	MUST(pthread_join(tick, NULL));
	return check_done();
}
