/* Hazard: a program built with -D_FORTIFY_SOURCE=2 -O2, as Debian builds
 * its packages, calls __read_chk, __recv_chk, __recvfrom_chk, __poll_chk,
 * __ppoll_chk, __pread_chk, __pread64_chk and __open_2 instead of the plain
 * names wherever the compiler knows a buffer's size. Each must wait as
 * green as the plain call (the peer is another thread, which must run),
 * and keep glibc's check: a buffer smaller than the call says ends the
 * process as natively (SIGABRT after "*** buffer overflow detected ***").
 *   - the binary really imports those names (its dynamic string table);
 *   - read on a pipe, recv and recvfrom on a socketpair, poll and ppoll on
 *     a pipe, each waiting for a write another thread makes 30 ms later,
 *     while a ticker thread keeps counting;
 *   - pread and pread64 on a file (plain file reads) give the data;
 *   - __open_2 of a FIFO waits for another thread's open of the other end;
 *   - EINTR from a handler in a fortified read and poll;
 *   - overflows of read, recv, recvfrom, poll, ppoll and pread in a child:
 *     each dies of SIGABRT. */
/* cflags: -D_FORTIFY_SOURCE=2 -O2 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#if !defined(__USE_FORTIFY_LEVEL) || __USE_FORTIFY_LEVEL < 2
#error "this program must be built with -D_FORTIFY_SOURCE=2 and optimization"
#endif

/* Sizes the compiler cannot see: the fortified calls check at run time. */
static volatile size_t want = 16;
static volatile nfds_t nfds = 1;
static volatile int rdonly = O_RDONLY, wronly = O_WRONLY;
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

/* Writes "0123456789abcdef" to fd ms milliseconds from now. */
struct later {
	int fd;
	int ms;
	int sock;
};

static void *write_later(void *arg)
{
	struct later *l = arg;

	sleep_ms(l->ms);
	if (l->sock)
		MUST(send(l->fd, "0123456789abcdef", 16, 0) == 16 ? 0 : -1);
	else
		MUST(write(l->fd, "0123456789abcdef", 16) == 16 ? 0 : -1);
	return NULL;
}

static void imports(void)
{
	static const char *names[] = {"__read_chk",  "__recv_chk",	"__recvfrom_chk",
				      "__poll_chk",  "__ppoll_chk",	"__pread_chk",
				      "__pread64_chk", "__open_2"};
	static char exe[1 << 20];
	int fd = open("/proc/self/exe", O_RDONLY, 0);
	ssize_t n = fd < 0 ? -1 : read(fd, exe, sizeof(exe));

	if (fd >= 0)
		close(fd);
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		CHECK(n > 0 && memmem(exe, (size_t)n, names[i], strlen(names[i]) + 1),
		      "the fortified build imports %s", names[i]);
}

static void waits(void)
{
	char buf[64];
	int p[2], s[2], t0;
	pthread_t w;
	struct later l;
	struct pollfd pf[1];
	struct timespec forever = {60, 0};

	MUST(pipe(p));
	MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, s));

	l = (struct later){p[1], 30, 0};
	t0 = atomic_load(&ticks);
	MUST(pthread_create(&w, NULL, write_later, &l));
	CHECK(read(p[0], buf, want) == 16 && !memcmp(buf, "0123456789abcdef", 16),
	      "__read_chk on a pipe gets the other thread's write");
	CHECK(atomic_load(&ticks) > t0, "the ticker ran while it waited");
	MUST(pthread_join(w, NULL));

	l = (struct later){s[1], 30, 1};
	MUST(pthread_create(&w, NULL, write_later, &l));
	CHECK(recv(s[0], buf, want, MSG_WAITALL) == 16, "__recv_chk waits for the data");
	MUST(pthread_join(w, NULL));

	MUST(pthread_create(&w, NULL, write_later, &l));
	CHECK(recvfrom(s[0], buf, want, MSG_WAITALL, NULL, NULL) == 16,
	      "__recvfrom_chk waits for the data");
	MUST(pthread_join(w, NULL));

	l = (struct later){p[1], 30, 0};
	MUST(pthread_create(&w, NULL, write_later, &l));
	pf[0] = (struct pollfd){.fd = p[0], .events = POLLIN};
	CHECK(poll(pf, nfds, -1) == 1 && (pf[0].revents & POLLIN), "__poll_chk waits for POLLIN");
	MUST(pthread_join(w, NULL));
	MUST(read(p[0], buf, want) == 16 ? 0 : -1);

	MUST(pthread_create(&w, NULL, write_later, &l));
	pf[0].revents = 0;
	CHECK(ppoll(pf, nfds, &forever, NULL) == 1 && (pf[0].revents & POLLIN),
	      "__ppoll_chk waits for POLLIN");
	MUST(pthread_join(w, NULL));
	MUST(read(p[0], buf, want) == 16 ? 0 : -1);
	close(p[0]);
	close(p[1]);
	close(s[0]);
	close(s[1]);
}

