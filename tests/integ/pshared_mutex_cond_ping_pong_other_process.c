/* Hazard: a PTHREAD_PROCESS_SHARED mutex and condition in shared memory,
 * used by a thread of this process and a thread of another: a fork child,
 * a second greenified process, and a process running plain glibc. They
 * take turns under the mutex, each waiting on the condition for its turn
 * and signalling the other's, 500 turns each, with every mutex kind
 * (normal, errorcheck, recursive, robust): each side waits for the mutex
 * the other holds and for the other's signal. A second thread of ours
 * hands the other process its start (through the same mutex and
 * condition) only after some sleeps, while our first thread already
 * waits: a wait that held up the process would hang both. The last turn
 * uses broadcast. */
#define _GNU_SOURCE
#include <pthread.h>

#include "pshared.h"

#define ROUNDS 500

struct shm {
	pthread_mutex_t m;
	pthread_cond_t c;
	int turn;    /* 0: ours, 1: the other process's */
	int started; /* set by our ticker: the other process may go */
	int done;    /* turns the other process took */
	int bad;     /* a side saw something out of order */
};

static void take_turns(struct shm *s, int me)
{
	if (pthread_mutex_lock(&s->m) != 0)
		s->bad = 1;
	if (me == 1)
		while (!s->started)
			pthread_cond_wait(&s->c, &s->m);
	for (int i = 0; i < ROUNDS; i++) {
		while (s->turn != me)
			if (pthread_cond_wait(&s->c, &s->m) != 0)
				s->bad = 1;
		s->turn = !me;
		if (me == 1)
			s->done++;
		if (i == ROUNDS - 1)
			pthread_cond_broadcast(&s->c);
		else
			pthread_cond_signal(&s->c);
	}
	if (pthread_mutex_unlock(&s->m) != 0)
		s->bad = 1;
}

static void *other_side(void *arg)
{
	take_turns(arg, 1);
	return NULL;
}

static int child(const char *fdarg, const char *extra)
{
	struct shm *s = ps_attach(fdarg, sizeof(struct shm));
	pthread_t t;

	(void)extra;
	if (pthread_create(&t, NULL, other_side, s) != 0)
		return 4;
	pthread_join(t, NULL);
	return s->bad ? 5 : 0;
}

static atomic_int ticks;

static void *ticker(void *arg)
{
	struct shm *s = arg;

	for (int i = 0; i < 3; i++) {
		sleep_ms(1);
		atomic_fetch_add(&ticks, 1);
	}
	pthread_mutex_lock(&s->m);
	s->started = 1;
	pthread_cond_broadcast(&s->c);
	pthread_mutex_unlock(&s->m);
	return NULL;
}

static void *our_side(void *arg)
{
	take_turns(arg, 0);
	return NULL;
}

static const char *const kind_name[] = {"normal", "errorcheck", "recursive", "robust"};

static void run(enum ps_how how, int kind)
{
	int fd;
	struct shm *s = ps_map(sizeof(*s), &fd);
	pthread_mutexattr_t ma;
	pthread_condattr_t ca;
	pthread_t a, b;
	pid_t pid;

	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	if (kind == 1)
		pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
	if (kind == 2)
		pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	if (kind == 3)
		pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	MUST(pthread_mutex_init(&s->m, &ma));
	pthread_condattr_init(&ca);
	pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
	MUST(pthread_cond_init(&s->c, &ca));
	atomic_store(&ticks, 0);
	pid = ps_spawn(how, "child", fd, NULL, child);
	MUST(pthread_create(&a, NULL, our_side, s));
	MUST(pthread_create(&b, NULL, ticker, s));
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	CHECK(ps_reap(pid), "%s %s: the other process ended well", kind_name[kind],
	      ps_how_name[how]);
	CHECK(s->done == ROUNDS && !s->bad, "%s %s: %d turns each, in order", kind_name[kind],
	      ps_how_name[how], ROUNDS);
	CHECK(atomic_load(&ticks) == 3, "%s %s: the ticker ran while a thread waited",
	      kind_name[kind], ps_how_name[how]);
	CHECK_ERR(pthread_cond_destroy(&s->c), 0, "%s %s: cond_destroy", kind_name[kind],
		  ps_how_name[how]);
	CHECK_ERR(pthread_mutex_destroy(&s->m), 0, "%s %s: mutex_destroy", kind_name[kind],
		  ps_how_name[how]);
	munmap(s, sizeof(*s));
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc > 2)
		return child(argv[2], NULL);
	for (int kind = 0; kind < 4; kind++)
		for (int how = PS_FORK; how <= PS_NATIVE; how++)
			run(how, kind);
	return check_done();
}
