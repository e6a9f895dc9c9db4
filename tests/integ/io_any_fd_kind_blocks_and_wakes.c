/* Hazard: every kind of fd the kernel lets a thread block on must park
 * only that thread and wake it when another thread makes the fd ready,
 * with the kernel's answer, while a ticker thread runs: a pty (both
 * ways, a line at a time; a 100 KB write to a slow reader completes;
 * O_NONBLOCK gives EAGAIN), a FIFO (a 1 MB write to a slow reader), an
 * eventfd (semaphore mode too), a timerfd, a signalfd, an inotify fd, a
 * UDP socket (recvfrom gives the sender), a seqpacket socket (message
 * boundaries kept), a packet-mode pipe (O_DIRECT: one packet per read).
 * Files that never wait answer at once: /dev/null, /dev/zero, and a
 * directory (EISDIR). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <termios.h>
#include <unistd.h>

#include "check.h"

static atomic_int ticks, stop;

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		sleep_ms(1);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

/* Another thread's action, 30 ms from now. */
struct later {
	void (*fn)(void *);
	void *arg;
	pthread_t t;
};

static void *run_later(void *arg)
{
	struct later *l = arg;

	sleep_ms(30);
	l->fn(l->arg);
	return NULL;
}

static void later(struct later *l, void (*fn)(void *), void *arg)
{
	l->fn = fn;
	l->arg = arg;
	MUST(pthread_create(&l->t, NULL, run_later, l));
}

static int fd_a, fd_b;
static const char *text;

