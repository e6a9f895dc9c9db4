/* Hazard: a process-shared robust mutex whose owner dies. Another process
 * (a fork child, a second greenified process, a plain-glibc one) locks it
 * in a thread and dies holding it, while a thread of ours waits for it:
 * ours gets EOWNERDEAD, makes it consistent, and it works on. Then the
 * other way round: a greenified process dies holding it while a plain
 * glibc process waits (the kernel must find the mutex on the robust list
 * of the OS thread that held it, with that thread's tid in the word). And
 * a thread that ends (pthread_exit) holding it while its process lives on
 * passes it to the waiter of another process with EOWNERDEAD too. A
 * ticker of ours counts meanwhile. */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>

#include "pshared.h"

struct shm {
	pthread_mutex_t m;
	sem_t locked;	/* the dying side holds it */
	sem_t go;	/* a waiting child may start */
	int waiter_got; /* the error a waiting child got */
	int after;	/* the waiter's unlock after consistent */
};

static void *hold_and_die(void *arg)
{
	struct shm *s = arg;

	pthread_mutex_lock(&s->m);
	sem_post(&s->locked);
	sleep_ms(20); /* let the other side block on it */
	_exit(0);     /* the whole process dies holding it */
}

static void *hold_and_end(void *arg)
{
	struct shm *s = arg;

	pthread_mutex_lock(&s->m);
	sem_post(&s->locked);
	sleep_ms(20);
	pthread_exit(NULL); /* only the thread ends */
}

static void *wait_for_it(void *arg)
{
	struct shm *s = arg;

	sem_wait(&s->go);
	s->waiter_got = pthread_mutex_lock(&s->m);
	if (s->waiter_got == EOWNERDEAD)
		pthread_mutex_consistent(&s->m);
	s->after = pthread_mutex_unlock(&s->m);
	return NULL;
}

static int child(const char *fdarg, const char *role)
{
	struct shm *s = ps_attach(fdarg, sizeof(struct shm));
	pthread_t t;

	if (strcmp(role, "die") == 0) {
		pthread_create(&t, NULL, hold_and_die, s);
		pthread_join(t, NULL);
		return 3; /* not reached */
	}
	if (strcmp(role, "end") == 0) {
		pthread_create(&t, NULL, hold_and_end, s);
		pthread_join(t, NULL);
		sleep_ms(200); /* the process outlives the thread */
		return 0;
	}
	pthread_create(&t, NULL, wait_for_it, s);
	pthread_join(t, NULL);
	return 0;
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

struct result {
	struct shm *s;
	int got, consistent, relock;
};

static void *our_waiter(void *arg)
{
	struct result *r = arg;

	sem_wait(&r->s->locked);
	r->got = pthread_mutex_lock(&r->s->m);
	if (r->got == EOWNERDEAD)
		r->consistent = pthread_mutex_consistent(&r->s->m);
	pthread_mutex_unlock(&r->s->m);
	r->relock = pthread_mutex_lock(&r->s->m);
	pthread_mutex_unlock(&r->s->m);
	return NULL;
}

static struct shm *setup(int *fd)
{
	struct shm *s = ps_map(sizeof(struct shm), fd);
	pthread_mutexattr_t ma;

	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	MUST(pthread_mutex_init(&s->m, &ma));
	MUST(sem_init(&s->locked, 1, 0));
	MUST(sem_init(&s->go, 1, 0));
	return s;
}

/* The other process holds it and dies (or its thread ends); we wait. */
static void other_dies(enum ps_how how, const char *role)
{
	int fd;
	struct shm *s = setup(&fd);
	struct result r = {s, -1, -1, -1};
	pthread_t a, b;
	pid_t pid = ps_spawn(how, "child", fd, role, child);

	atomic_store(&ticks, 0);
	atomic_store(&stop, 0);
	MUST(pthread_create(&a, NULL, our_waiter, &r));
	MUST(pthread_create(&b, NULL, ticker, NULL));
	pthread_join(a, NULL);
	atomic_store(&stop, 1);
	pthread_join(b, NULL);
	ps_reap(pid);
	CHECK_ERR(r.got, EOWNERDEAD, "%s child's %s: our lock", ps_how_name[how],
		  strcmp(role, "die") == 0 ? "death" : "thread's end");
	CHECK_ERR(r.consistent, 0, "%s: consistent", ps_how_name[how]);
	CHECK_ERR(r.relock, 0, "%s: locked again after unlock", ps_how_name[how]);
	CHECK(atomic_load(&ticks) > 0, "%s: the ticker ran while we waited", ps_how_name[how]);
	munmap(s, sizeof(*s));
	close(fd);
}

/* A greenified process (exec'ed with our environment) dies holding it, a
 * plain-glibc process waits. */
static void green_dies_native_waits(void)
{
	int fd;
	struct shm *s = setup(&fd);
	pid_t waiter = ps_spawn(PS_NATIVE, "child", fd, "wait", child);
	pid_t dier = ps_spawn(PS_EXEC, "child", fd, "die", child);

	sem_wait(&s->locked);
	sem_post(&s->go);
	ps_reap(dier);
	CHECK(ps_reap(waiter), "exec'ed holder dies: the native waiter ended");
	CHECK_ERR(s->waiter_got, EOWNERDEAD, "exec'ed holder dies: native lock");
	CHECK_ERR(s->after, 0, "exec'ed holder dies: native unlock after consistent");
	munmap(s, sizeof(*s));
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc > 3)
		return child(argv[2], argv[3]);
	for (int how = PS_FORK; how <= PS_NATIVE; how++)
		other_dies(how, "die");
	for (int how = PS_FORK; how <= PS_NATIVE; how++)
		other_dies(how, "end");
	green_dies_native_waits();
	return check_done();
}
