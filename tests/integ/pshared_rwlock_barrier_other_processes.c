/* Hazard: a PTHREAD_PROCESS_SHARED rwlock and barrier used by threads of
 * several processes: a fork child, a second greenified process, and
 * processes running plain glibc.
 *
 * rwlock: the two sides take turns holding the write lock while the other
 * asks for a read lock (and the other way round), so that each side waits
 * for the other's unlock, in both directions; a timed read lock times out
 * while the other side writes; the default and the writer-preferring kind.
 * barrier: three processes (ours and two others) meet at one barrier 200
 * times; after each round every process has arrived, and exactly one
 * thread per round got PTHREAD_BARRIER_SERIAL_THREAD. A ticker thread of
 * ours must keep counting meanwhile. */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>

#include "pshared.h"

#define TURNS  40
#define ROUNDS 200

struct shm {
	pthread_rwlock_t rw;
	pthread_barrier_t bar;
	sem_t ask, told;      /* the turns of the rwlock part */
	int data;	      /* written under the write lock */
	int bad;	      /* a side saw something wrong */
	int timed_out;	      /* the other side's timed read lock: ETIMEDOUT */
	int arrived[ROUNDS];  /* per round: processes that arrived */
	int serial[ROUNDS];   /* per round: PTHREAD_BARRIER_SERIAL_THREAD seen */
};

/* One side of the rwlock turns: on even turns `me` 0 writes and 1 reads,
 * on odd turns the other way round. */
static void rw_turns(struct shm *s, int me)
{
	for (int t = 0; t < TURNS; t++) {
		int writer = (t & 1) == me;
		if (writer) {
			if (pthread_rwlock_wrlock(&s->rw) != 0)
				s->bad = 1;
			sem_post(&s->told); /* the reader may ask now */
			sem_wait(&s->ask);  /* it is about to */
			sleep_ms(1);
			s->data = t + 1;
			if (pthread_rwlock_unlock(&s->rw) != 0)
				s->bad = 1;
		} else {
			sem_wait(&s->told);
			if (t == 0 && me == 1) {
				/* Once: a timed read lock that must time out. */
				struct timespec ts = deadline_in(CLOCK_REALTIME, MS(2));
				if (pthread_rwlock_timedrdlock(&s->rw, &ts) == ETIMEDOUT)
					s->timed_out = 1;
			}
			sem_post(&s->ask);
			if (pthread_rwlock_rdlock(&s->rw) != 0)
				s->bad = 1;
			if (s->data != t + 1)
				s->bad = 1;
			pthread_rwlock_unlock(&s->rw);
		}
	}
}

static void barrier_rounds(struct shm *s)
{
	for (int r = 0; r < ROUNDS; r++) {
		__atomic_fetch_add(&s->arrived[r], 1, __ATOMIC_SEQ_CST);
		int ret = pthread_barrier_wait(&s->bar);
		if (ret == PTHREAD_BARRIER_SERIAL_THREAD)
			__atomic_fetch_add(&s->serial[r], 1, __ATOMIC_SEQ_CST);
		else if (ret != 0)
			s->bad = 1;
		if (__atomic_load_n(&s->arrived[r], __ATOMIC_SEQ_CST) != 3)
			s->bad = 1;
	}
}

struct job {
	struct shm *s;
	const char *what;
};

static void *child_side(void *arg)
{
	struct job *j = arg;

	if (strcmp(j->what, "rw") == 0)
		rw_turns(j->s, 1);
	else
		barrier_rounds(j->s);
	return NULL;
}

static int child(const char *fdarg, const char *what)
{
	struct job j = {ps_attach(fdarg, sizeof(struct shm)), what};
	pthread_t t;

	if (pthread_create(&t, NULL, child_side, &j) != 0)
		return 4;
	pthread_join(t, NULL);
	return j.s->bad ? 5 : 0;
}

static atomic_int ticks, stop;

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		sleep_ms(1);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

