/* Hazard: the classic way to wait for fds or a signal without a lost
 * wake-up: block the signal with pthread_sigmask, then wait in ppoll,
 * pselect or epoll_pwait with a mask that lets it in. The kernel applies
 * that mask atomically for the wait; if a green wait ignored it, a signal
 * sent before the wait (pending, blocked) or during it would never end
 * it, and the thread would sleep for its whole timeout. Every thread here
 * blocks SIGUSR1 (inherited from main); a handler without SA_RESTART
 * counts. For each of ppoll, pselect and epoll_pwait, with a 5 s timeout
 * on a pipe that stays empty, and an empty mask:
 *   - SIGUSR1 sent to the waiter by another thread 30 ms into the wait
 *     -> -1 EINTR after >= 30 ms and long before 5 s, the handler ran in
 *     the waiter, a ticker thread kept running meanwhile, and afterwards
 *     the waiter blocks SIGUSR1 again;
 *   - SIGUSR1 sent to the waiter before the call (pending) -> EINTR at
 *     once;
 *   - SIGUSR1 sent to the process (kill) while every thread blocks it
 *     -> the waiter, the only thread whose wait lets it in, handles it;
 *   - with the pipe readable and SIGUSR1 pending: the call returns the fd
 *     (1), and SIGUSR1 stays pending, blocked again (taken afterwards by
 *     sigtimedwait with a zero timeout).
 * And the pattern that replaces the self-pipe trick: main blocks SIGCHLD,
 * forks a child that exits 30 ms later, and waits in pselect with an
 * empty mask -> EINTR once its SIGCHLD handler ran, the ticker running
 * meanwhile. */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

enum how { PPOLL, PSELECT, EPOLL_PWAIT };
static const char *const names[] = {"ppoll", "pselect", "epoll_pwait"};

static int p[2], ep;
static volatile sig_atomic_t handled;
static pthread_t handled_by;
static atomic_int ticks, stop;

static void on_usr1(int sig)
{
	(void)sig;
	handled_by = pthread_self();
	handled++;
}

static volatile sig_atomic_t children;

