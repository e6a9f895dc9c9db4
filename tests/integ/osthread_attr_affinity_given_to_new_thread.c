/* Hazard: glibc gives a thread the CPUs its attr names
 * (pthread_attr_setaffinity_np) before it runs, and a program may check
 * that it got them: rt-tests' pi_stress binds each test thread to a CPU
 * that way, and a thread that does not find itself bound returns at once,
 * leaving main in a barrier for ever. The affinity is the one OS thread's
 * under greenify, so the attr's set must become it at the create.
 *   A thread made with an attr that names no CPUs has the creator's
 *   (every allowed CPU); an attr naming only CPU 1023 (none here) makes
 *   the create fail with the kernel's EINVAL, and a thread made after that
 *   still has every allowed CPU; then a thread made with an attr naming
 *   the highest allowed CPU finds just that CPU in sched_getaffinity and
 *   pthread_getaffinity_np, and runs on it (sched_getcpu). */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "check.h"

static cpu_set_t allowed;
static int target;

struct seen {
	cpu_set_t kernel, pthread; /* sched_getaffinity, pthread_getaffinity_np */
	int cpu;		   /* sched_getcpu */
};

static void *look(void *arg)
{
	struct seen *s = arg;

	CPU_ZERO(&s->kernel);
	CPU_ZERO(&s->pthread);
	MUST(sched_getaffinity(0, sizeof(s->kernel), &s->kernel));
	MUST(pthread_getaffinity_np(pthread_self(), sizeof(s->pthread), &s->pthread));
	s->cpu = sched_getcpu();
	return NULL;
}

static int run(const pthread_attr_t *a, struct seen *s)
{
	pthread_t t;
	int err = pthread_create(&t, a, look, s);

	if (err == 0)
		MUST(pthread_join(t, NULL));
	return err;
}

int main(void)
{
	pthread_attr_t plain, none, one;
	cpu_set_t set;
	struct seen s;

	alarm(20);
	MUST(sched_getaffinity(0, sizeof(allowed), &allowed));
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &allowed))
			target = c;
	MUST(pthread_attr_init(&plain));
	MUST(pthread_attr_init(&none));
	MUST(pthread_attr_init(&one));

	CHECK_ERR(run(&plain, &s), 0, "create with an attr that names no CPUs");
	CHECK(CPU_EQUAL(&s.kernel, &allowed), "it has every allowed CPU");
	CHECK(CPU_EQUAL(&s.pthread, &allowed), "pthread_getaffinity_np says so too");

	CPU_ZERO(&set);
	CPU_SET(CPU_SETSIZE - 1, &set);
	MUST(pthread_attr_setaffinity_np(&none, sizeof(set), &set));
	CHECK_ERR(run(&none, &s), EINVAL, "create with an attr naming only CPU 1023");
	CHECK_ERR(run(&plain, &s), 0, "create after the refused one");
	CHECK(CPU_EQUAL(&s.kernel, &allowed), "that thread has every allowed CPU");

	CPU_ZERO(&set);
	CPU_SET(target, &set);
	MUST(pthread_attr_setaffinity_np(&one, sizeof(set), &set));
	CHECK_ERR(run(&one, &s), 0, "create with an attr naming the highest allowed CPU");
	CHECK(CPU_EQUAL(&s.kernel, &set), "sched_getaffinity in it gives just that CPU");
	CHECK(CPU_EQUAL(&s.pthread, &set), "pthread_getaffinity_np of itself too");
	CHECK(s.cpu == target, "it runs on that CPU");
	fprintf(stderr, "target CPU %d, ran on %d\n", target, s.cpu);
	return check_done();
}
