/* Hazard: a signal the process sends itself through a call no hook turns
 * into a green delivery: kill(getpid()), syscall(SYS_kill),
 * pidfd_send_signal (libc's and the raw system call), sigqueue, a raw
 * tgkill. The kernel gives a process-directed signal to the main thread
 * when it does not block it, and delivers it on the way out of the system
 * call that sent it when that is the main thread's own: its handler has run
 * before the call returns (a flag it sets is seen right after). SIGPIPE
 * sent with kill is such a signal too, not one the kernel raised for a
 * write (those come with EPIPE). Sent by another thread it still runs in
 * main; sent while main blocks it, in the thread that does not. */
/* run-also: disable */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/pidfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

static atomic_int hits;
static volatile pthread_t hit_by;
static pthread_t main_th, helper_th;
static int pidfd = -1;

static void on_sig(int sig)
{
	(void)sig;
	hit_by = pthread_self();
	atomic_fetch_add(&hits, 1);
}

/* SIGUSR2's handler sends SIGHUP with kill, from inside a handler: the
 * nested handler runs before that kill returns too. */
static atomic_int hups;
static volatile int nested_ok;

static void on_hup(int sig)
{
	(void)sig;
	atomic_fetch_add(&hups, 1);
}

static void on_usr2(int sig)
{
	int n = atomic_load(&hups);

	(void)sig;
	nested_ok = kill(getpid(), SIGHUP) == 0 && atomic_load(&hups) == n + 1;
	atomic_fetch_add(&hits, 1);
}

static int by_kill(int sig)
{
	return kill(getpid(), sig);
}

static int by_syscall_kill(int sig)
{
	return (int)syscall(SYS_kill, getpid(), sig);
}

static int by_pidfd(int sig)
{
	return pidfd_send_signal(pidfd, sig, NULL, 0);
}

static int by_syscall_pidfd(int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

static int by_sigqueue(int sig)
{
	union sigval v = {.sival_int = 7};

	return sigqueue(getpid(), sig, v);
}

/* Main's kernel id is the process id. */
static int by_syscall_tgkill(int sig)
{
	return (int)syscall(SYS_tgkill, getpid(), getpid(), sig);
}

static const struct {
	const char *name;
	int (*send)(int sig);
} senders[] = {
	{"kill(getpid())", by_kill},	 {"syscall(SYS_kill)", by_syscall_kill},
	{"pidfd_send_signal", by_pidfd}, {"syscall(SYS_pidfd_send_signal)", by_syscall_pidfd},
	{"sigqueue", by_sigqueue},	 {"syscall(SYS_tgkill) of main", by_syscall_tgkill},
};

/* Waits, for up to 10 s, for the handler to have run n times, in naps a
 * late handler may cut short. */
static int wait_hits(int n)
{
	for (int i = 0; i < 10000 && atomic_load(&hits) < n; i++)
		nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
	return atomic_load(&hits) >= n;
}

static int helper_pipe[2];

/* Sits in a read (restarted after a handler) until main writes. */
static void *helper(void *arg)
{
	char c;

	(void)arg;
	while (read(helper_pipe[0], &c, 1) < 0)
		;
	return NULL;
}

static int from_helper_sig; /* the signal the thread below sends */

static void *sender(void *arg)
{
	int n = atomic_load(&hits);

	(void)arg;
	CHECK(kill(getpid(), from_helper_sig) == 0, "kill from a second thread");
	CHECK(wait_hits(n + 1) && pthread_equal(hit_by, main_th), "its handler runs in main");
	return NULL;
}

int main(void)
{
	struct sigaction sa = {.sa_handler = on_sig, .sa_flags = SA_RESTART};
	const int sigs[] = {SIGUSR1, SIGPIPE};
	sigset_t m;
	pthread_t s;

	main_th = pthread_self();
	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGUSR1, &sa, NULL));
	MUST(sigaction(SIGPIPE, &sa, NULL));
	pidfd = pidfd_open(getpid(), 0);
	MUST(pidfd < 0 ? -1 : 0);
	MUST(pipe(helper_pipe));
	MUST(pthread_create(&helper_th, NULL, helper, NULL));

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		for (size_t j = 0; j < sizeof(senders) / sizeof(senders[0]); j++) {
			int n = atomic_load(&hits);
			int r = senders[j].send(sigs[i]);
			int after = atomic_load(&hits);
			CHECK(r == 0 && after == n + 1 && pthread_equal(hit_by, main_th),
			      "%s of %s in main: handler ran in main before it returned",
			      senders[j].name, sigs[i] == SIGUSR1 ? "SIGUSR1" : "SIGPIPE");
			/* A late one would be counted against the next. */
			wait_hits(n + 1);
		}

	/* main blocks it: the kernel gives it to the thread that does not. */
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	MUST(pthread_sigmask(SIG_BLOCK, &m, NULL));
	int n = atomic_load(&hits);
	CHECK(kill(getpid(), SIGUSR1) == 0, "kill(getpid()) while main blocks SIGUSR1");
	CHECK(wait_hits(n + 1) && pthread_equal(hit_by, helper_th),
	      "its handler runs in the thread that does not block it");
	MUST(pthread_sigmask(SIG_UNBLOCK, &m, NULL));

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		from_helper_sig = sigs[i];
		MUST(pthread_create(&s, NULL, sender, NULL));
		MUST(pthread_join(s, NULL));
	}

	sa.sa_handler = on_hup;
	MUST(sigaction(SIGHUP, &sa, NULL));
	sa.sa_handler = on_usr2;
	MUST(sigaction(SIGUSR2, &sa, NULL));
	n = atomic_load(&hits);
	CHECK(kill(getpid(), SIGUSR2) == 0 && atomic_load(&hits) == n + 1 && nested_ok,
	      "a kill inside a handler runs the next handler before it returns");

	MUST(write(helper_pipe[1], "x", 1) == 1 ? 0 : -1);
	MUST(pthread_join(helper_th, NULL));
	CHECK(atomic_load(&hits) == 2 * 6 + 1 + 2 + 1, "every signal ran its handler once");
	close(pidfd);
	return check_done();
}
