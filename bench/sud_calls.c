/*
 * sud_calls — what a system call made outside libc costs, against one
 * made by libc (runtime/sud.c dispatches the first kind to a SIGSYS
 * handler).
 *
 *   sud_calls MODE [n]
 *
 * MODE: pipe (libc's write and read of 8 bytes on a pipe, n times),
 * inline (the same two with the program's own syscall instruction; x86_64
 * only), cputime (clock_gettime(CLOCK_PROCESS_CPUTIME_ID), which the vDSO
 * makes with a system call of its own), dlopen (dlopen and dlclose of
 * libresolv.so.2: the dynamic linker's calls). A thread is made and joined
 * first, which starts greenify's runtime. Prints "MODE: T us per
 * iteration". Run natively, and preloaded with GREENIFY_SYSCALL_DISPATCH
 * on and off.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static long inline3(long nr, long a, long b, long c)
{
#if defined(__x86_64__)
	long r;

	__asm__ volatile("syscall" : "=a"(r) : "0"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return r;
#else
	return syscall(nr, a, b, c);
#endif
}

static void *nothing(void *arg)
{
	return arg;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "pipe";
	long n = argc > 2 ? atol(argv[2]) : 100000;
	pthread_t t;
	struct timespec ts;
	char b[8] = {0};
	int fd[2];
	double t0;

	if (pthread_create(&t, NULL, nothing, NULL) != 0 || pthread_join(t, NULL) != 0 ||
	    pipe(fd) != 0)
		return 1;
	t0 = now();
	for (long i = 0; i < n; i++) {
		if (strcmp(mode, "pipe") == 0) {
			if (write(fd[1], b, 8) != 8 || read(fd[0], b, 8) != 8)
				return 1;
		} else if (strcmp(mode, "inline") == 0) {
			if (inline3(SYS_write, fd[1], (long)b, 8) != 8 ||
			    inline3(SYS_read, fd[0], (long)b, 8) != 8)
				return 1;
		} else if (strcmp(mode, "cputime") == 0) {
			clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
		} else if (strcmp(mode, "dlopen") == 0) {
			void *h = dlopen("libresolv.so.2", RTLD_NOW | RTLD_LOCAL);
			if (!h)
				return 1;
			dlclose(h);
		} else {
			fprintf(stderr, "sud_calls: unknown mode %s\n", mode);
			return 2;
		}
	}
	printf("%s: %.3f us per iteration\n", mode, (now() - t0) / (double)n * 1e6);
	return 0;
}
