/* Hazard: the kernel kills a task whose system call, dispatched to the
 * runtime's SIGSYS handler because it was made outside libc, traps while
 * the task blocks SIGSYS. A program that blocks every signal before its
 * first thread (the sigwait pattern: every thread inherits the mask) would
 * die of SIGSYS at its first dlopen (the dynamic linker's openat and mmap
 * are made outside libc) or libgomp futex wait. With every signal blocked
 * in every thread:
 *   four threads take a lock on inline FUTEX_WAIT and FUTEX_WAKE (libgomp's
 *     gomp_mutex), holding it across a sleep now and then;
 *   a thread dlopens a library while others wait on the inline futex;
 *   pthread_sigmask still says SIGSYS is blocked;
 *   a SIGSYS sent with kill waits pending (its handler does not run) until
 *     the thread unblocks it, then its handler runs once;
 *   a fork child's thread waits on an inline futex another wakes.
 * And, every signal unblocked again:
 *   an inline rt_sigprocmask that blocks SIGUSR1 is seen by the next one
 *     (the kernel's mask, as natively);
 *   an int $0x80 call (i386's numbers: 20 is getpid) gives getpid();
 *   the clocks the vDSO reads with a system call of its own (the process's
 *     CPU clock) read as natively, an unknown clock id fails with EINVAL.
 * Elsewhere than x86_64 the calls go through libc's syscall(). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "inline_syscall.h"

static atomic_int lock_word;
static long counter;

enum { LOCKERS = 4, ROUNDS = 50 };

static atomic_int sys_blocked_everywhere = 1;

static void note_mask(void)
{
	sigset_t cur;

	if (pthread_sigmask(SIG_BLOCK, NULL, &cur) != 0 || !sigismember(&cur, SIGSYS) ||
	    !sigismember(&cur, SIGUSR1))
		atomic_store(&sys_blocked_everywhere, 0);
}

static void *locker(void *arg)
{
	(void)arg;
	note_mask();
	for (int i = 0; i < ROUNDS; i++) {
		gomp_style_lock(&lock_word);
		long v = counter;
		if (i % 10 == 0)
			sleep_ms(1);
		counter = v + 1;
		gomp_style_unlock(&lock_word);
	}
	return NULL;
}

static atomic_int dl_ok;

static void *opener(void *arg)
{
	(void)arg;
	note_mask();
	/* glibc's, never loaded by the program or the library. */
	void *h = dlopen("libresolv.so.2", RTLD_NOW | RTLD_LOCAL);
	if (h && dlsym(h, "__b64_ntop") != NULL)
		atomic_store(&dl_ok, 1);
	if (h)
		dlclose(h);
	return NULL;
}

static volatile sig_atomic_t got_sys;

static void on_sys(int sig)
{
	(void)sig;
	got_sys++;
}

int main(void)
{
	pthread_t t[LOCKERS], o;
	sigset_t all, sys, pend;
	struct sigaction sa;

	alarm(60);
	sigfillset(&all);
	MUST(pthread_sigmask(SIG_BLOCK, &all, NULL));
	for (int i = 0; i < LOCKERS; i++)
		MUST(pthread_create(&t[i], NULL, locker, NULL));
	MUST(pthread_create(&o, NULL, opener, NULL));
	for (int i = 0; i < LOCKERS; i++)
		MUST(pthread_join(t[i], NULL));
	MUST(pthread_join(o, NULL));
	CHECK(counter == LOCKERS * ROUNDS,
	      "with every signal blocked, a lock on inline futex calls counts every round (%ld)",
	      counter);
	CHECK(atomic_load(&dl_ok), "with every signal blocked, a thread's dlopen and dlsym work");
	note_mask();
	CHECK(atomic_load(&sys_blocked_everywhere), "pthread_sigmask says SIGSYS is blocked");

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sys;
	MUST(sigaction(SIGSYS, &sa, NULL));
	MUST(kill(getpid(), SIGSYS));
	sleep_ms(5);
	CHECK(got_sys == 0, "a blocked SIGSYS's handler does not run");
	MUST(sigpending(&pend));
	CHECK(sigismember(&pend, SIGSYS), "a blocked SIGSYS is pending");
	sigemptyset(&sys);
	sigaddset(&sys, SIGSYS);
	MUST(pthread_sigmask(SIG_UNBLOCK, &sys, NULL));
	CHECK(got_sys == 1, "unblocked, the pending SIGSYS's handler runs once (%d)", (int)got_sys);
	MUST(pthread_sigmask(SIG_BLOCK, &sys, NULL));

	pid_t pid = fork();
	if (pid == 0)
		_exit(inline_fork_child_main());
	int status = -1;
	MUST(waitpid(pid, &status, 0) == pid ? 0 : -1);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "with every signal blocked, a fork child's inline futex wait ends by another's wake");

	MUST(pthread_sigmask(SIG_UNBLOCK, &all, NULL));
#if defined(__x86_64__)
	uint64_t usr1 = (uint64_t)1 << (SIGUSR1 - 1), old = 0;
	long r1 = raw4(SYS_rt_sigprocmask, SIG_BLOCK, (long)&usr1, 0, sizeof usr1);
	long r2 = raw4(SYS_rt_sigprocmask, SIG_UNBLOCK, (long)&usr1, (long)&old, sizeof usr1);
	CHECK(r1 == 0 && r2 == 0 && (old & usr1),
	      "an inline rt_sigprocmask's block is seen by the next (%ld %ld %#llx)", r1, r2,
	      (unsigned long long)old);
	long r;
	__asm__ volatile("int $0x80" : "=a"(r) : "0"(20L) : "memory");
	CHECK(r == getpid(), "int $0x80 with i386's getpid gives getpid()");
#endif
	struct timespec c1, c2, res;
	volatile unsigned long spin = 0;
	MUST(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1));
	for (int i = 0; i < 1000000; i++)
		spin += i;
	MUST(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c2));
	CHECK(ts_ns(&c2) > ts_ns(&c1), "the process's CPU clock advances");
	MUST(clock_getres(CLOCK_PROCESS_CPUTIME_ID, &res));
	CHECK(res.tv_sec == 0 && res.tv_nsec == 1, "the process's CPU clock ticks in ns");
	errno = 0;
	CHECK(clock_gettime((clockid_t)12345, &c1) == -1 && errno == EINVAL,
	      "clock_gettime of an unknown clock: EINVAL");
	return check_done();
}
