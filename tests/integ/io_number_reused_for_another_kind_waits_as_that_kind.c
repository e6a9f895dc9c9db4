/* Hazard: what is known of the file under an fd number (a regular file is
 * read with one plain call, a socket with MSG_DONTWAIT) must go when the
 * number comes to name another file, by whatever path: close_range,
 * closefrom, a raw syscall(SYS_close), closedir, fclose, a close by an OS
 * thread that is not green, dup2 of a socket over a pipe's number and of a
 * pipe over a socket's; a new file made where no hook sees it (a raw pipe2,
 * eventfd), or received with SCM_RIGHTS after a close no hook could see
 * (the system call instruction itself). Each time, the number was read
 * as one kind first, then names an empty pipe (or socket, or eventfd)
 * whose data another thread writes later: the read must wait for it and
 * get it (a plain read would block the process's only OS thread, and the
 * writer with it: a hang), and data already there comes at once. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

struct late {
	int fd;
	const char *data;
	size_t len;
};

static void *late_write(void *arg)
{
	struct late *l = arg;

	sleep_ms(20);
	if (write(l->fd, l->data, l->len) != (ssize_t)l->len)
		abort();
	return NULL;
}

/* Reads fd while another thread writes data to wfd 20 ms later. */
static void read_late(const char *what, int fd, int wfd, const char *data)
{
	struct late l = {wfd, data, strlen(data)};
	char buf[64] = {0};
	pthread_t t;

	pthread_create(&t, NULL, late_write, &l);
	ssize_t r = read(fd, buf, sizeof(buf) - 1);
	pthread_join(t, NULL);
	CHECK(r == (ssize_t)l.len && strcmp(buf, data) == 0, "%s: read waits for the late write",
	      what);
}

/* A regular file under a number, read once so its kind is known. */
static int regular_read_once(void)
{
	char path[] = "/tmp/greenify-kind-XXXXXX", buf[16];
	int fd = mkstemp(path);

	unlink(path);
	if (fd < 0 || write(fd, "file", 4) != 4 || lseek(fd, 0, SEEK_SET) != 0)
		abort();
	CHECK(read(fd, buf, sizeof(buf)) == 4, "regular file read");
	return fd;
}

/* A pipe made where no hook sees it, its read end at the lowest free
 * number. */
static void raw_pipe(int p[2])
{
	if (syscall(SYS_pipe2, p, 0) != 0)
		abort();
}

/* A close no hook can see: the system call made here. */
static void raw_close(int fd)
{
#if defined(__x86_64__)
	long r;
	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "0"((long)SYS_close), "D"((long)fd)
			 : "rcx", "r11", "memory");
	(void)r;
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = SYS_close;
	register long x0 __asm__("x0") = fd;
	__asm__ volatile("svc 0" : "+r"(x0) : "r"(x8) : "memory");
#else
	syscall(SYS_close, fd);
#endif
}

static sem_t closed;
static int foreign_fd;

/* Runs on glibc's own timer thread, which is not green. */
static void foreign_close(union sigval v)
{
	(void)v;
	close(foreign_fd);
	sem_post(&closed);
}

