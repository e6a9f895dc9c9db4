/* Hazard: every thread has its own id. gettid() and syscall(SYS_gettid)
 * agree, main's is the pid, no two threads share one; the calls that take
 * a tid act on that thread: tgkill(getpid(), tid, SIGUSR1) (also tkill and
 * rt_tgsigqueueinfo through syscall()) runs the handler in that thread,
 * while the others keep running; tgkill with another tgid says ESRCH, and
 * so does one to a thread that has been joined; sched_getaffinity takes
 * the tid; /proc/self/task/TID and /proc/TID exist for open, openat,
 * fopen, freopen, stat, opendir, access; in the child of a fork from a
 * thread, that thread's id is the child's pid, as the only thread of a new
 * process. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define N 8

static pid_t tids[N];
static atomic_int got[N], stop;
static atomic_long handled_by[N];
static pthread_barrier_t ready;

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	pid_t me = gettid();

	(void)sig;
	(void)uc;
	for (int i = 0; i < N; i++)
		if (tids[i] == me) {
			/* the value first: main looks at it once it sees got */
			handled_by[i] = si->si_code == SI_QUEUE ? si->si_value.sival_int : -1;
			atomic_fetch_add(&got[i], 1);
		}
}

static void *worker(void *arg)
{
	int i = (int)(long)arg;

	tids[i] = gettid();
	if ((pid_t)syscall(SYS_gettid) != tids[i])
		tids[i] = -1;
	pthread_barrier_wait(&ready);
	while (!atomic_load(&stop)) {
		struct timespec ms = {0, 1000000};
		nanosleep(&ms, NULL); /* EINTR when the signal comes */
	}
	return NULL;
}

static void *fork_here(void *arg)
{
	int status = 0;
	pid_t pid = fork();

	(void)arg;
	if (pid == 0)
		_exit(gettid() == getpid() && (pid_t)syscall(SYS_gettid) == getpid() ? 0 : 1);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return (void *)-1L;
	return (void *)(long)(WIFEXITED(status) ? WEXITSTATUS(status) : 2);
}

static int proc_entries_exist(pid_t tid)
{
	char path[64];
	struct stat st;
	int ok = 1;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	int fd = open(path, O_RDONLY);
	ok &= fd >= 0;
	if (fd >= 0)
		close(fd);
	FILE *f = fopen(path, "r");
	ok &= f != NULL;
	if (f)
		fclose(f);
	f = fopen("/dev/null", "r");
	if (f) {
		f = freopen(path, "r", f);
		ok &= f != NULL;
		if (f)
			fclose(f);
	} else {
		ok = 0;
	}
	ok &= stat(path, &st) == 0;
	ok &= access(path, R_OK) == 0;
	snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)getpid(), (int)tid);
	DIR *d = opendir(path);
	ok &= d != NULL;
	if (d)
		closedir(d);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	fd = openat(AT_FDCWD, path, O_RDONLY);
	ok &= fd >= 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

int main(void)
{
	struct sigaction sa = {0};
	pthread_t t[N];
	int distinct = 1, agree = 1, not_pid = 1;

	sa.sa_sigaction = on_usr1;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGUSR1, &sa, NULL));
	MUST(pthread_barrier_init(&ready, NULL, N + 1));
	for (long i = 0; i < N; i++)
		MUST(pthread_create(&t[i], NULL, worker, (void *)i));
	pthread_barrier_wait(&ready);

	CHECK(gettid() == getpid(), "main's id is the pid");
	CHECK((pid_t)syscall(SYS_gettid) == getpid(), "syscall(SYS_gettid) agrees for main");
	for (int i = 0; i < N; i++) {
		agree &= tids[i] > 0;
		not_pid &= tids[i] != getpid();
		for (int k = 0; k < i; k++)
			distinct &= tids[i] != tids[k];
		fprintf(stderr, "thread %d: tid %d\n", i, (int)tids[i]);
	}
	CHECK(agree, "gettid and syscall(SYS_gettid) agree in every thread");
	CHECK(not_pid, "no thread has main's id");
	CHECK(distinct, "every thread has an id of its own");

	for (int i = 0; i < N; i += 2)
		CHECK_ERR(tgkill(getpid(), tids[i], SIGUSR1) < 0 ? errno : 0, 0, "tgkill thread %d", i);
	CHECK_ERR(syscall(SYS_tkill, tids[1], SIGUSR1) < 0 ? errno : 0, 0, "tkill thread 1");
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGUSR1;
	si.si_code = SI_QUEUE;
	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_value.sival_int = 4242;
	CHECK_ERR(syscall(SYS_rt_tgsigqueueinfo, getpid(), tids[3], SIGUSR1, &si) < 0 ? errno : 0,
		  0, "rt_tgsigqueueinfo thread 3");
	for (int k = 0; k < 200; k++) { /* the handlers run in their threads */
		int all = 1;
		for (int i = 0; i < N; i++)
			if (i % 2 == 0 || i == 1 || i == 3)
				all &= atomic_load(&got[i]) > 0;
		if (all)
			break;
		sleep_ms(5);
	}
	int right = 1;
	for (int i = 0; i < N; i++) {
		int want = i % 2 == 0 || i == 1 || i == 3;
		right &= (atomic_load(&got[i]) == 1) == want;
	}
	CHECK(right, "each signal ran its handler in the thread it was sent to, once");
	CHECK(handled_by[3] == 4242, "rt_tgsigqueueinfo's value reached thread 3");
	CHECK_ERR(tgkill(getpid() + 1, tids[0], 0) < 0 ? errno : 0, ESRCH, "tgkill with another tgid");
	CHECK_ERR(tgkill(getpid(), tids[5], 0) < 0 ? errno : 0, 0, "tgkill sig 0 to a live thread");

	cpu_set_t set;
	CPU_ZERO(&set);
	CHECK_ERR(sched_getaffinity(tids[2], sizeof(set), &set) < 0 ? errno : 0, 0,
		  "sched_getaffinity of a thread's id");
	CHECK(CPU_COUNT(&set) > 0, "it has CPUs");
	int entries = 1;
	for (int i = 0; i < N; i++)
		entries &= proc_entries_exist(tids[i]);
	CHECK(entries, "/proc/self/task/TID and /proc/TID exist for every thread");

	pthread_t f;
	void *fr;
	MUST(pthread_create(&f, NULL, fork_here, NULL));
	MUST(pthread_join(f, &fr));
	CHECK(fr == NULL, "in a fork child, the forking thread's id is the child's pid");

	atomic_store(&stop, 1);
	for (int i = 0; i < N; i++)
		MUST(pthread_join(t[i], NULL));
	CHECK_ERR(tgkill(getpid(), tids[0], SIGUSR1) < 0 ? errno : 0, ESRCH, "tgkill of a joined thread");
	return check_done();
}