static void *our_side(void *arg)
{
	struct job *j = arg;

	if (strcmp(j->what, "rw") == 0)
		rw_turns(j->s, 0);
	else
		barrier_rounds(j->s);
	return NULL;
}

static struct shm *setup(int *fd, int prefer_writer)
{
	struct shm *s = ps_map(sizeof(struct shm), fd);
	pthread_rwlockattr_t ra;
	pthread_barrierattr_t ba;

	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setpshared(&ra, PTHREAD_PROCESS_SHARED);
	if (prefer_writer)
		pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	MUST(pthread_rwlock_init(&s->rw, &ra));
	pthread_barrierattr_init(&ba);
	pthread_barrierattr_setpshared(&ba, PTHREAD_PROCESS_SHARED);
	MUST(pthread_barrier_init(&s->bar, &ba, 3));
	MUST(sem_init(&s->ask, 1, 0));
	MUST(sem_init(&s->told, 1, 0));
	return s;
}

static void run_rw(enum ps_how how, int prefer_writer)
{
	int fd;
	struct shm *s = setup(&fd, prefer_writer);
	struct job j = {s, "rw"};
	const char *kind = prefer_writer ? "writer-preferring" : "default";
	pthread_t a, b;
	pid_t pid = ps_spawn(how, "child", fd, "rw", child);

	atomic_store(&ticks, 0);
	atomic_store(&stop, 0);
	MUST(pthread_create(&a, NULL, our_side, &j));
	MUST(pthread_create(&b, NULL, ticker, NULL));
	pthread_join(a, NULL);
	atomic_store(&stop, 1);
	pthread_join(b, NULL);
	CHECK(ps_reap(pid) && !s->bad, "rwlock %s %s: %d turns, each side waited for the other",
	      kind, ps_how_name[how], TURNS);
	CHECK(s->timed_out, "rwlock %s %s: a timed read lock timed out while the other wrote",
	      kind, ps_how_name[how]);
	CHECK(atomic_load(&ticks) > 0, "rwlock %s %s: the ticker ran meanwhile", kind,
	      ps_how_name[how]);
	munmap(s, sizeof(*s));
	close(fd);
}

static void run_barrier(enum ps_how how)
{
	int fd;
	struct shm *s = setup(&fd, 0);
	struct job j = {s, "barrier"};
	pthread_t a, b;
	/* Two others: one made the way under test, one plain glibc. */
	pid_t p1 = ps_spawn(how, "child", fd, "barrier", child);
	pid_t p2 = ps_spawn(PS_NATIVE, "child", fd, "barrier", child);
	int serial_ok = 1;

	atomic_store(&ticks, 0);
	atomic_store(&stop, 0);
	MUST(pthread_create(&a, NULL, our_side, &j));
	MUST(pthread_create(&b, NULL, ticker, NULL));
	pthread_join(a, NULL);
	atomic_store(&stop, 1);
	pthread_join(b, NULL);
	int ok1 = ps_reap(p1), ok2 = ps_reap(p2);
	for (int r = 0; r < ROUNDS; r++)
		serial_ok &= s->serial[r] == 1 && s->arrived[r] == 3;
	CHECK(ok1 && ok2 && !s->bad, "barrier %s + native: %d rounds of 3 processes",
	      ps_how_name[how], ROUNDS);
	CHECK(serial_ok, "barrier %s + native: one serial thread per round", ps_how_name[how]);
	CHECK(atomic_load(&ticks) > 0, "barrier %s + native: the ticker ran meanwhile",
	      ps_how_name[how]);
	munmap(s, sizeof(*s));
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc > 3)
		return child(argv[2], argv[3]);
	for (int how = PS_FORK; how <= PS_NATIVE; how++) {
		run_rw(how, 0);
		run_rw(how, 1);
	}
	for (int how = PS_FORK; how <= PS_NATIVE; how++)
		run_barrier(how);
	return check_done();
}
