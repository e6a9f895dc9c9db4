/* Hazard: select with fds above FD_SETSIZE (1024). glibc and Linux take
 * any nfds the caller's sets are large enough for: a program that sizes
 * them itself (an array of unsigned long) waits on fd 1500 as on fd 5.
 * With fd 1500 a pipe's read end: a select that must wait wakes when
 * another thread writes (a ticker runs meanwhile) and marks only 1500;
 * with the data there it returns at once; the write end (1501) is
 * writable; a closed fd in the set gives EBADF; bits at or above nfds in
 * its last word come back cleared and words past it untouched, as the
 * kernel writes them; the timeout is written with the time left. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <unistd.h>

#include "check.h"

#define WORDS (4096 / (8 * sizeof(unsigned long)))
#define LB (8 * sizeof(unsigned long))

static unsigned long rd[WORDS], wr[WORDS];
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

static void *write_later(void *arg)
{
	sleep_ms(30);
	if (write((int)(intptr_t)arg, "s", 1) != 1)
		abort();
	return NULL;
}

static void set(unsigned long *s, int fd)
{
	s[fd / LB] |= 1UL << (fd % LB);
}

static int isset(const unsigned long *s, int fd)
{
	return (s[fd / LB] >> (fd % LB)) & 1;
}

static int count(const unsigned long *s)
{
	int n = 0;

	for (size_t i = 0; i < WORDS; i++)
		n += __builtin_popcountl(s[i]);
	return n;
}

int main(void)
{
	struct rlimit rl;
	pthread_t tick, t;
	int p[2], t0, r;
	char c;

	alarm(30);
	MUST(getrlimit(RLIMIT_NOFILE, &rl));
	if (rl.rlim_cur < 2048) {
		rl.rlim_cur = rl.rlim_max < 2048 ? rl.rlim_max : 2048;
		MUST(setrlimit(RLIMIT_NOFILE, &rl));
	}
	MUST(rl.rlim_cur < 2048); /* this test needs fds up to 1600 */
	MUST(pthread_create(&tick, NULL, ticker, NULL));
	MUST(pipe(p));
	MUST(dup2(p[0], 1500) != 1500);
	MUST(dup2(p[1], 1501) != 1501);
	close(p[0]);
	close(p[1]);

	set(rd, 1500);
	MUST(pthread_create(&t, NULL, write_later, (void *)1501));
	t0 = atomic_load(&ticks);
	r = select(1501, (fd_set *)rd, NULL, NULL, NULL);
	CHECK(r == 1 && isset(rd, 1500) && count(rd) == 1,
	      "select(1501) waits for fd 1500 and marks only it");
	CHECK(atomic_load(&ticks) > t0, "another thread ran while select waited");
	MUST(pthread_join(t, NULL));

	memset(rd, 0, sizeof(rd));
	set(rd, 1500);
	set(wr, 1501);
	struct timeval tv = {5, 0};
	r = select(1502, (fd_set *)rd, (fd_set *)wr, NULL, &tv);
	CHECK(r == 2 && isset(rd, 1500) && isset(wr, 1501),
	      "with the data there: at once, 1500 readable and 1501 writable");
	CHECK(tv.tv_sec == 4 || tv.tv_sec == 5, "the time left is written back");

	/* Bits at or above nfds: cleared in nfds's last word, kept beyond. */
	memset(rd, 0, sizeof(rd));
	set(rd, 1500);
	set(rd, 1530); /* same word as 1500, not asked for */
	set(rd, 1700); /* a later word */
	r = select(1501, (fd_set *)rd, NULL, NULL, NULL);
	CHECK(r == 1 && isset(rd, 1500) && !isset(rd, 1530) && isset(rd, 1700),
	      "bits past nfds: cleared in its last word, kept in later words");
	MUST(read(1500, &c, 1) != 1);

	memset(rd, 0, sizeof(rd));
	set(rd, 1500);
	set(rd, 1600); /* not open */
	errno = 0;
	r = select(1601, (fd_set *)rd, NULL, NULL, NULL);
	CHECK(r == -1 && errno == EBADF, "a closed fd 1600 in the set: EBADF");
	CHECK(isset(rd, 1600), "and the sets are left as they were");

	errno = 0;
	CHECK(select(-1, NULL, NULL, NULL, NULL) == -1 && errno == EINVAL, "nfds -1: EINVAL");
	tv = (struct timeval){0, 20000};
	memset(rd, 0, sizeof(rd));
	set(rd, 1500);
	CHECK(select(1501, (fd_set *)rd, NULL, NULL, &tv) == 0 && count(rd) == 0,
	      "nothing ready within 20 ms: 0 and an empty set");

	atomic_store(&stop, 1);
	MUST(pthread_join(tick, NULL));
	return check_done();
}