static void write_text(void *arg)
{
	(void)arg;
	if (write(fd_b, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
}

/* Reads what another thread writes into fd_b later: whether fd_a gave
 * want, and another thread ran meanwhile. */
static int read_later(const char *what, size_t n, const char *want)
{
	char buf[256] = {0};
	struct later l;
	int t0 = atomic_load(&ticks);
	ssize_t r;

	text = what;
	later(&l, write_text, NULL);
	r = read(fd_a, buf, n);
	MUST(pthread_join(l.t, NULL));
	return r == (ssize_t)strlen(want) && memcmp(buf, want, (size_t)r) == 0 &&
	       atomic_load(&ticks) > t0;
}

static char *big;
#define BIG (1 << 20)
static size_t drained, want;

static void *drainer(void *arg)
{
	char buf[1000];

	(void)arg;
	drained = 0;
	while (drained < want) {
		size_t ask = want - drained < sizeof(buf) ? want - drained : sizeof(buf);
		ssize_t n = read(fd_a, buf, ask);
		if (n <= 0)
			break;
		if (memcmp(buf, big + drained, (size_t)n) != 0)
			break;
		drained += (size_t)n;
		if (drained % 7 == 0)
			sleep_ms(1);
	}
	return NULL;
}

/* A blocking write of n bytes of big into fd_b, drained slowly from fd_a. */
static int big_write(size_t n)
{
	pthread_t t;
	ssize_t r;

	want = n;
	MUST(pthread_create(&t, NULL, drainer, NULL));
	r = write(fd_b, big, n);
	MUST(pthread_join(t, NULL));
	return r == (ssize_t)n && drained == n;
}

static void add_event(void *arg)
{
	if (eventfd_write(fd_b, (eventfd_t)(intptr_t)arg) != 0)
		abort();
}

static void raise_usr2(void *arg)
{
	(void)arg;
	kill(getpid(), SIGUSR2);
}

static char dir[] = "/tmp/greenify-kinds-XXXXXX";

static void make_file(void *arg)
{
	char path[64];

	(void)arg;
	snprintf(path, sizeof(path), "%s/new", dir);
	close(open(path, O_CREAT | O_WRONLY, 0600));
}

static struct sockaddr_in udp_to;

static void send_udp(void *arg)
{
	if (sendto((int)(intptr_t)arg, "u", 1, 0, (struct sockaddr *)&udp_to, sizeof(udp_to)) != 1)
		abort();
}

static void two_packets(void *arg)
{
	(void)arg;
	if (write(fd_b, "first", 5) != 5 || write(fd_b, "second", 6) != 6)
		abort();
}

int main(void)
{
	pthread_t tick;
	struct later l;
	char buf[256];
	int t0;

	alarm(60);
	big = malloc(BIG);
	for (size_t i = 0; i < BIG; i++)
		big[i] = (char)('a' + i % 26);
	/* SIGUSR2 waits for the signalfd: blocked in every thread. */
	sigset_t usr2;
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	MUST(pthread_sigmask(SIG_BLOCK, &usr2, NULL));
	MUST(pthread_create(&tick, NULL, ticker, NULL));

	/* pty */
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	MUST(m < 0 || grantpt(m) || unlockpt(m));
	int s = open(ptsname(m), O_RDWR | O_NOCTTY);
	MUST(s < 0);
	struct termios tio;
	MUST(tcgetattr(s, &tio));
	tio.c_lflag &= ~(tcflag_t)(ECHO | ECHOCTL);
	tio.c_oflag &= ~(tcflag_t)OPOST;
	MUST(tcsetattr(s, TCSANOW, &tio));
	fd_a = s, fd_b = m;
	CHECK(read_later("one line\n", sizeof(buf), "one line\n"),
	      "pty: a read of the slave waits for a line from the master");
	fd_a = m, fd_b = s;
	CHECK(read_later("back\n", sizeof(buf), "back\n"), "pty: and the master for the slave");
	CHECK(big_write(100 * 1000), "pty: a 100 KB write to a slow reader completes");
	int fl = fcntl(s, F_GETFL);
	MUST(fcntl(s, F_SETFL, fl | O_NONBLOCK));
	errno = 0;
	CHECK(read(s, buf, 1) == -1 && errno == EAGAIN, "pty: O_NONBLOCK gives EAGAIN");
	MUST(fcntl(s, F_SETFL, fl));
	close(s);
	close(m);

	/* FIFO */
	MUST(mkdtemp(dir) == NULL);
	char fifo[64];
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	MUST(mkfifo(fifo, 0600));
	fd_a = open(fifo, O_RDONLY | O_NONBLOCK);
	fd_b = open(fifo, O_WRONLY);
	MUST(fd_a < 0 || fd_b < 0 || fcntl(fd_a, F_SETFL, 0));
	CHECK(read_later("fifo", sizeof(buf), "fifo"), "FIFO: a read waits for the writer");
	CHECK(big_write(BIG), "FIFO: a 1 MB write to a slow reader completes");
	close(fd_a);
	close(fd_b);
	unlink(fifo);

	/* eventfd */
	eventfd_t v = 0;
	fd_a = fd_b = eventfd(0, 0);
	later(&l, add_event, (void *)3);
	t0 = atomic_load(&ticks);
	CHECK(eventfd_read(fd_a, &v) == 0 && v == 3 && atomic_load(&ticks) > t0,
	      "eventfd: a read waits for another thread's write (3)");
	MUST(pthread_join(l.t, NULL));
	close(fd_a);
	fd_a = fd_b = eventfd(0, EFD_SEMAPHORE);
	later(&l, add_event, (void *)2);
	CHECK(eventfd_read(fd_a, &v) == 0 && v == 1 && eventfd_read(fd_a, &v) == 0 && v == 1,
	      "eventfd semaphore: two reads of 1 from a write of 2");
	MUST(pthread_join(l.t, NULL));
	close(fd_a);

	/* timerfd */
	int tf = timerfd_create(CLOCK_MONOTONIC, 0);
	struct itimerspec its = {.it_value = {0, 30 * 1000 * 1000}};
	MUST(timerfd_settime(tf, 0, &its, NULL));
	uint64_t exp = 0;
	t0 = atomic_load(&ticks);
	CHECK(read(tf, &exp, sizeof(exp)) == sizeof(exp) && exp == 1 && atomic_load(&ticks) > t0,
	      "timerfd: a read waits for the expiry");
	close(tf);

	/* signalfd */
	int sf = signalfd(-1, &usr2, 0);
	struct signalfd_siginfo si;
	later(&l, raise_usr2, NULL);
	CHECK(read(sf, &si, sizeof(si)) == sizeof(si) && si.ssi_signo == SIGUSR2,
	      "signalfd: a read waits for the signal");
	MUST(pthread_join(l.t, NULL));
	close(sf);

	/* inotify */
	int in = inotify_init();
	MUST(inotify_add_watch(in, dir, IN_CREATE) < 0);
	later(&l, make_file, NULL);
	char ev[sizeof(struct inotify_event) + 64];
	CHECK(read(in, ev, sizeof(ev)) >= (ssize_t)sizeof(struct inotify_event) &&
		      (((struct inotify_event *)ev)->mask & IN_CREATE),
	      "inotify: a read waits for the file to be made");
	MUST(pthread_join(l.t, NULL));
	close(in);
	snprintf(buf, sizeof(buf), "%s/new", dir);
	unlink(buf);
	rmdir(dir);

	/* UDP */
	int u = socket(AF_INET, SOCK_DGRAM, 0), us = socket(AF_INET, SOCK_DGRAM, 0);
	udp_to = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(udp_to);
	MUST(bind(u, (struct sockaddr *)&udp_to, sizeof(udp_to)));
	MUST(getsockname(u, (struct sockaddr *)&udp_to, &len));
	MUST(bind(us, (struct sockaddr *)&(struct sockaddr_in){.sin_family = AF_INET,
		       .sin_addr.s_addr = htonl(INADDR_LOOPBACK)}, sizeof(udp_to)));
	struct sockaddr_in from, sender;
	len = sizeof(sender);
	MUST(getsockname(us, (struct sockaddr *)&sender, &len));
	later(&l, send_udp, (void *)(intptr_t)us);
	len = sizeof(from);
	CHECK(recvfrom(u, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len) == 1 &&
		      from.sin_port == sender.sin_port,
	      "UDP: recvfrom waits and gives the sender's address");
	MUST(pthread_join(l.t, NULL));
	close(u);
	close(us);

	/* seqpacket and a packet-mode pipe: one message per read */
	int sp[2];
	MUST(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp));
	fd_a = sp[0], fd_b = sp[1];
	later(&l, two_packets, NULL);
	CHECK(read(fd_a, buf, sizeof(buf)) == 5 && read(fd_a, buf, sizeof(buf)) == 6,
	      "seqpacket: two reads for two messages");
	MUST(pthread_join(l.t, NULL));
	close(sp[0]);
	close(sp[1]);
	int pp[2];
	MUST(pipe2(pp, O_DIRECT));
	fd_a = pp[0], fd_b = pp[1];
	later(&l, two_packets, NULL);
	CHECK(read(fd_a, buf, sizeof(buf)) == 5 && read(fd_a, buf, sizeof(buf)) == 6,
	      "O_DIRECT pipe: two reads for two packets");
	MUST(pthread_join(l.t, NULL));
	close(pp[0]);
	close(pp[1]);

	/* Files that never wait. */
	int dn = open("/dev/null", O_RDWR), dz = open("/dev/zero", O_RDONLY);
	CHECK(read(dn, buf, sizeof(buf)) == 0 && write(dn, buf, 10) == 10,
	      "/dev/null: read 0, write 10");
	buf[0] = 1;
	CHECK(read(dz, buf, 16) == 16 && buf[0] == 0, "/dev/zero: 16 zeros");
	int dd = open("/tmp", O_RDONLY | O_DIRECTORY);
	errno = 0;
	CHECK(read(dd, buf, 16) == -1 && errno == EISDIR, "a directory: EISDIR");
	close(dn);
	close(dz);
	close(dd);

	atomic_store(&stop, 1);
	MUST(pthread_join(tick, NULL));
	return check_done();
}
