/*
 * pshared_pingpong: two processes bounce a turn through two process-shared
 * semaphores (sem_init pshared 1 in a shared memfd), each from a thread of
 * its own (under greenify: a green thread).
 *
 *   pshared_pingpong [rounds] [peer] [cpus]
 *
 * The second process is this program exec'ed again: peer "same" keeps the
 * environment (under greenify, a second greenified process), "native"
 * drops LD_PRELOAD from it (plain glibc on the other side). cpus "any"
 * (the default) leaves the placement to the kernel, which on a machine of
 * two idle CPUs puts the pair on one CPU in some runs and on two in others
 * (a wake-up across CPUs then costs the idle CPU's exit latency, tens of
 * microseconds in a VM): "one" pins both processes to the first CPU the
 * program may use, "two" the parent to it and the child to the second, so
 * that runs compare like with like. Prints ns per round trip (wall time /
 * rounds). A plain pthread program.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

extern char **environ;

struct shm {
	sem_t ping, pong;
	long rounds;
};

static struct shm *s;

static void *child_side(void *arg)
{
	(void)arg;
	for (long i = 0; i < s->rounds; i++) {
		sem_wait(&s->ping);
		sem_post(&s->pong);
	}
	return NULL;
}

static void *parent_side(void *arg)
{
	(void)arg;
	for (long i = 0; i < s->rounds; i++) {
		sem_post(&s->ping);
		sem_wait(&s->pong);
	}
	return NULL;
}

/* The first two CPUs the program may use, as it starts; -1: none. */
static int cpu_of[2] = {-1, -1};

static void find_cpus(void)
{
	cpu_set_t may;
	int n = 0;

	if (sched_getaffinity(0, sizeof(may), &may) != 0)
		return;
	for (int cpu = 0; cpu < CPU_SETSIZE && n < 2; cpu++)
		if (CPU_ISSET(cpu, &may))
			cpu_of[n++] = cpu;
}

/* Pins the calling process to the nth of those CPUs: 0 or -1. */
static int pin(int nth)
{
	cpu_set_t one;

	if (cpu_of[nth] < 0)
		return -1;
	CPU_ZERO(&one);
	CPU_SET(cpu_of[nth], &one);
	return sched_setaffinity(0, sizeof(one), &one);
}

static struct shm *attach(int fd)
{
	struct shm *p = mmap(NULL, sizeof(*p), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	return p;
}

int main(int argc, char **argv)
{
	long rounds = 100000;
	int native = 0, cpus = 0, fd;
	pthread_t t;
	char fdarg[16];
	double t0, t1;
	pid_t pid;
	int st;

	if (argc == 3 && strcmp(argv[1], "--child") == 0) {
		s = attach(atoi(argv[2]));
		pthread_create(&t, NULL, child_side, NULL);
		pthread_join(t, NULL);
		return 0;
	}
	if (argc > 4 || (argc > 1 && bench_parse_count(argv[1], 1, 1000000000L, &rounds) != 0) ||
	    (argc >= 3 && strcmp(argv[2], "same") && strcmp(argv[2], "native")) ||
	    (argc == 4 && strcmp(argv[3], "any") && strcmp(argv[3], "one") &&
	     strcmp(argv[3], "two"))) {
		fprintf(stderr,
			"usage: pshared_pingpong [rounds=100000] [same|native] [any|one|two]\n");
		return 2;
	}
	native = argc >= 3 && strcmp(argv[2], "native") == 0;
	if (argc == 4)
		cpus = strcmp(argv[3], "one") == 0 ? 1 : strcmp(argv[3], "two") == 0 ? 2 : 0;
	find_cpus();
	if (cpus && (pin(0) != 0 || (cpus == 2 && cpu_of[1] < 0))) {
		perror("sched_setaffinity");
		return 1;
	}
	fd = memfd_create("pingpong", 0);
	if (fd < 0 || ftruncate(fd, sizeof(struct shm)) != 0) {
		perror("memfd");
		return 1;
	}
	s = attach(fd);
	sem_init(&s->ping, 1, 0);
	sem_init(&s->pong, 1, 0);
	s->rounds = rounds;
	snprintf(fdarg, sizeof fdarg, "%d", fd);
	pid = fork();
	if (pid == 0) {
		char *args[] = {argv[0], "--child", fdarg, NULL};
		if (cpus == 2 && pin(1) != 0) {
			perror("sched_setaffinity: a second CPU");
			_exit(127);
		}
		if (native) {
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
		_exit(127);
	}
	t0 = bench_now_ms(CLOCK_MONOTONIC);
	pthread_create(&t, NULL, parent_side, NULL);
	pthread_join(t, NULL);
	t1 = bench_now_ms(CLOCK_MONOTONIC);
	waitpid(pid, &st, 0);
	printf("pshared_pingpong peer=%s cpus=%s rounds=%ld ns_per_round_trip=%.1f\n",
	       native ? "native" : "same", cpus == 1 ? "one" : cpus == 2 ? "two" : "any", rounds,
	       (t1 - t0) * 1e6 / (double)rounds);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
