/* Hazard: the preload ends a call that waits on one of its worker threads
 * (here a flock another thread holds) with a SIGURG of its own, while a
 * program may use SIGURG itself (out-of-band data, or as a spare signal).
 * The program must keep it, as natively, while worker calls are
 * interrupted around it:
 *   - default action: flock waits that a SIGUSR1 handler ends (EINTR)
 *     leave no trace: sigaction still reports SIG_DFL, and with SIGURG
 *     blocked in every thread nothing is pending;
 *   - a handler (SA_SIGINFO, no SA_RESTART): those interruptions never run
 *     it, sigaction reports it with its flags; kill() of the process runs
 *     it in main with SI_USER; pthread_kill of a thread waiting in flock
 *     runs it in that thread and ends the wait with EINTR, the lock not
 *     taken; with SA_RESTART the wait goes on and gets the lock;
 *   - SIG_IGN: pthread_kill of a thread waiting in flock changes nothing;
 *   - SIGURG blocked in every thread (a worker in its call is then the only
 *     thread of the process the kernel may give it to): another process's
 *     SIGURG leaves the flock wait alone and stays pending for the process
 *     (sigpending); sigwait takes it; with a handler, unblocking it in main
 *     runs the handler there; setting SIG_IGN discards one pending (sent
 *     while a thread waited in flock, or while none did). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static char path[64];
static atomic_int released, release_now, calling, usr1;
static volatile sig_atomic_t hits, code;
static volatile pid_t from;
static pthread_t where;

/* A sleep that a handled signal may cut short, as natively. */
static void nap_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000};

	nanosleep(&ts, NULL);
}

static void on_usr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&usr1, 1);
}

