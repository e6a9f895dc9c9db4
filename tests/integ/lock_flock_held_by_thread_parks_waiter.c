/* Hazard: flock and fcntl(F_OFD_SETLKW) wait in the kernel for a lock held
 * through another open file description, here by another thread of this
 * process: called from a green thread, the wait must park only that
 * thread, or the holder never runs to release it (the program hangs). A
 * ticker thread counts milliseconds meanwhile.
 *   - flock(LOCK_EX) while a thread holds LOCK_EX on another open of the
 *     file: returns 0 only after the holder released, the ticker ran;
 *   - F_OFD_SETLKW the same way (OFD locks conflict within a process);
 *   - a handler without SA_RESTART ends the flock wait with EINTR, and the
 *     lock was not taken behind the program's back (once the holder
 *     releases, a third open gets it with LOCK_NB); with SA_RESTART the
 *     wait goes on after the handler and gets the lock;
 *   - pthread_cancel of a thread waiting in F_OFD_SETLKW (a cancellation
 *     point) cancels it without the lock; of one waiting in flock (glibc's
 *     flock is no cancellation point) lets it take the lock, and it is
 *     cancelled at its next cancellation point;
 *   - errors as libc's: EBADF, EINVAL (a bad operation, a bad l_type),
 *     EWOULDBLOCK for LOCK_NB, EAGAIN for F_OFD_SETLK;
 *   - a held lock does not hold back other blocking calls on workers: while
 *     four threads wait for flocks, getpwuid(0) still answers. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include "check.h"

static char path[64];
static atomic_int ticks, stop, released, handled;

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

/* Holds LOCK_EX on its own open for ms milliseconds. */
struct holder {
	int fd;
	int ms;
	int ofd;	   /* an OFD lock instead of flock */
	atomic_int *until; /* or NULL: hold until it is set, ms at most */
};

static void *hold(void *arg)
{
	struct holder *h = arg;
	struct flock fl = {.l_type = F_UNLCK, .l_whence = SEEK_SET};

	if (h->until)
		for (int i = 0; i < h->ms && !atomic_load(h->until); i++)
			sleep_ms(1);
	else
		sleep_ms(h->ms);
	atomic_store(&released, 1);
	if (h->ofd)
		MUST(fcntl(h->fd, F_OFD_SETLK, &fl));
	else
		MUST(flock(h->fd, LOCK_UN));
	return NULL;
}

static void lock_ofd(int fd, short type)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET};

	MUST(fcntl(fd, F_OFD_SETLK, &fl));
}

struct waiter {
	int fd;
	int ofd;
	int r, err;
	int got_after_release;
	int unlock; /* release the lock once got */
};

static void *wait_lock(void *arg)
{
	struct waiter *w = arg;
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};

	if (w->ofd)
		w->r = fcntl(w->fd, F_OFD_SETLKW, &fl);
	else
		w->r = flock(w->fd, LOCK_EX);
	w->err = errno;
	w->got_after_release = atomic_load(&released);
	if (w->unlock && w->r == 0)
		flock(w->fd, LOCK_UN);
	pthread_testcancel();
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&handled, 1);
}

static void waits_for_holder(int ofd)
{
	int a = open_file(), b = open_file();
	struct holder h = {a, 150, ofd, NULL};
	struct waiter w = {.fd = b, .ofd = ofd};
	pthread_t th, tw;
	int t0;

	if (ofd)
		lock_ofd(a, F_WRLCK);
	else
		MUST(flock(a, LOCK_EX));
	atomic_store(&released, 0);
	t0 = atomic_load(&ticks);
	MUST(pthread_create(&th, NULL, hold, &h));
	MUST(pthread_create(&tw, NULL, wait_lock, &w));
	MUST(pthread_join(tw, NULL));
	MUST(pthread_join(th, NULL));
	CHECK(w.r == 0, "%s: waiter gets the lock", ofd ? "F_OFD_SETLKW" : "flock");
	CHECK(w.got_after_release, "%s: only after the holder released it",
	      ofd ? "F_OFD_SETLKW" : "flock");
	CHECK(atomic_load(&ticks) - t0 >= 10, "%s: the ticker ran while it waited",
	      ofd ? "F_OFD_SETLKW" : "flock");
	fprintf(stderr, "%s: %d ticks during the wait\n", ofd ? "ofd" : "flock",
		atomic_load(&ticks) - t0);
	close(a);
	close(b);
}

/* A signal to the waiter 50 ms in, the holder releases at 200 ms. */
static void signal_ends_wait(int restart)
{
	struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = restart ? SA_RESTART : 0};
	int a = open_file(), b = open_file(), c = open_file();
	struct holder h = {a, 200, 0, NULL};
	struct waiter w = {.fd = b};
	pthread_t th, tw;
	const char *what = restart ? "flock, SA_RESTART handler" : "flock, handler";

	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGUSR1, &sa, NULL));
	atomic_store(&handled, 0);
	atomic_store(&released, 0);
	MUST(flock(a, LOCK_EX));
	MUST(pthread_create(&th, NULL, hold, &h));
	MUST(pthread_create(&tw, NULL, wait_lock, &w));
	sleep_ms(50);
	MUST(pthread_kill(tw, SIGUSR1));
	MUST(pthread_join(tw, NULL));
	CHECK(atomic_load(&handled) == 1, "%s: the handler ran", what);
	if (restart) {
		CHECK(w.r == 0 && w.got_after_release, "%s: the wait goes on, gets the lock", what);
		MUST(pthread_join(th, NULL));
	} else {
		CHECK_ERR(w.r == -1 ? w.err : 0, EINTR, "%s: flock", what);
		CHECK(!w.got_after_release, "%s: before the holder released", what);
		MUST(pthread_join(th, NULL));
		CHECK(flock(c, LOCK_EX | LOCK_NB) == 0,
		      "%s: the interrupted open did not take the lock", what);
	}
	close(a);
	close(b);
	close(c);
}