static void *body(void *arg)
{
	int p[2], s[2], fd;
	char c, buf[16];

	(void)arg;
	/* close_range, then a raw pipe under the number. */
	fd = regular_read_once();
	close_range((unsigned)fd, (unsigned)fd, 0);
	raw_pipe(p);
	CHECK(p[0] == fd, "close_range: the number comes back");
	read_late("close_range then pipe", p[0], p[1], "after close_range");
	close(p[0]);
	close(p[1]);

	/* closefrom, then a raw pipe. */
	fd = regular_read_once();
	closefrom(fd);
	raw_pipe(p);
	CHECK(p[0] == fd, "closefrom: the number comes back");
	read_late("closefrom then pipe", p[0], p[1], "after closefrom");
	close(p[0]);
	close(p[1]);

	/* syscall(SYS_close), then an eventfd. */
	fd = regular_read_once();
	syscall(SYS_close, fd);
	int ev = eventfd(0, 0);
	CHECK(ev == fd, "raw close: the number comes back");
	uint64_t one = 1, got = 0;
	struct late l = {ev, (const char *)&one, sizeof(one)};
	pthread_t t;
	pthread_create(&t, NULL, late_write, &l);
	CHECK(read(ev, &got, sizeof(got)) == sizeof(got) && got == 1,
	      "raw close then eventfd: read waits for the late write");
	pthread_join(t, NULL);
	close(ev);

	/* closedir of a directory read as a file (EISDIR), then a raw pipe. */
	DIR *d = opendir("/");
	fd = dirfd(d);
	CHECK(read(fd, &c, 1) < 0 && errno == EISDIR, "directory read -> EISDIR");
	closedir(d);
	raw_pipe(p);
	CHECK(p[0] == fd, "closedir: the number comes back");
	read_late("closedir then pipe", p[0], p[1], "after closedir");
	close(p[0]);
	close(p[1]);

	/* fclose of a stream whose fd was read as a regular file. */
	FILE *f = tmpfile();
	if (!f || fputs("stream", f) < 0 || fflush(f) != 0)
		abort();
	fd = fileno(f);
	lseek(fd, 0, SEEK_SET);
	CHECK(read(fd, buf, sizeof(buf)) == 6, "stream's fd read as a file");
	fclose(f);
	raw_pipe(p);
	CHECK(p[0] == fd, "fclose: the number comes back");
	read_late("fclose then pipe", p[0], p[1], "after fclose");
	close(p[0]);
	close(p[1]);

	/* A close no hook sees, then an fd received with SCM_RIGHTS under the
	 * number (the lowest free one). */
	int q[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, s) != 0 || pipe(q) != 0)
		abort();
	fd = regular_read_once();
	raw_close(fd);
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} u = {0};
	struct iovec v = {&c, 1};
	struct msghdr m = {
		.msg_iov = &v, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof(u.b)};
	c = 'r';
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &q[0], sizeof(int));
	if (sendmsg(s[1], &m, 0) != 1)
		abort();
	m.msg_controllen = sizeof(u.b);
	int rfd = -1;
	if (recvmsg(s[0], &m, 0) == 1 && (h = CMSG_FIRSTHDR(&m)))
		memcpy(&rfd, CMSG_DATA(h), sizeof(int));
	CHECK(rfd == fd, "SCM_RIGHTS: the received fd gets the number");
	read_late("unseen close then SCM_RIGHTS pipe", rfd, q[1], "received");
	close(rfd);
	close(q[0]);
	close(q[1]);
	close(s[0]);
	close(s[1]);

	/* A close by an OS thread that is not green (glibc's timer thread),
	 * then a raw pipe. */
	foreign_fd = fd = regular_read_once();
	struct sigevent sev = {.sigev_notify = SIGEV_THREAD,
			       .sigev_notify_function = foreign_close};
	struct itimerspec its = {.it_value = {0, 10 * 1000 * 1000}};
	timer_t tm;
	sem_init(&closed, 0, 0);
	if (timer_create(CLOCK_MONOTONIC, &sev, &tm) != 0 || timer_settime(tm, 0, &its, NULL) != 0)
		abort();
	while (sem_wait(&closed) != 0)
		;
	timer_delete(tm);
	raw_pipe(p);
	CHECK(p[0] == fd, "foreign close: the number comes back");
	read_late("foreign close then pipe", p[0], p[1], "after a foreign close");
	close(p[0]);
	close(p[1]);

	/* dup2 of a socket over a pipe's number that was read. */
	if (pipe(p) != 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, s) != 0)
		abort();
	if (write(p[1], "p", 1) != 1)
		abort();
	CHECK(read(p[0], &c, 1) == 1 && c == 'p', "pipe read");
	dup2(s[0], p[0]);
	read_late("dup2 socket over pipe", p[0], s[1], "socket data");
	close(p[0]);
	close(p[1]);
	close(s[0]);
	close(s[1]);

	/* dup2 of a pipe over a socket's number that was read, and a raw
	 * dup2 the same. */
	for (int raw = 0; raw < 2; raw++) {
		if (pipe(p) != 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, s) != 0)
			abort();
		if (write(s[1], "s", 1) != 1)
			abort();
		CHECK(read(s[0], &c, 1) == 1 && c == 's', "socket read");
		if (raw)
			syscall(SYS_dup3, p[0], s[0], 0);
		else
			dup2(p[0], s[0]);
		read_late(raw ? "raw dup3 pipe over socket" : "dup2 pipe over socket", s[0], p[1],
			  "pipe data");
		/* And the data there already: at once. */
		if (write(p[1], "now", 3) != 3)
			abort();
		char buf[8] = {0};
		CHECK(read(s[0], buf, sizeof(buf)) == 3 && strcmp(buf, "now") == 0,
		      "pipe data there: read at once");
		close(p[0]);
		close(p[1]);
		close(s[0]);
		close(s[1]);
	}

	/* A socket read, closed by close_range; a regular file under the
	 * number reads as one, to its end. */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, s) != 0 || write(s[1], "x", 1) != 1)
		abort();
	CHECK(read(s[0], &c, 1) == 1, "socket read before close_range");
	close_range((unsigned)s[0], (unsigned)s[0], 0);
	fd = regular_read_once();
	CHECK(fd == s[0], "close_range: a file under the socket's number");
	lseek(fd, 0, SEEK_SET);
	CHECK(read(fd, buf, sizeof(buf)) == 4 && read(fd, buf, sizeof(buf)) == 0,
	      "file under a socket's number: its data, then end of file");
	close(fd);
	close(s[1]);
	return NULL;
}

int main(void)
{
	pthread_t t;

	/* A thread of its own, so that the preloaded runs are green. */
	pthread_create(&t, NULL, body, NULL);
	pthread_join(t, NULL);
	return check_done();
}
