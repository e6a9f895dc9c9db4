/* Hazard: semaphores shared with another process. An unnamed semaphore
 * (sem_init with pshared 1 in shared memory) and named ones (sem_open)
 * bounce a turn between a thread of this process and a thread of another:
 * a fork child, a second greenified process, and a process running plain
 * glibc (exec'ed without LD_PRELOAD), so that both directions of the wake
 * cross between a green waiter and a kernel one. The other process waits
 * first for a semaphore that a second thread of ours posts while our first
 * thread waits for the other process: if that wait held up our process,
 * the ticker would never post and both would hang. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>

#include "pshared.h"

#define ROUNDS 2000

struct shm {
	sem_t ping, pong, go; /* the unnamed ones */
	int turn;	      /* bumped by each side in turn */
	int bad;	      /* the child saw a turn out of order */
};

struct side {
	sem_t *ping, *pong, *go;
	struct shm *m;
};

static void *child_side(void *arg)
{
	struct side *s = arg;

	if (sem_wait(s->go) != 0)
		s->m->bad = 1;
	for (int i = 0; i < ROUNDS; i++) {
		if (sem_wait(s->ping) != 0)
			s->m->bad = 1;
		if (s->m->turn != 2 * i + 1)
			s->m->bad = 1;
		s->m->turn++;
		sem_post(s->pong);
	}
	return NULL;
}

/* Names for the named semaphores of one parent. */
static void names(const char *tag, char out[3][64])
{
	snprintf(out[0], 64, "/greenify-ps-%s-ping", tag);
	snprintf(out[1], 64, "/greenify-ps-%s-pong", tag);
	snprintf(out[2], 64, "/greenify-ps-%s-go", tag);
}

/* The child's role: extra is NULL for the unnamed semaphores, else the tag
 * of the named ones. Runs in a thread of its own (so that under the
 * preload the runtime starts and the waits are green ones). */
static int child(const char *fdarg, const char *tag)
{
	struct shm *m = ps_attach(fdarg, sizeof(struct shm));
	struct side s = {&m->ping, &m->pong, &m->go, m};
	pthread_t t;

	if (tag) {
		char n[3][64];
		names(tag, n);
		s.ping = sem_open(n[0], 0);
		s.pong = sem_open(n[1], 0);
		s.go = sem_open(n[2], 0);
		if (s.ping == SEM_FAILED || s.pong == SEM_FAILED || s.go == SEM_FAILED)
			return 3;
	}
	if (pthread_create(&t, NULL, child_side, &s) != 0)
		return 4;
	pthread_join(t, NULL);
	return m->bad ? 5 : 0;
}

static atomic_int ticks;

static void *ticker(void *arg)
{
	struct side *s = arg;

	for (int i = 0; i < 3; i++) {
		sleep_ms(1);
		atomic_fetch_add(&ticks, 1);
	}
	sem_post(s->go);
	return NULL;
}

static void *parent_side(void *arg)
{
	struct side *s = arg;

	for (int i = 0; i < ROUNDS; i++) {
		s->m->turn++;
		sem_post(s->ping);
		if (sem_wait(s->pong) != 0)
			s->m->bad = 1;
		if (s->m->turn != 2 * i + 2)
			s->m->bad = 1;
	}
	return NULL;
}

static void run(enum ps_how how, int named)
{
	int fd;
	struct shm *m = ps_map(sizeof(*m), &fd);
	struct side s = {&m->ping, &m->pong, &m->go, m};
	char tag[32], n[3][64];
	pthread_t a, b;
	pid_t pid;

	if (named) {
		snprintf(tag, sizeof tag, "%d-%d", (int)getpid(), (int)how);
		names(tag, n);
		for (int i = 0; i < 3; i++)
			sem_unlink(n[i]);
		s.ping = sem_open(n[0], O_CREAT | O_EXCL, 0600, 0);
		s.pong = sem_open(n[1], O_CREAT | O_EXCL, 0600, 0);
		s.go = sem_open(n[2], O_CREAT | O_EXCL, 0600, 0);
		MUST(s.ping == SEM_FAILED || s.pong == SEM_FAILED || s.go == SEM_FAILED);
	} else {
		MUST(sem_init(&m->ping, 1, 0));
		MUST(sem_init(&m->pong, 1, 0));
		MUST(sem_init(&m->go, 1, 0));
	}
	atomic_store(&ticks, 0);
	pid = ps_spawn(how, "child", fd, named ? tag : NULL, child);
	MUST(pthread_create(&a, NULL, parent_side, &s));
	MUST(pthread_create(&b, NULL, ticker, &s));
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	CHECK(ps_reap(pid), "%s %s: the other process took %d turns", named ? "named" : "unnamed",
	      ps_how_name[how], ROUNDS);
	CHECK(m->turn == 2 * ROUNDS && !m->bad, "%s %s: turns alternated", named ? "named" : "unnamed",
	      ps_how_name[how]);
	CHECK(atomic_load(&ticks) == 3, "%s %s: the ticker ran while a thread waited",
	      named ? "named" : "unnamed", ps_how_name[how]);
	if (named)
		for (int i = 0; i < 3; i++) {
			sem_close(i == 0 ? s.ping : i == 1 ? s.pong : s.go);
			sem_unlink(n[i]);
		}
	munmap(m, sizeof(*m));
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc > 2)
		return child(argv[2], argc > 3 ? argv[3] : NULL);
	for (int named = 0; named < 2; named++)
		for (int how = PS_FORK; how <= PS_NATIVE; how++)
			run(how, named);
	return check_done();
}
