/* Hazard: a raw shared futex (FUTEX_WAIT / FUTEX_WAKE without
 * FUTEX_PRIVATE_FLAG) between a thread of ours and one of another process:
 * a fork child, a second greenified process, a plain-glibc one. The word
 * says whose turn it is; each side waits while it is not its turn and
 * wakes the other after passing the turn: 2,000 turns, both directions of
 * the wake. FUTEX_WAIT_BITSET with an absolute timeout on the word nobody
 * changes times out; FUTEX_WAKE of a word nobody waits on wakes 0. A ticker
 * thread of ours must hand the other side its start while our first thread
 * already waits. */
#define _GNU_SOURCE
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>

#include "pshared.h"

#define TURNS 2000

struct shm {
	uint32_t turn;	/* 0 ours, 1 the other's, 2 not started */
	uint32_t quiet; /* nobody changes or waits on it */
	int bad;
};

static long futex(uint32_t *w, int op, uint32_t val, const struct timespec *ts, uint32_t bits)
{
	return syscall(SYS_futex, w, op, val, ts, NULL, bits);
}

static void take_turns(struct shm *s, uint32_t me)
{
	for (int i = 0; i < TURNS; i++) {
		uint32_t t;
		while ((t = __atomic_load_n(&s->turn, __ATOMIC_ACQUIRE)) != me)
			if (futex(&s->turn, FUTEX_WAIT, t, NULL, 0) != 0 && errno != EAGAIN &&
			    errno != EINTR)
				s->bad = 1;
		__atomic_store_n(&s->turn, !me, __ATOMIC_RELEASE);
		futex(&s->turn, FUTEX_WAKE, 1, NULL, 0);
	}
}

static void *other_side(void *arg)
{
	struct shm *s = arg;

	/* Wait for the start (2 -> 1). */
	while (__atomic_load_n(&s->turn, __ATOMIC_ACQUIRE) == 2)
		futex(&s->turn, FUTEX_WAIT, 2, NULL, 0);
	take_turns(s, 1);
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
	__atomic_store_n(&s->turn, 1, __ATOMIC_RELEASE); /* the other side starts */
	futex(&s->turn, FUTEX_WAKE, INT_MAX, NULL, 0);
	return NULL;
}

static void *our_side(void *arg)
{
	take_turns(arg, 0);
	return NULL;
}

static void run(enum ps_how how)
{
	int fd;
	struct shm *s = ps_map(sizeof(*s), &fd);
	pthread_t a, b;

	s->turn = 2;
	atomic_store(&ticks, 0);
	pid_t pid = ps_spawn(how, "child", fd, NULL, child);
	MUST(pthread_create(&a, NULL, our_side, s));
	MUST(pthread_create(&b, NULL, ticker, s));
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	CHECK(ps_reap(pid) && !s->bad, "%s: %d turns through a shared futex", ps_how_name[how],
	      TURNS);
	CHECK(atomic_load(&ticks) == 3, "%s: the ticker ran while a thread waited",
	      ps_how_name[how]);
	munmap(s, sizeof(*s));
	close(fd);
}

static void *quiet_checks(void *arg)
{
	struct shm *s = arg;
	struct timespec ts = deadline_in(CLOCK_MONOTONIC, MS(20));
	int64_t t0 = mono_ns();
	int r = futex(&s->quiet, FUTEX_WAIT_BITSET, 0, &ts, FUTEX_BITSET_MATCH_ANY) == 0 ? 0 : errno;

	CHECK_ERR(r, ETIMEDOUT, "shared FUTEX_WAIT_BITSET until a deadline nobody wakes before");
	CHECK(mono_ns() - t0 >= MS(19), "it waited until the deadline");
	CHECK(futex(&s->quiet, FUTEX_WAKE, 1, NULL, 0) == 0, "FUTEX_WAKE with no waiter wakes 0");
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 2)
		return child(argv[2], NULL);
	for (int how = PS_FORK; how <= PS_NATIVE; how++)
		run(how);
	int fd;
	struct shm *s = ps_map(sizeof(*s), &fd);
	pthread_t t;
	MUST(pthread_create(&t, NULL, quiet_checks, s));
	pthread_join(t, NULL);
	return check_done();
}