static void cancel_waiter(int ofd)
{
	int a = open_file(), b = open_file(), c = open_file();
	struct holder h = {a, 150, ofd, NULL};
	struct waiter w = {.fd = b, .ofd = ofd};
	const char *what = ofd ? "cancel in F_OFD_SETLKW" : "cancel in flock";
	pthread_t th, tw;
	void *ret;

	if (ofd)
		lock_ofd(a, F_WRLCK);
	else
		MUST(flock(a, LOCK_EX));
	atomic_store(&released, 0);
	w.r = 99;
	MUST(pthread_create(&th, NULL, hold, &h));
	MUST(pthread_create(&tw, NULL, wait_lock, &w));
	sleep_ms(50);
	MUST(pthread_cancel(tw));
	MUST(pthread_join(tw, &ret));
	MUST(pthread_join(th, NULL));
	CHECK(ret == PTHREAD_CANCELED, "%s: the thread is cancelled", what);
	if (ofd) {
		struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
		CHECK(w.r == 99, "%s: the call never returned", what);
		CHECK(fcntl(c, F_OFD_SETLK, &fl) == 0, "%s: the lock was not taken", what);
	} else {
		CHECK(w.r == 0 && w.got_after_release,
		      "%s: flock went on and took the lock first", what);
		CHECK(flock(c, LOCK_EX | LOCK_NB) == -1 && errno == EWOULDBLOCK,
		      "%s: the cancelled thread's open holds it", what);
	}
	close(a);
	close(b);
	close(c);
}

static void errors(void)
{
	int a = open_file(), b = open_file();
	struct flock bad = {.l_type = 77, .l_whence = SEEK_SET};
	struct flock wr = {.l_type = F_WRLCK, .l_whence = SEEK_SET};

	CHECK_ERR(flock(-1, LOCK_EX) == -1 ? errno : 0, EBADF, "flock(-1)");
	CHECK_ERR(flock(a, 0) == -1 ? errno : 0, EINVAL, "flock(no operation)");
	CHECK_ERR(fcntl(a, F_OFD_SETLKW, &bad) == -1 ? errno : 0, EINVAL,
		  "F_OFD_SETLKW with a bad l_type");
	CHECK_ERR(fcntl(-1, F_SETLKW, &wr) == -1 ? errno : 0, EBADF, "F_SETLKW on -1");
	CHECK_ERR(lockf(-1, F_LOCK, 0) == -1 ? errno : 0, EBADF, "lockf(-1, F_LOCK)");
	MUST(flock(a, LOCK_EX));
	CHECK_ERR(flock(b, LOCK_EX | LOCK_NB) == -1 ? errno : 0, EWOULDBLOCK, "LOCK_NB held");
	MUST(flock(a, LOCK_UN));
	lock_ofd(a, F_WRLCK);
	CHECK_ERR(fcntl(b, F_OFD_SETLK, &wr) == -1 ? errno : 0, EAGAIN, "F_OFD_SETLK held");
	errno = 1234;
	wr.l_type = F_UNLCK;
	CHECK(fcntl(a, F_OFD_SETLKW, &wr) == 0 && errno == 1234,
	      "F_OFD_SETLKW unlock: 0, errno untouched");
	close(a);
	close(b);
}

static void *lookup(void *arg)
{
	struct passwd *pw = getpwuid(0);

	*(int *)arg = pw && pw->pw_uid == 0;
	return NULL;
}

/* Four waiters each on a worker; a name lookup still gets one. */
static void lookup_beside_held_locks(void)
{
	static atomic_int answered;
	int a = open_file(), fds[4], found = 0;
	struct waiter w[4];
	/* Held until the lookup answered (10 s at most, which a lookup that
	 * four blocked flocks starve of a worker would reach): a crowded CPU
	 * may take long over the answer, never that long. */
	struct holder h = {a, 10000, 0, &answered};
	pthread_t tw[4], th, tl;

	MUST(flock(a, LOCK_EX));
	atomic_store(&released, 0);
	for (int i = 0; i < 4; i++) {
		fds[i] = open_file();
		w[i] = (struct waiter){.fd = fds[i], .unlock = 1};
		MUST(pthread_create(&tw[i], NULL, wait_lock, &w[i]));
	}
	MUST(pthread_create(&th, NULL, hold, &h));
	sleep_ms(30);
	MUST(pthread_create(&tl, NULL, lookup, &found));
	MUST(pthread_join(tl, NULL));
	CHECK(found && !atomic_load(&released), "getpwuid(0) answers while four flocks wait");
	atomic_store(&answered, 1);
	MUST(pthread_join(th, NULL));
	for (int i = 0; i < 4; i++)
		MUST(pthread_join(tw[i], NULL));
	int ok = 1;
	for (int i = 0; i < 4; i++)
		ok &= w[i].r == 0;
	CHECK(ok, "the four flocks got the lock in turn");
	for (int i = 0; i < 4; i++)
		close(fds[i]);
	close(a);
}

int main(void)
{
	pthread_t tick;
	int fd;

	snprintf(path, sizeof(path), "/tmp/greenify-flock-%d", (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		perror("open");
		return 2;
	}
	close(fd);
	MUST(pthread_create(&tick, NULL, ticker, NULL));
	waits_for_holder(0);
	waits_for_holder(1);
	signal_ends_wait(0);
	signal_ends_wait(1);
	cancel_waiter(1);
	cancel_waiter(0);
	errors();
	lookup_beside_held_locks();
	atomic_store(&stop, 1);
	MUST(pthread_join(tick, NULL));
	unlink(path);
	return check_done();
}
