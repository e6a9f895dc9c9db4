/* Hazard: open() of a FIFO waits in the kernel until its other end is
 * opened; when the other end is opened by another thread of the process,
 * an open that blocks the OS thread never lets that thread run (a hang).
 * A ticker thread counts milliseconds meanwhile.
 *   - open(O_RDONLY) waits for a writer's open(O_WRONLY) 30 ms later, and
 *     the other way round; openat and creat (O_WRONLY|O_TRUNC of an
 *     existing FIFO) too; the data then flows;
 *   - O_RDONLY|O_NONBLOCK opens at once; O_WRONLY|O_NONBLOCK without a
 *     reader fails with ENXIO;
 *   - a handler without SA_RESTART ends the wait with EINTR; with
 *     SA_RESTART the open goes on and succeeds when the writer comes;
 *   - pthread_cancel of a thread waiting in open (a cancellation point)
 *     cancels it;
 *   - errors as libc's: ENOENT, EISDIR; errno untouched on success;
 *   - a regular file opens as before. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static char fifo[64];
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

struct opener {
	int flags;
	int delay_ms;
	int how; /* 0 open, 1 openat, 2 creat */
	int fd, err;
};

static void *do_open(void *arg)
{
	struct opener *o = arg;

	sleep_ms(o->delay_ms);
	switch (o->how) {
	case 1: o->fd = openat(AT_FDCWD, fifo, o->flags); break;
	case 2: o->fd = creat(fifo, 0600); break;
	default: o->fd = open(fifo, o->flags);
	}
	o->err = errno;
	pthread_testcancel();
	return NULL;
}

/* The waiting open runs in this thread, the other end in a thread 30 ms
 * later. */
static void pair(const char *what, struct opener wait, struct opener other)
{
	pthread_t t;
	int t0 = atomic_load(&ticks);
	char buf[8] = {0};

	other.delay_ms = 30;
	MUST(pthread_create(&t, NULL, do_open, &other));
	do_open(&wait);
	MUST(pthread_join(t, NULL));
	CHECK(wait.fd >= 0 && other.fd >= 0, "%s: both ends open", what);
	CHECK(atomic_load(&ticks) > t0, "%s: the ticker ran while it waited", what);
	int w = (wait.flags & O_ACCMODE) == O_RDONLY && wait.how != 2 ? other.fd : wait.fd;
	int r = w == other.fd ? wait.fd : other.fd;
	CHECK(write(w, "fifo", 4) == 4 && read(r, buf, 4) == 4 && !strcmp(buf, "fifo"),
	      "%s: data goes through", what);
	close(wait.fd);
	close(other.fd);
}

static void on_usr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&handled, 1);
}

static void interrupted(int restart)
{
	struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = restart ? SA_RESTART : 0};
	struct opener w = {.flags = O_RDONLY}, wr = {.flags = O_WRONLY, .delay_ms = 100};
	const char *what = restart ? "open, SA_RESTART handler" : "open, handler";
	pthread_t tw, twr = 0;

	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGUSR1, &sa, NULL));
	atomic_store(&handled, 0);
	MUST(pthread_create(&tw, NULL, do_open, &w));
	if (restart)
		MUST(pthread_create(&twr, NULL, do_open, &wr));
	sleep_ms(40);
	MUST(pthread_kill(tw, SIGUSR1));
	MUST(pthread_join(tw, NULL));
	CHECK(atomic_load(&handled) == 1, "%s: the handler ran", what);
	if (restart) {
		MUST(pthread_join(twr, NULL));
		CHECK(w.fd >= 0 && wr.fd >= 0, "%s: the open went on and met the writer", what);
		close(w.fd);
		close(wr.fd);
	} else {
		CHECK_ERR(w.fd == -1 ? w.err : 0, EINTR, "%s: open", what);
	}
}

static void cancelled(void)
{
	struct opener w = {.flags = O_RDONLY, .fd = 99};
	pthread_t t;
	void *ret;

	MUST(pthread_create(&t, NULL, do_open, &w));
	sleep_ms(40);
	MUST(pthread_cancel(t));
	MUST(pthread_join(t, &ret));
	CHECK(ret == PTHREAD_CANCELED && w.fd == 99, "cancel in open: cancelled before it returned");
}

static void others(void)
{
	char path[64];
	int fd;

	fd = open(fifo, O_RDONLY | O_NONBLOCK);
	CHECK(fd >= 0, "O_RDONLY|O_NONBLOCK opens at once");
	close(fd);
	CHECK_ERR(open(fifo, O_WRONLY | O_NONBLOCK) == -1 ? errno : 0, ENXIO,
		  "O_WRONLY|O_NONBLOCK without a reader");
	CHECK_ERR(open("/nonexistent/greenify", O_RDONLY) == -1 ? errno : 0, ENOENT,
		  "open of a missing path");
	CHECK_ERR(open("/tmp", O_WRONLY) == -1 ? errno : 0, EISDIR, "open of a directory to write");
	snprintf(path, sizeof(path), "/tmp/greenify-open-%d", (int)getpid());
	errno = 4321;
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && errno == 4321, "a regular file opens, errno untouched");
	close(fd);
	errno = 4321;
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0 && errno == 4321, "an existing file opens without O_CREAT, errno untouched");
	close(fd);
	unlink(path);
}

int main(void)
{
	pthread_t tick;

	snprintf(fifo, sizeof(fifo), "/tmp/greenify-fifo-%d", (int)getpid());
	MUST(mkfifo(fifo, 0600));
	MUST(pthread_create(&tick, NULL, ticker, NULL));
	pair("reader waits for writer", (struct opener){.flags = O_RDONLY},
	     (struct opener){.flags = O_WRONLY});
	pair("writer waits for reader", (struct opener){.flags = O_WRONLY},
	     (struct opener){.flags = O_RDONLY});
	pair("openat reader", (struct opener){.flags = O_RDONLY, .how = 1},
	     (struct opener){.flags = O_WRONLY});
	pair("creat of a FIFO waits for a reader", (struct opener){.how = 2},
	     (struct opener){.flags = O_RDONLY});
	interrupted(0);
	interrupted(1);
	cancelled();
	others();
	atomic_store(&stop, 1);
	MUST(pthread_join(tick, NULL));
	unlink(fifo);
	return check_done();
}