static void on_urg(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	from = si->si_pid;
	code = si->si_code;
	where = pthread_self();
	hits++;
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

/* Holds the lock on fd until main says to let go. */
static void *hold(void *arg)
{
	int fd = *(int *)arg;

	while (!atomic_load(&release_now))
		nap_ms(1);
	atomic_store(&released, 1);
	MUST(flock(fd, LOCK_UN));
	return NULL;
}

struct waiter {
	int fd;
	int r, err;
	int got_after_release;
};

static void *wait_lock(void *arg)
{
	struct waiter *w = arg;

	atomic_store(&calling, 1);
	w->r = flock(w->fd, LOCK_EX);
	w->err = errno;
	w->got_after_release = atomic_load(&released);
	if (w->r == 0)
		flock(w->fd, LOCK_UN);
	return NULL;
}

/* A flock that waits for a held lock; sig (0: none) is sent to the waiting
 * thread once it waits, and a process sends SIGURG if from_child. intr:
 * the wait is expected to end with EINTR (then the lock is let go only
 * after it did), else to get the lock once it is let go. */
struct run {
	pthread_t waiter;
	struct waiter w;
};

static void start(struct run *run, int *holder_fd, pthread_t *holder)
{
	*holder_fd = open_file();
	run->w = (struct waiter){.fd = open_file()};
	MUST(flock(*holder_fd, LOCK_EX));
	atomic_store(&released, 0);
	atomic_store(&release_now, 0);
	atomic_store(&calling, 0);
	MUST(pthread_create(holder, NULL, hold, holder_fd));
	MUST(pthread_create(&run->waiter, NULL, wait_lock, &run->w));
	while (!atomic_load(&calling))
		nap_ms(1);
	nap_ms(50); /* in its wait now */
}

static void finish(struct run *run, int *holder_fd, pthread_t holder, int intr, const char *what)
{
	int c = open_file();

	if (intr) {
		MUST(pthread_join(run->waiter, NULL));
		atomic_store(&release_now, 1);
		MUST(pthread_join(holder, NULL));
		CHECK_ERR(run->w.r == -1 ? run->w.err : 0, EINTR, "%s: flock", what);
		CHECK(!run->w.got_after_release && flock(c, LOCK_EX | LOCK_NB) == 0,
		      "%s: the interrupted flock did not take the lock", what);
	} else {
		nap_ms(50); /* time for a wrong EINTR to show */
		atomic_store(&release_now, 1);
		MUST(pthread_join(run->waiter, NULL));
		MUST(pthread_join(holder, NULL));
		CHECK(run->w.r == 0 && run->w.got_after_release,
		      "%s: the flock wait went on and got the lock", what);
	}
	close(c);
	close(run->w.fd);
	close(*holder_fd);
}

static void flock_with(int sig, int intr, const char *what)
{
	struct run run;
	pthread_t holder;
	int fd;

	start(&run, &fd, &holder);
	if (sig)
		MUST(pthread_kill(run.waiter, sig));
	finish(&run, &fd, holder, intr, what);
}

static void handler(int sig, int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = flags;
	if (sig == SIGUSR1)
		sa.sa_handler = on_usr1;
	else
		sa.sa_sigaction = on_urg;
	MUST(sigaction(sig, &sa, NULL));
}

/* Another process's SIGURG, sent while a thread waits in flock (unless
 * idle); the caller blocks SIGURG in every thread. */
static int sigurg_from_child(const char *what, int idle)
{
	struct run run;
	pthread_t holder;
	sigset_t pending;
	int fd, status, seen = 0;
	pid_t pid;

	if (!idle)
		start(&run, &fd, &holder);
	pid = fork();
	if (pid == 0) {
		kill(getppid(), SIGURG);
		_exit(0);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid, "%s: the child sent it", what);
	/* Natively at once; under the preload once it is noted. */
	for (int i = 0; i < 2000 && !seen; i++) {
		sigpending(&pending);
		seen = sigismember(&pending, SIGURG);
		if (!seen)
			nap_ms(1);
	}
	CHECK(seen, "%s: pending for the process", what);
	if (!idle)
		finish(&run, &fd, holder, 0, what);
	return seen;
}

int main(void)
{
	struct sigaction old;
	sigset_t urg, pending;
	int fd, sig = 0;

	alarm(120);
	snprintf(path, sizeof(path), "/tmp/greenify-sigurg-%d", (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		perror("open");
		return 2;
	}
	close(fd);
	sigemptyset(&urg);
	sigaddset(&urg, SIGURG);
	handler(SIGUSR1, 0);

	/* The default action. */
	MUST(pthread_sigmask(SIG_BLOCK, &urg, NULL));
	for (int i = 0; i < 3; i++)
		flock_with(SIGUSR1, 1, "SIGURG default, SIGUSR1 handler");
	CHECK(atomic_load(&usr1) == 3, "the SIGUSR1 handler ran three times");
	CHECK(sigaction(SIGURG, NULL, &old) == 0 && old.sa_handler == SIG_DFL,
	      "sigaction still reports SIGURG's default action");
	sigpending(&pending);
	CHECK(!sigismember(&pending, SIGURG), "no SIGURG pending, blocked everywhere");
	MUST(pthread_sigmask(SIG_UNBLOCK, &urg, NULL));

	/* A handler. */
	handler(SIGURG, SA_SIGINFO);
	for (int i = 0; i < 3; i++)
		flock_with(SIGUSR1, 1, "SIGURG handler, SIGUSR1 handler");
	CHECK(hits == 0, "interrupted waits never ran the program's SIGURG handler");
	CHECK(sigaction(SIGURG, NULL, &old) == 0 && old.sa_sigaction == on_urg &&
		      (old.sa_flags & (SA_SIGINFO | SA_RESTART)) == SA_SIGINFO,
	      "sigaction reports the handler with its flags");
	kill(getpid(), SIGURG);
	for (int i = 0; i < 1000 && hits == 0; i++)
		nap_ms(1);
	CHECK(hits == 1 && code == SI_USER && from == getpid() &&
		      pthread_equal(where, pthread_self()),
	      "kill() of the process ran it in main, SI_USER, our pid");
	{
		struct run run;
		pthread_t holder;
		start(&run, &fd, &holder);
		MUST(pthread_kill(run.waiter, SIGURG));
		finish(&run, &fd, holder, 1, "pthread_kill(SIGURG) of a thread in flock");
		CHECK(hits == 2 && code == SI_TKILL && pthread_equal(where, run.waiter),
		      "the handler ran in that thread");
	}
	handler(SIGURG, SA_SIGINFO | SA_RESTART);
	CHECK(sigaction(SIGURG, NULL, &old) == 0 &&
		      (old.sa_flags & (SA_SIGINFO | SA_RESTART)) == (SA_SIGINFO | SA_RESTART),
	      "sigaction reports SA_RESTART");
	flock_with(SIGURG, 0, "pthread_kill(SIGURG), SA_RESTART handler");
	CHECK(hits == 3, "the SA_RESTART handler ran");

	/* SIG_IGN. */
	signal(SIGURG, SIG_IGN);
	CHECK(sigaction(SIGURG, NULL, &old) == 0 && old.sa_handler == SIG_IGN, "SIG_IGN is reported");
	flock_with(SIGURG, 0, "pthread_kill(SIGURG), SIG_IGN");
	CHECK(hits == 3, "an ignored SIGURG runs nothing");

	/* Blocked in every thread: a worker may be the one that takes it. */
	signal(SIGURG, SIG_DFL);
	MUST(pthread_sigmask(SIG_BLOCK, &urg, NULL));
	if (sigurg_from_child("SIGURG default, blocked everywhere", 0))
		CHECK(sigwait(&urg, &sig) == 0 && sig == SIGURG, "sigwait takes it");
	sigpending(&pending);
	CHECK(!sigismember(&pending, SIGURG), "and it is pending no more");
	for (int idle = 0; idle < 2; idle++) {
		const char *what = idle ? "SIGURG blocked everywhere, no flock"
					: "SIGURG blocked everywhere, during a flock";
		sigurg_from_child(what, idle);
		signal(SIGURG, SIG_IGN);
		sigpending(&pending);
		CHECK(!sigismember(&pending, SIGURG), "%s: SIG_IGN discards it", what);
		signal(SIGURG, SIG_DFL);
	}
	handler(SIGURG, SA_SIGINFO);
	sigurg_from_child("SIGURG handler, blocked everywhere", 0);
	CHECK(hits == 3, "the handler did not run while it was blocked");
	MUST(pthread_sigmask(SIG_UNBLOCK, &urg, NULL));
	CHECK(hits == 4 && pthread_equal(where, pthread_self()),
	      "unblocking it in main ran the handler there");

	unlink(path);
	return check_done();
}
