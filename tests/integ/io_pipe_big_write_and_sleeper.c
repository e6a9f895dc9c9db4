/* Hazard: a blocking write of 4 MiB into a pipe that a slow reader drains
 * must keep going until everything is written (as the kernel does), and
 * while it waits for room, other threads run: a sleeper wakes on time and
 * two threads ping-pong a byte 1,000 times over two more pipes. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"

#define BIG (4 * 1024 * 1024)

static int big[2], ab[2], ba[2];
static ssize_t written;
static int64_t slept;
static int pings;

static void *writer(void *arg)
{
	char *buf = malloc(BIG);

	(void)arg;
	for (int i = 0; i < BIG; i++)
		buf[i] = (char)(i * 7);
	written = write(big[1], buf, BIG);
	close(big[1]);
	free(buf);
	return NULL;
}

static void *reader(void *arg)
{
	char buf[8192];
	long total = 0, bad = 0;
	ssize_t n;

	(void)arg;
	while ((n = read(big[0], buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			bad += buf[i] != (char)((total + i) * 7);
		total += n;
		if (total % (256 * 1024) < 8192)
			sleep_ms(1); /* slow: the pipe fills */
	}
	return (void *)(intptr_t)(total == BIG && bad == 0);
}

static void *sleeper(void *arg)
{
	int64_t t0 = mono_ns();

	(void)arg;
	sleep_ms(20);
	slept = mono_ns() - t0;
	return NULL;
}

static void *ping(void *arg)
{
	char c = 'x';

	(void)arg;
	for (int i = 0; i < 1000; i++) {
		if (write(ab[1], &c, 1) != 1 || read(ba[0], &c, 1) != 1)
			return NULL;
		pings++;
	}
	return NULL;
}

static void *pong(void *arg)
{
	char c;

	(void)arg;
	for (int i = 0; i < 1000; i++)
		if (read(ab[0], &c, 1) != 1 || write(ba[1], &c, 1) != 1)
			break;
	return NULL;
}

int main(void)
{
	pthread_t t[5];
	void *ok;

	alarm(30);
	MUST(pipe(big));
	MUST(pipe(ab));
	MUST(pipe(ba));
	MUST(pthread_create(&t[0], NULL, writer, NULL));
	MUST(pthread_create(&t[1], NULL, reader, NULL));
	MUST(pthread_create(&t[2], NULL, sleeper, NULL));
	MUST(pthread_create(&t[3], NULL, ping, NULL));
	MUST(pthread_create(&t[4], NULL, pong, NULL));
	MUST(pthread_join(t[0], NULL));
	MUST(pthread_join(t[1], &ok));
	for (int i = 2; i < 5; i++)
		MUST(pthread_join(t[i], NULL));
	CHECK(written == BIG, "one write() call wrote all 4 MiB");
	CHECK(ok == (void *)1, "the reader got every byte in order");
	CHECK(slept >= MS(20) && slept < MS(2000), "the sleeper woke on time meanwhile");
	CHECK(pings == 1000, "1000 ping-pongs over pipes");
	return check_done();
}