static void files(void)
{
	char path[64], buf[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/greenify-chk-%d", (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	MUST(fd < 0 ? -1 : 0);
	MUST(write(fd, "0123456789abcdefXYZ", 19) == 19 ? 0 : -1);
	CHECK(pread(fd, buf, want, 3) == 16 && !memcmp(buf, "3456789abcdefXYZ", 16),
	      "__pread_chk reads at the offset");
	CHECK(pread64(fd, buf, want, 0) == 16 && !memcmp(buf, "0123456789abcdef", 16),
	      "__pread64_chk reads at the offset");
	close(fd);
	unlink(path);
}

static char fifo[64];

static void *open_writer(void *arg)
{
	sleep_ms(30);
	*(int *)arg = open(fifo, wronly);
	return NULL;
}

static void fifo_open(void)
{
	pthread_t w;
	int wfd = -1, rfd, t0;

	snprintf(fifo, sizeof(fifo), "/tmp/greenify-chk-fifo-%d", (int)getpid());
	MUST(mkfifo(fifo, 0600));
	t0 = atomic_load(&ticks);
	MUST(pthread_create(&w, NULL, open_writer, &wfd));
	rfd = open(fifo, rdonly); /* __open_2: the flags are not constant */
	MUST(pthread_join(w, NULL));
	CHECK(rfd >= 0 && wfd >= 0, "__open_2 of a FIFO waits for the writer's open");
	CHECK(atomic_load(&ticks) > t0, "the ticker ran while the open waited");
	close(rfd);
	close(wfd);
	unlink(fifo);
}

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

static void interrupted(void)
{
	struct sigaction sa = {.sa_handler = on_usr1};
	pthread_t self = pthread_self(), k;
	struct pollfd pf[1];
	char buf[64];
	int p[2];

	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGUSR1, &sa, NULL));
	MUST(pipe(p));
	MUST(pthread_create(&k, NULL, kick_later, &self));
	errno = 0;
	CHECK_ERR(read(p[0], buf, want) == -1 ? errno : 0, EINTR, "__read_chk and a handler");
	MUST(pthread_join(k, NULL));
	MUST(pthread_create(&k, NULL, kick_later, &self));
	pf[0] = (struct pollfd){.fd = p[0], .events = POLLIN};
	CHECK_ERR(poll(pf, nfds, -1) == -1 ? errno : 0, EINTR, "__poll_chk and a handler");
	MUST(pthread_join(k, NULL));
	CHECK(atomic_load(&handled) == 2, "the handler ran twice");
	close(p[0]);
	close(p[1]);
}

/* Runs one overflowing call in a child; how the child ended. */
static int overflow(int which)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		char small[8];
		struct pollfd pf[1] = {{.fd = 0, .events = POLLIN}};
		struct timespec zero = {0, 0};
		int s[2];
		MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, s));
		MUST(send(s[1], "0123456789abcdef", 16, 0) == 16 ? 0 : -1);
		switch (which) {
		case 0: (void)!read(s[0], small, want); break;
		case 1: (void)!recv(s[0], small, want, 0); break;
		case 2: (void)!recvfrom(s[0], small, want, 0, NULL, NULL); break;
		case 3: nfds = 2; (void)!poll(pf, nfds, 0); break;
		case 4: nfds = 2; (void)!ppoll(pf, nfds, &zero, NULL); break;
		default: (void)!pread(s[0], small, want, 0); break;
		}
		_exit(0); /* not reached when the check works */
	}
	MUST(pid < 0 ? -1 : 0);
	MUST(waitpid(pid, &st, 0) == pid ? 0 : -1);
	return st;
}

static void overflows(void)
{
	static const char *what[] = {"read", "recv", "recvfrom", "poll", "ppoll", "pread"};

	for (int i = 0; i < 6; i++) {
		int st = overflow(i);
		CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT,
		      "an overflowing fortified %s dies of SIGABRT", what[i]);
	}
}

int main(void)
{
	pthread_t tick;

	imports();
	MUST(pthread_create(&tick, NULL, ticker, NULL));
	waits();
	files();
	fifo_open();
	interrupted();
	overflows();
	atomic_store(&stop, 1);
	MUST(pthread_join(tick, NULL));
	return check_done();
}
