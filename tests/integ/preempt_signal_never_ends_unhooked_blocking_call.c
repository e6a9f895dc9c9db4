/* Preemption's signal never ends a blocking system call the program makes
 * where no hook sees it. A thread computes (a loop that calls nothing,
 * preempted, with a ticker due every 5 ms: the timers that preempt it are
 * armed), then at once blocks in read(2) made with an inline system call
 * instruction on a pipe that a child process writes a byte to every 25
 * ms, twenty times. Natively no signal exists and no read ends with EINTR; a
 * program that installs no handler has no reason to expect one. Under the
 * preload every read must come back with its byte too: a timer that fires
 * during the read restarts it (SA_RESTART), as the kernel would for a
 * signal the program never asked for. */
/* cflags: -O2 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define ROUNDS 20

static struct ticker tick;
static unsigned long per_ms;
static int data[2];

/* read(2) with no libc in between: no hook sees it. */
static long raw_read(int fd, void *buf, unsigned long n)
{
#if defined(__x86_64__)
	long r;
	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "0"((long)SYS_read), "D"((long)fd), "S"(buf), "d"(n)
			 : "rcx", "r11", "memory");
	return r;
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = SYS_read;
	register long x0 __asm__("x0") = fd;
	register long x1 __asm__("x1") = (long)buf;
	register long x2 __asm__("x2") = (long)n;
	__asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
	return x0;
#else
	return syscall(SYS_read, fd, buf, n);
#endif
}

static void *reader(void *arg)
{
	int eintr = 0, got = 0;
	char c;

	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		spin_turns(20 * per_ms);
		long r = raw_read(data[0], &c, 1); /* no hooked call since the loop */
		if (r == -EINTR)
			eintr++;
		else if (r == 1)
			got++;
		while (r == -EINTR) /* what a careful program would do: the byte is still due */
			r = raw_read(data[0], &c, 1);
	}
	printf("raw reads that got their byte: %d of %d\n", got, ROUNDS);
	CHECK(eintr == 0, "no raw read ended with EINTR (%d did)", eintr);
	return NULL;
}

int main(void)
{
	pid_t pid;
	int status;

	per_ms = spin_turns_per_ms();
	MUST(pipe(data));
	pid = fork();
	MUST(pid < 0);
	if (pid == 0) {
		close(data[0]);
		for (int i = 0; i < ROUNDS; i++) {
			struct timespec t25 = {0, 25 * 1000 * 1000};
			nanosleep(&t25, NULL);
			if (write(data[1], "d", 1) != 1)
				_exit(1);
		}
		_exit(0);
	}
	close(data[1]);
	tick_start(&tick, 5);
	run_thread(reader, NULL);
	MUST(waitpid(pid, &status, 0) != pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child wrote every byte");
	tick_stop(&tick);
	return check_done();
}
