/* Hazard: a green rwlock must let readers share and keep writers exclusive.
 *   4 readers and 2 writers loop with yields inside their critical
 *     sections, through every way of locking (rdlock/wrlock, try* retried,
 *     timed* and clock* with far deadlines): while a writer holds the lock
 *     no reader and no other writer is inside, and a reader always sees the
 *     4 data words equal (a writer bumps them one by one, yielding between);
 *   two readers must be inside at the same time (each waits, holding its
 *     read lock, until the other is in: an rwlock that made readers exclusive
 *     would time out here);
 *   the static initializers PTHREAD_RWLOCK_INITIALIZER and
 *     PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP both work. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "check.h"

#define READERS 4
#define WRITERS 2
#define READ_ROUNDS 200
#define WRITE_ROUNDS 80

struct guarded {
	pthread_rwlock_t lock;
	long data[4];
	atomic_int readers_in, writers_in;
	atomic_int violations, torn_reads;
	atomic_long reads, writes;
};

static struct guarded g_default = { .lock = PTHREAD_RWLOCK_INITIALIZER };
static struct guarded g_nonrec = { .lock = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP };

static void read_lock(struct guarded *g, int how)
{
	struct timespec dl;

	switch (how % 4) {
	case 0:
		MUST(pthread_rwlock_rdlock(&g->lock));
		break;
	case 1:
		while (pthread_rwlock_tryrdlock(&g->lock) == EBUSY)
			sched_yield();
		break;
	case 2:
		dl = deadline_in(CLOCK_REALTIME, MS(10000));
		MUST(pthread_rwlock_timedrdlock(&g->lock, &dl));
		break;
	default:
		dl = deadline_in(CLOCK_MONOTONIC, MS(10000));
		MUST(pthread_rwlock_clockrdlock(&g->lock, CLOCK_MONOTONIC, &dl));
	}
}

static void write_lock(struct guarded *g, int how)
{
	struct timespec dl;

	switch (how % 4) {
	case 0:
		MUST(pthread_rwlock_wrlock(&g->lock));
		break;
	case 1:
		while (pthread_rwlock_trywrlock(&g->lock) == EBUSY)
			sched_yield();
		break;
	case 2:
		dl = deadline_in(CLOCK_REALTIME, MS(10000));
		MUST(pthread_rwlock_timedwrlock(&g->lock, &dl));
		break;
	default:
		dl = deadline_in(CLOCK_REALTIME, MS(10000));
		MUST(pthread_rwlock_clockwrlock(&g->lock, CLOCK_REALTIME, &dl));
	}
}

static void *reader(void *arg)
{
	struct guarded *g = arg;

	for (int i = 0; i < READ_ROUNDS; i++) {
		read_lock(g, i);
		atomic_fetch_add(&g->readers_in, 1);
		if (atomic_load(&g->writers_in) != 0)
			atomic_fetch_add(&g->violations, 1);
		long first = g->data[0];
		sched_yield();
		for (int k = 1; k < 4; k++)
			if (g->data[k] != first)
				atomic_fetch_add(&g->torn_reads, 1);
		atomic_fetch_sub(&g->readers_in, 1);
		atomic_fetch_add(&g->reads, 1);
		MUST(pthread_rwlock_unlock(&g->lock));
		if (i % 8 == 0)
			sched_yield();
	}
	return NULL;
}

static void *writer(void *arg)
{
	struct guarded *g = arg;

	for (int i = 0; i < WRITE_ROUNDS; i++) {
		write_lock(g, i);
		if (atomic_fetch_add(&g->writers_in, 1) != 0 || atomic_load(&g->readers_in) != 0)
			atomic_fetch_add(&g->violations, 1);
		for (int k = 0; k < 4; k++) {
			g->data[k]++;
			sched_yield();
		}
		if (atomic_load(&g->readers_in) != 0)
			atomic_fetch_add(&g->violations, 1);
		atomic_fetch_sub(&g->writers_in, 1);
		atomic_fetch_add(&g->writes, 1);
		MUST(pthread_rwlock_unlock(&g->lock));
		sched_yield();
	}
	return NULL;
}

static void run(const char *name, struct guarded *g)
{
	pthread_t r[READERS], w[WRITERS];

	for (int i = 0; i < READERS; i++)
		MUST(pthread_create(&r[i], NULL, reader, g));
	for (int i = 0; i < WRITERS; i++)
		MUST(pthread_create(&w[i], NULL, writer, g));
	for (int i = 0; i < READERS; i++)
		MUST(pthread_join(r[i], NULL));
	for (int i = 0; i < WRITERS; i++)
		MUST(pthread_join(w[i], NULL));
	CHECK(atomic_load(&g->violations) == 0, "%s: a writer was always alone", name);
	CHECK(atomic_load(&g->torn_reads) == 0, "%s: readers never saw a half-done write", name);
	CHECK(atomic_load(&g->reads) == READERS * READ_ROUNDS, "%s: %ld reads", name,
	      atomic_load(&g->reads));
	CHECK(atomic_load(&g->writes) == WRITERS * WRITE_ROUNDS, "%s: %ld writes", name,
	      atomic_load(&g->writes));
	CHECK(g->data[0] == WRITERS * WRITE_ROUNDS && g->data[3] == g->data[0],
	      "%s: data words are %ld", name, g->data[0]);
	CHECK_ERR(pthread_rwlock_trywrlock(&g->lock), 0, "%s: free at the end", name);
	CHECK_ERR(pthread_rwlock_unlock(&g->lock), 0, "%s: unlock", name);
}

/* ---- two readers inside at once ---- */
static pthread_rwlock_t shared_rw = PTHREAD_RWLOCK_INITIALIZER;
static atomic_int inside_together;

static void *read_until_both_inside(void *arg)
{
	int *met = arg;

	MUST(pthread_rwlock_rdlock(&shared_rw));
	atomic_fetch_add(&inside_together, 1);
	for (int64_t t0 = mono_ns(); mono_ns() - t0 < MS(3000); sleep_ms(1))
		if (atomic_load(&inside_together) == 2) {
			*met = 1;
			break;
		}
	MUST(pthread_rwlock_unlock(&shared_rw));
	return NULL;
}

int main(void)
{
	pthread_t a, b;
	int met_a = 0, met_b = 0;

	alarm(20);
	run("PTHREAD_RWLOCK_INITIALIZER", &g_default);
	run("PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP", &g_nonrec);

	MUST(pthread_create(&a, NULL, read_until_both_inside, &met_a));
	MUST(pthread_create(&b, NULL, read_until_both_inside, &met_b));
	MUST(pthread_join(a, NULL));
	MUST(pthread_join(b, NULL));
	CHECK(met_a && met_b, "two readers held the read lock at the same time");
	return check_done();
}
