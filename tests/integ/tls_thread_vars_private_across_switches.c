/* needs: private-tls */
/* Hazard: __thread variables belong to the thread.  Green threads that share
 * one OS thread must each get their own static TLS block, kept across every
 * switch, or one thread's counter is another's:
 *   100 threads each add to a __thread counter and a __thread array, and
 *     write their own errno, sleeping or yielding between rounds, and find
 *     exactly their own values every round and at the end;
 *   a __thread variable with an initializer (.tdata) reads its initial value
 *     in every new thread, although main changed its own copy before
 *     creating them; .tbss variables start zeroed although main wrote its
 *     own;
 *   &counter and &errno are different in every thread (and from main's);
 *   glibc's own per-thread buffers (strerror of an unknown number,
 *     inet_ntoa) still hold each thread's result after the rounds;
 *   main's own values survive all of it.
 * Results are gathered per thread and printed by main after the joins. */
/* run-also: disable */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "check.h"

enum { NTHREADS = 100, ROUNDS = 10, ARR = 16 };

#define TDATA_INIT 0x5eedL

static __thread long tl_counter;		 /* .tbss */
static __thread unsigned long tl_arr[ARR];	 /* .tbss */
static __thread long tl_init = TDATA_INIT;	 /* .tdata */
static __thread const char *tl_name = "initial"; /* .tdata with a relocation */

/* What each thread saw, filled in by the thread. */
struct seen {
	int started_init; /* .tdata read its initializers at start */
	int started_zero; /* .tbss read zero at start */
	int rounds_ok;	  /* counter and array right after every switch */
	int errno_ok;	  /* errno right after every switch */
	int end_ok;	  /* final values exact */
	int libc_bufs_ok; /* strerror and inet_ntoa results survived */
	void *counter_at; /* &tl_counter */
	void *errno_at;	  /* &errno */
};

static struct seen seen[NTHREADS];
static pthread_barrier_t all_started;

static void pause_a_little(long i, int r)
{
	if ((i + r) % 3 == 0)
		sched_yield();
	else
		sleep_ms(1 + (i * 7 + r) % 3);
}

static void *use_tls(void *arg)
{
	long i = (long)(intptr_t)arg;
	struct seen *s = &seen[i];
	int zero = tl_counter == 0;

	for (int k = 0; k < ARR; k++)
		zero &= tl_arr[k] == 0;
	s->started_zero = zero;
	s->started_init = tl_init == TDATA_INIT && strcmp(tl_name, "initial") == 0;
	s->counter_at = &tl_counter;
	s->errno_at = &errno;
	/* Both return glibc's per-thread buffer, good until the thread's next
	 * call of the same function. */
	const char *msg = strerror((int)(100000 + i));
	struct in_addr a = {.s_addr = htonl(0x0a000000u + (uint32_t)i)};
	const char *dotted = inet_ntoa(a);
	char want_msg[48], want_dotted[48];
	snprintf(want_msg, sizeof want_msg, "Unknown error %ld", 100000 + i);
	snprintf(want_dotted, sizeof want_dotted, "10.0.0.%ld", i);
	/* Everybody is running before anybody writes: no thread can have
	 * finished and left a block behind for the next one to start in. */
	pthread_barrier_wait(&all_started);

	tl_name = "mine";
	s->rounds_ok = 1;
	s->errno_ok = 1;
	for (int r = 0; r < ROUNDS; r++) {
		tl_counter += i + 1;
		tl_arr[r % ARR] += (unsigned long)(i * 1000 + r);
		tl_init ^= i << r;
		errno = (int)(1000 + i);
		pause_a_little(i, r);
		if (errno != 1000 + i)
			s->errno_ok = 0;
		if (tl_counter != (r + 1) * (i + 1) ||
		    tl_arr[r % ARR] != (unsigned long)(i * 1000 + r))
			s->rounds_ok = 0;
	}
	long want_init = TDATA_INIT;
	for (int r = 0; r < ROUNDS; r++)
		want_init ^= i << r;
	int ok = tl_counter == ROUNDS * (i + 1) && tl_init == want_init &&
		 strcmp(tl_name, "mine") == 0;
	for (int k = 0; k < ARR; k++)
		ok &= tl_arr[k] == (k < ROUNDS ? (unsigned long)(i * 1000 + k) : 0);
	s->end_ok = ok;
	s->libc_bufs_ok = strcmp(msg, want_msg) == 0 && strcmp(dotted, want_dotted) == 0;
	return NULL;
}

int main(void)
{
	pthread_t tids[NTHREADS];
	void *counters[NTHREADS + 1], *errnos[NTHREADS + 1];
	int n_init = 0, n_zero = 0, n_rounds = 0, n_end = 0, n_bufs = 0, n_errno = 0;

	alarm(20);
	/* Main's own copies, which no new thread may start with. */
	tl_init = 77;
	tl_name = "main";
	tl_counter = -5;
	tl_arr[3] = 33;
	MUST(pthread_barrier_init(&all_started, NULL, NTHREADS));
	for (long i = 0; i < NTHREADS; i++)
		MUST(pthread_create(&tids[i], NULL, use_tls, (void *)(intptr_t)i));
	errno = EILSEQ;
	sleep_ms(5);
	int main_errno = errno == EILSEQ;
	for (int i = 0; i < NTHREADS; i++)
		MUST(pthread_join(tids[i], NULL));
	main_errno &= errno == EILSEQ;

	for (int i = 0; i < NTHREADS; i++) {
		n_init += seen[i].started_init;
		n_zero += seen[i].started_zero;
		n_rounds += seen[i].rounds_ok;
		n_end += seen[i].end_ok;
		n_bufs += seen[i].libc_bufs_ok;
		n_errno += seen[i].errno_ok;
		counters[i] = seen[i].counter_at;
		errnos[i] = seen[i].errno_at;
		if ((!seen[i].rounds_ok || !seen[i].end_ok || !seen[i].started_init) && i < 5)
			fprintf(stderr, "thread %d: init %d zero %d rounds %d end %d\n", i,
				seen[i].started_init, seen[i].started_zero, seen[i].rounds_ok,
				seen[i].end_ok);
	}
	counters[NTHREADS] = &tl_counter;
	errnos[NTHREADS] = &errno;
	CHECK(n_init == NTHREADS,
	      "%d threads: .tdata initializers seen at start, not main's values", NTHREADS);
	CHECK(n_zero == NTHREADS, "%d threads: .tbss zero at start, not main's values", NTHREADS);
	CHECK(n_rounds == NTHREADS,
	      "%d threads: own __thread counter and array after every sleep and yield", NTHREADS);
	CHECK(n_errno == NTHREADS, "%d threads: own errno after every sleep and yield", NTHREADS);
	CHECK(n_end == NTHREADS, "%d threads: final __thread values exactly their own", NTHREADS);
	CHECK(count_distinct(counters, NTHREADS + 1) == NTHREADS + 1,
	      "&counter differs in every thread and main");
	CHECK(count_distinct(errnos, NTHREADS + 1) == NTHREADS + 1,
	      "&errno differs in every thread and main");
	CHECK(n_bufs == NTHREADS,
	      "%d threads: glibc's per-thread strerror and inet_ntoa buffers kept their results",
	      NTHREADS);
	CHECK(tl_init == 77 && strcmp(tl_name, "main") == 0 && tl_counter == -5 && tl_arr[3] == 33,
	      "main's own __thread values untouched");
	CHECK(main_errno, "main's errno survived its sleep and joins");
	return check_done();
}
