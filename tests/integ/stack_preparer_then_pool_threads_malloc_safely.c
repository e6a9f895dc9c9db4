/* Hazard: past a few hundred threads the runtime starts an OS thread of its
 * own that readies stacks (the preparer). It leaves the process
 * "single-threaded" for glibc (malloc then takes no arena locks), since it
 * runs none of the program's code; once an OS thread that does (libuv's
 * pool, for name lookups) starts, malloc must lock again, or memory
 * allocated and freed from the pool and from green threads at the same
 * time is corrupted.
 *   600 threads alive at once (the preparer starts), then each, 20 times:
 *   mallocs blocks of varying sizes and fills them, every third thread
 *   looks "localhost" up (getaddrinfo, on the pool under the preload) and
 *   frees the answer, the blocks are checked and freed, a short sleep;
 *   every answer is a loopback address and every block keeps its bytes;
 *   and glibc's __libc_single_threaded (which this program reads, so it
 *   has a copy of its own, as libstdc++'s users do) says "multi-threaded"
 *   once main has looked a name up too. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/single_threaded.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

enum { THREADS = 600, ROUNDS = 20, BLOCKS = 8 };

static pthread_barrier_t all_alive;
static atomic_int bad_lookups, bad_blocks, lookups;

static int loopback(const struct addrinfo *ai)
{
	if (ai->ai_family == AF_INET)
		return ntohl(((struct sockaddr_in *)ai->ai_addr)->sin_addr.s_addr) ==
		       INADDR_LOOPBACK;
	if (ai->ai_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr);
	return 0;
}

static void *worker(void *arg)
{
	long i = (long)(intptr_t)arg;

	pthread_barrier_wait(&all_alive);
	for (int r = 0; r < ROUNDS; r++) {
		unsigned char *b[BLOCKS];
		size_t len[BLOCKS];
		for (int k = 0; k < BLOCKS; k++) {
			len[k] = 16 + (size_t)((i * 31 + r * 7 + k * 13) % 2000);
			b[k] = malloc(len[k]);
			if (!b[k]) {
				bad_blocks++;
				return NULL;
			}
			memset(b[k], (int)(i + k), len[k]);
		}
		if (i % 3 == 0) {
			struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
			if (getaddrinfo("localhost", "80", &hints, &res) != 0 || !res ||
			    !loopback(res))
				bad_lookups++;
			if (res)
				freeaddrinfo(res);
			lookups++;
		}
		for (int k = 0; k < BLOCKS; k++) {
			if (b[k][0] != (unsigned char)(i + k) ||
			    b[k][len[k] - 1] != (unsigned char)(i + k))
				bad_blocks++;
			free(b[k]);
		}
		sleep_ms(r % 2);
	}
	return NULL;
}

int main(void)
{
	static pthread_t t[THREADS];
	struct addrinfo *res = NULL;

	alarm(60);
	MUST(pthread_barrier_init(&all_alive, NULL, THREADS));

	for (long i = 0; i < THREADS; i++)
		MUST(pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i));
	CHECK(getaddrinfo("localhost", "80", NULL, &res) == 0 && res && loopback(res),
	      "main looks localhost up");
	if (res)
		freeaddrinfo(res);
	CHECK(!__libc_single_threaded, "the process is multi-threaded for glibc's readers");
	for (int i = 0; i < THREADS; i++)
		MUST(pthread_join(t[i], NULL));
	CHECK(lookups == (THREADS + 2) / 3 * ROUNDS, "every third thread looked up each round");
	CHECK(bad_lookups == 0, "every lookup of localhost gives a loopback address");
	CHECK(bad_blocks == 0, "every block keeps its bytes until freed (%d did not)",
	      bad_blocks);
	return check_done();
}