static void on_chld(int sig)
{
	(void)sig;
	children++;
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

/* One wait with an empty mask and a 5 s timeout; errno after. */
static int wait_once(enum how how, int *err)
{
	sigset_t none;
	int r = -1;

	sigemptyset(&none);
	if (how == PPOLL) {
		struct pollfd pf = {.fd = p[0], .events = POLLIN};
		struct timespec five = {5, 0};
		r = ppoll(&pf, 1, &five, &none);
	} else if (how == PSELECT) {
		fd_set rd;
		struct timespec five = {5, 0};
		FD_ZERO(&rd);
		FD_SET(p[0], &rd);
		r = pselect(p[0] + 1, &rd, NULL, NULL, &five, &none);
	} else {
		struct epoll_event ev;
		r = epoll_pwait(ep, &ev, 1, 5000, &none);
	}
	*err = r < 0 ? errno : 0;
	return r;
}

static int blocks_usr1(void)
{
	sigset_t cur;

	sigemptyset(&cur);
	MUST(pthread_sigmask(SIG_BLOCK, NULL, &cur));
	return sigismember(&cur, SIGUSR1);
}

struct waiter {
	enum how how;
	int r, err, blocked_after, ran_here, ticks_during;
	int64_t took;
	sem_t *ready;
};

static int release_fd, release_after;

/* Lets the child exit once the ticker has run since main began to wait:
 * a thread of the parent, so it runs only while main's wait parks only
 * main. */
static void *releaser(void *arg)
{
	(void)arg;
	wait_above(&ticks, release_after + 1);
	MUST(write(release_fd, "x", 1) != 1);
	return NULL;
}

static void *waiter(void *arg)
{
	struct waiter *w = arg;
	int before = handled, t0;

	t0 = atomic_load(&ticks);
	/* The clock starts before main is told to go: main then sleeps 30 ms
	 * before it signals, so the wait lasts at least that long even when a
	 * crowded CPU holds this thread back between the post and the call. */
	int64_t start = mono_ns();
	sem_post(w->ready);
	w->r = wait_once(w->how, &w->err);
	w->took = mono_ns() - start;
	w->ticks_during = atomic_load(&ticks) - t0;
	w->ran_here = handled == before + 1 && pthread_equal(handled_by, pthread_self());
	w->blocked_after = blocks_usr1();
	return NULL;
}

static void during(enum how how)
{
	struct waiter w = {.how = how};
	sem_t ready;
	pthread_t t;

	MUST(sem_init(&ready, 0, 0));
	w.ready = &ready;
	MUST(pthread_create(&t, NULL, waiter, &w));
	MUST(sem_wait(&ready));
	int k = atomic_load(&ticks);
	sleep_ms(30);
	/* The ticker runs once more before the signal (a crowded CPU may not
	 * have run it natively in 30 ms; under the preload it cannot unless
	 * the wait parked only its thread). */
	wait_above(&ticks, k);
	MUST(pthread_kill(t, SIGUSR1));
	MUST(pthread_join(t, NULL));
	CHECK(w.r == -1 && w.err == EINTR, "%s: SIGUSR1 during the wait -> EINTR", names[how]);
	CHECK(w.took >= MS(25) && w.took < MS(2000), "%s: at the signal, not at the timeout",
	      names[how]);
	CHECK(w.ran_here, "%s: the handler ran in the waiter", names[how]);
	CHECK(w.ticks_during > 0, "%s: another thread kept running during the wait", names[how]);
	CHECK(w.blocked_after == 1, "%s: SIGUSR1 is blocked again afterwards", names[how]);
	sem_destroy(&ready);
}

static void *pending_first(void *arg)
{
	struct waiter *w = arg;
	int before = handled;

	MUST(pthread_kill(pthread_self(), SIGUSR1));
	w->ran_here = handled == before; /* blocked: not yet */
	int64_t start = mono_ns();
	w->r = wait_once(w->how, &w->err);
	w->took = mono_ns() - start;
	w->ran_here = w->ran_here && handled == before + 1 &&
		      pthread_equal(handled_by, pthread_self());
	return NULL;
}

static void *process_directed(void *arg)
{
	struct waiter *w = arg;
	int before = handled;

	MUST(kill(getpid(), SIGUSR1)); /* every thread blocks it: it waits */
	w->r = wait_once(w->how, &w->err);
	w->ran_here = handled == before + 1 && pthread_equal(handled_by, pthread_self());
	return NULL;
}

static void *ready_fd_wins(void *arg)
{
	struct waiter *w = arg;
	sigset_t usr1, pend;
	struct timespec zero = {0, 0};
	char c;
	int before = handled;

	MUST(pthread_kill(pthread_self(), SIGUSR1));
	MUST(write(p[1], "x", 1) != 1);
	w->r = wait_once(w->how, &w->err);
	sigemptyset(&pend);
	MUST(sigpending(&pend));
	w->blocked_after = sigismember(&pend, SIGUSR1) && handled == before;
	MUST(read(p[0], &c, 1) != 1);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	w->ran_here = sigtimedwait(&usr1, NULL, &zero) == SIGUSR1 && handled == before;
	return NULL;
}

static void in_thread(void *(*fn)(void *), struct waiter *w)
{
	pthread_t t;

	MUST(pthread_create(&t, NULL, fn, w));
	MUST(pthread_join(t, NULL));
}

int main(void)
{
	struct sigaction sa = {0};
	struct epoll_event ev = {.events = EPOLLIN};
	sigset_t usr1;
	pthread_t tick;

	alarm(30);
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGUSR1, &sa, NULL));
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	MUST(pthread_sigmask(SIG_BLOCK, &usr1, NULL));
	MUST(pipe(p));
	ep = epoll_create1(0);
	MUST(ep < 0);
	ev.data.fd = p[0];
	MUST(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	MUST(pthread_create(&tick, NULL, ticker, NULL));

	for (enum how how = PPOLL; how <= EPOLL_PWAIT; how++) {
		struct waiter w = {.how = how};

		during(how);

		in_thread(pending_first, &w);
		CHECK(w.r == -1 && w.err == EINTR && w.took < MS(2000),
		      "%s: SIGUSR1 pending before the call -> EINTR at once", names[how]);
		CHECK(w.ran_here, "%s: its handler ran in the waiter, during the call", names[how]);

		in_thread(process_directed, &w);
		CHECK(w.r == -1 && w.err == EINTR && w.ran_here,
		      "%s: kill() while all block it -> the waiter handles it, EINTR", names[how]);

		in_thread(ready_fd_wins, &w);
		CHECK(w.r == 1, "%s: a ready fd with SIGUSR1 pending -> 1", names[how]);
		CHECK(w.blocked_after && w.ran_here,
		      "%s: SIGUSR1 then stays pending, blocked, for sigtimedwait", names[how]);
	}
	sigset_t chld;
	int status, err, k0 = atomic_load(&ticks);
	pid_t pid;
	sa.sa_handler = on_chld;
	MUST(sigaction(SIGCHLD, &sa, NULL));
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	MUST(pthread_sigmask(SIG_BLOCK, &chld, NULL));
	int go[2];
	pthread_t rel;
	MUST(pipe(go));
	pid = fork();
	if (pid == 0) {
		char c;
		close(go[1]);
		/* ends once the releaser thread of the parent says so */
		_exit(read(go[0], &c, 1) == 1 ? 0 : 1);
	}
	MUST(pid < 0);
	close(go[0]);
	release_fd = go[1];
	release_after = k0;
	MUST(pthread_create(&rel, NULL, releaser, NULL));
	int r = wait_once(PSELECT, &err);
	CHECK(r == -1 && err == EINTR && children == 1,
	      "pselect: a child's SIGCHLD, blocked until the call -> EINTR after its handler");
	CHECK(atomic_load(&ticks) > k0, "pselect: the ticker ran while main waited for the child");
	MUST(waitpid(pid, &status, 0) != pid);
	MUST(pthread_join(rel, NULL));
	close(go[1]);

	atomic_store(&stop, 1);
	MUST(pthread_join(tick, NULL));
	return check_done();
}
