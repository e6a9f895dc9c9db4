/* Hazard: a signal handler that leaves with siglongjmp out of a call the
 * preload runs on a worker thread (flock, and fcntl(F_OFD_SETLKW), a
 * cancellation point, each waiting for a lock another thread holds). The
 * call's job lives in frames the jump abandons: the worker must be out of
 * the call before the handler runs, as the kernel has stopped a call when
 * it runs one, or it would write into stack the thread reuses at once.
 *   - the jump lands, the call took nothing (a third open gets the lock
 *     once the holder let go), and the stack the thread filled right after
 *     the jump is still as it left it once the holder let go;
 *   - the thread then waits in the same call again and gets the lock; a
 *     second thread keeps running meanwhile;
 *   - errno after the jump is what the handler left. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include "check.h"

static char path[64];
static sigjmp_buf env;
static atomic_int ticks, stop, released, release_now, calling, handled;

static void on_usr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&handled, 1);
	errno = 4321;
	siglongjmp(env, 1);
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

static int open_file(void)
{
	int fd = open(path, O_RDWR);

	if (fd < 0) {
		perror("open");
		exit(2);
	}
	return fd;
}

static void lock(int fd, int ofd, short type, int wait)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET};

	if (ofd)
		MUST(fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl));
	else
		MUST(flock(fd, type == F_UNLCK ? LOCK_UN : LOCK_EX | (wait ? 0 : LOCK_NB)));
}

static void *hold(void *arg)
{
	const int *h = arg; /* fd, ofd */

	while (!atomic_load(&release_now))
		sleep_ms(1);
	atomic_store(&released, 1);
	lock(h[0], h[1], F_UNLCK, 0);
	return NULL;
}

struct waiter {
	int fd, ofd;
	int jumped, err;
	int stack_kept;
	int got_again;
};

#define FILL 32768

/* Fills a stretch of this thread's stack below the caller, where the
 * abandoned call's frames were, and checks it once the holder let go. */
static __attribute__((noinline)) int fill_and_check(void)
{
	volatile unsigned char buf[FILL];
	int ok = 1;

	for (int i = 0; i < FILL; i++)
		buf[i] = (unsigned char)(i * 7 + 1);
	while (!atomic_load(&released))
		sleep_ms(1);
	sleep_ms(50); /* a worker still in the call would be done by now */
	for (int i = 0; i < FILL; i++)
		ok &= buf[i] == (unsigned char)(i * 7 + 1);
	return ok;
}

static void *wait_lock(void *arg)
{
	struct waiter *w = arg;
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};

	if (sigsetjmp(env, 1) == 0) {
		atomic_store(&calling, 1);
		if (w->ofd)
			fcntl(w->fd, F_OFD_SETLKW, &fl);
		else
			flock(w->fd, LOCK_EX);
		return NULL; /* the jump never came */
	}
	w->err = errno;
	w->jumped = 1;
	w->stack_kept = fill_and_check();
	/* The same wait again, now free. */
	if (w->ofd)
		w->got_again = fcntl(w->fd, F_OFD_SETLKW, &fl) == 0;
	else
		w->got_again = flock(w->fd, LOCK_EX) == 0;
	lock(w->fd, w->ofd, F_UNLCK, 0);
	return NULL;
}

static void jump_out(int ofd)
{
	const char *what = ofd ? "F_OFD_SETLKW" : "flock";
	int a = open_file(), c = open_file();
	int h[2] = {a, ofd};
	struct waiter w = {.fd = open_file(), .ofd = ofd};
	pthread_t th, tw;
	int t0;

	lock(a, ofd, F_WRLCK, 0);
	atomic_store(&released, 0);
	atomic_store(&release_now, 0);
	atomic_store(&calling, 0);
	atomic_store(&handled, 0);
	MUST(pthread_create(&th, NULL, hold, h));
	MUST(pthread_create(&tw, NULL, wait_lock, &w));
	while (!atomic_load(&calling))
		sleep_ms(1);
	sleep_ms(50); /* in its wait now */
	t0 = atomic_load(&ticks);
	MUST(pthread_kill(tw, SIGUSR1));
	while (atomic_load(&handled) == 0)
		sleep_ms(1);
	sleep_ms(20);
	/* The holder still holds it: c cannot have it. */
	{
		struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
		int busy = ofd ? fcntl(c, F_OFD_SETLK, &fl) == -1 : flock(c, LOCK_EX | LOCK_NB) == -1;
		CHECK(busy, "%s: still held by the holder", what);
	}
	atomic_store(&release_now, 1);
	MUST(pthread_join(th, NULL));
	/* Free now: the interrupted call did not take it behind our back. */
	{
		struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
		int got = ofd ? fcntl(c, F_OFD_SETLK, &fl) == 0 : flock(c, LOCK_EX | LOCK_NB) == 0;
		CHECK(got, "%s: the interrupted call took nothing", what);
		lock(c, ofd, F_UNLCK, 0);
	}
	MUST(pthread_join(tw, NULL));
	CHECK(w.jumped, "%s: siglongjmp out of the handler landed", what);
	CHECK(w.err == 4321, "%s: errno is what the handler left", what);
	CHECK(w.stack_kept, "%s: the stack reused after the jump stayed as written", what);
	CHECK(w.got_again, "%s: the same wait again gets the lock", what);
	CHECK(atomic_load(&ticks) - t0 >= 10, "%s: the ticker ran meanwhile", what);
	close(a);
	close(c);
	close(w.fd);
}

int main(void)
{
	struct sigaction sa = {.sa_handler = on_usr1};
	pthread_t tick;
	int fd;

	snprintf(path, sizeof(path), "/tmp/greenify-jmp-lock-%d", (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		perror("open");
		return 2;
	}
	close(fd);
	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGUSR1, &sa, NULL));
	MUST(pthread_create(&tick, NULL, ticker, NULL));
	for (int round = 0; round < 2; round++) {
		jump_out(0);
		jump_out(1);
	}
	atomic_store(&stop, 1);
	MUST(pthread_join(tick, NULL));
	unlink(path);
	return check_done();
}
