/* Hazard: glibc's pthread_create gives a new OS thread an rseq registration
 * when its creator's rseq area says the creator has one, and aborts
 * ("rseq registration failed") when that registration then fails. Where
 * the kernel refuses rseq (a seccomp filter, as sandboxes install;
 * valgrind), the process's threads have none, and the OS threads the
 * library makes from a green thread (its workers for name lookups, libuv's
 * pool) must have none either.
 *   The program installs a seccomp filter that answers rseq with ENOSYS and
 *   execs itself (the filter stays, so glibc registers no rseq from the
 *   start); then 8 threads each look "localhost" up 3 times (on worker
 *   threads under the preload) while a ticker runs; every answer is a
 *   loopback address and the process exits 0. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

enum { THREADS = 8, ROUNDS = 3 };

static atomic_int good, ticks, done;

static int loopback(const struct addrinfo *ai)
{
	if (ai->ai_family == AF_INET)
		return ntohl(((struct sockaddr_in *)ai->ai_addr)->sin_addr.s_addr) ==
		       INADDR_LOOPBACK;
	if (ai->ai_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr);
	return 0;
}

static void *looker(void *arg)
{
	(void)arg;
	for (int r = 0; r < ROUNDS; r++) {
		struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
		if (getaddrinfo("localhost", "80", &hints, &res) == 0 && res && loopback(res))
			good++;
		if (res)
			freeaddrinfo(res);
	}
	return NULL;
}

static void *ticker(void *arg)
{
	(void)arg;
	while (!done) {
		ticks++;
		sleep_ms(1);
	}
	return NULL;
}

static int refuse_rseq(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_rseq, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof f / sizeof f[0], .filter = f};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

int main(int argc, char **argv)
{
	pthread_t t[THREADS], tick;

	if (argc < 2 || strcmp(argv[1], "filtered") != 0) {
		char *args[] = {argv[0], "filtered", NULL};
		MUST(refuse_rseq());
		execv("/proc/self/exe", args);
		perror("execv");
		return 1;
	}
	alarm(60);
	/* The filter is there: a thread's own registration is refused. */
	CHECK(syscall(__NR_rseq, NULL, 0, 0, 0) < 0 && errno == ENOSYS,
	      "rseq is refused with ENOSYS");
	MUST(pthread_create(&tick, NULL, ticker, NULL));
	for (int i = 0; i < THREADS; i++)
		MUST(pthread_create(&t[i], NULL, looker, NULL));
	for (int i = 0; i < THREADS; i++)
		MUST(pthread_join(t[i], NULL));
	done = 1;
	MUST(pthread_join(tick, NULL));
	CHECK(good == THREADS * ROUNDS, "every lookup of localhost gives a loopback address");
	CHECK(ticks > 0, "the ticker ran meanwhile");
	return check_done();
}
