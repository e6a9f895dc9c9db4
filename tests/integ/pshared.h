/* Helpers for the process-shared programs (pshared_*.c): shared memory and
 * a second process that runs a role of the same program, in three ways:
 *
 *   PS_FORK    a fork child that runs the role in place (under the preload
 *              a green fork child);
 *   PS_EXEC    the program exec'ed again with the same environment (under
 *              the preload a second greenified process);
 *   PS_NATIVE  the program exec'ed again without LD_PRELOAD (plain glibc on
 *              the other side, whatever the parent runs under).
 *
 * The memory is a memfd inherited through exec; a role gets its number as
 * argv[2]. Children report through the shared memory and their exit status,
 * never on stdout (the parent's output is compared). */
#ifndef INTEG_PSHARED_H
#define INTEG_PSHARED_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

enum ps_how { PS_FORK, PS_EXEC, PS_NATIVE };

static const char *const ps_how_name[] = {"fork", "exec", "native"};

extern char **environ;

/* n bytes of zeroed shared memory; *fd is its memfd (inherited by exec). */
static inline void *ps_map(size_t n, int *fd)
{
	void *p;

	*fd = memfd_create("pshared", 0);
	if (*fd < 0 || ftruncate(*fd, (off_t)n) != 0) {
		perror("memfd");
		exit(2);
	}
	p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	return p;
}

/* The same memory in a role: argv[2] is the fd. */
static inline void *ps_attach(const char *fdarg, size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED, atoi(fdarg), 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	return p;
}

/* Runs role(fd) in another process, made the way how says. extra is one
 * more argument for the role (argv[3]), or NULL. */
static inline pid_t ps_spawn(enum ps_how how, const char *role, int fd, const char *extra,
			     int (*in_place)(const char *fdarg, const char *extra))
{
	char fdarg[16];
	pid_t pid;

	snprintf(fdarg, sizeof fdarg, "%d", fd);
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(2);
	}
	if (pid > 0)
		return pid;
	if (how == PS_FORK)
		_exit(in_place(fdarg, extra));
	char *args[] = {"pshared-child", (char *)role, fdarg, (char *)extra, NULL};
	if (how == PS_NATIVE) {
		/* Every variable but LD_PRELOAD. */
		size_t n = 0, k = 0;
		while (environ[n])
			n++;
		char **env = calloc(n + 1, sizeof(*env));
		for (size_t i = 0; i < n; i++)
			if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0)
				env[k++] = environ[i];
		execve("/proc/self/exe", args, env);
	} else {
		execv("/proc/self/exe", args);
	}
	perror("exec");
	_exit(127);
}

/* Waits for the child; 1 when it exited 0. */
static inline int ps_reap(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid) {
		perror("waitpid");
		return 0;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fprintf(stderr, "child %d: status 0x%x\n", (int)pid, st);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

#endif
