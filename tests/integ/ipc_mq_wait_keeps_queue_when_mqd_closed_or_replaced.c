/* Hazard: a POSIX message queue descriptor closed (mq_close, close) or
 * replaced (dup2) by another thread while a thread waits on it. An mqd_t
 * is an fd, and Linux keeps the blocked call on the queue it started
 * with: an mq_receive (or mq_timedreceive) goes on and takes the message
 * that another descriptor of the queue sends next; an mq_send on a full
 * queue goes on and adds its message once another descriptor takes one.
 * Meanwhile the number is free (a new pipe gets it at once), a number
 * that dup2 replaced names the new file, and afterwards the process holds
 * no more fds than before. A ticker thread runs during every wait. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <mqueue.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

static atomic_int ticks, stop;
static mqd_t mq;
static ssize_t got;
static int err, timed;
static char buf[64];

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		sleep_ms(1);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

/* The waiter is about to make its call: then it has 100 ms to be blocked
 * in it (its start, the slow part on a loaded machine, is not counted). */
static atomic_int entering;

static void about_to_call(void)
{
	atomic_store(&entering, 1);
}

static void wait_until_blocked(void)
{
	while (!atomic_load(&entering))
		sleep_ms(1);
	atomic_store(&entering, 0);
	sleep_ms(100);
}

static void *receiver(void *arg)
{
	(void)arg;
	memset(buf, 0, sizeof(buf));
	about_to_call();
	if (timed) {
		struct timespec abs = deadline_in(CLOCK_REALTIME, MS(10000));
		got = mq_timedreceive(mq, buf, sizeof(buf), NULL, &abs);
	} else {
		got = mq_receive(mq, buf, sizeof(buf), NULL);
	}
	err = got < 0 ? errno : 0;
	return NULL;
}

static void *sender(void *arg)
{
	(void)arg;
	about_to_call();
	got = mq_send(mq, "second", 7, 1);
	err = got < 0 ? errno : 0;
	return NULL;
}

static const char *how_name[] = {"mq_close", "close", "dup2"};

/* Takes the number away: how 0 mq_close, 1 close, 2 dup2 of a pipe's
 * read end (other[], closed by the caller). */
static void take_away(int how, int other[2])
{
	int number = (int)mq;

	if (how == 2) {
		MUST(pipe(other));
		MUST(dup2(other[0], number) < 0);
		return;
	}
	MUST(how ? close(number) : mq_close(mq));
	int q[2];
	MUST(pipe(q));
	CHECK(q[0] == number || q[1] == number, "the number is free: a new pipe gets it");
	close(q[0]);
	close(q[1]);
}

/* After dup2: the number names the pipe; then it is closed. */
static void after(int how, int other[2])
{
	if (how != 2)
		return;
	char c = 0;
	MUST(write(other[1], "o", 1) != 1);
	CHECK(read((int)mq, &c, 1) == 1 && c == 'o', "the number reads the new file");
	close((int)mq);
	close(other[0]);
	close(other[1]);
}

static void open_queue(const char *name, long maxmsg)
{
	struct mq_attr attr = {.mq_maxmsg = maxmsg, .mq_msgsize = 32};

	mq_unlink(name);
	mq = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
	MUST(mq == (mqd_t)-1);
}

static void receive_goes_on(const char *name, int how, int is_timed)
{
	int other[2], t0;
	pthread_t t;
	mqd_t q2;

	open_queue(name, 4);
	timed = is_timed;
	MUST(pthread_create(&t, NULL, receiver, NULL));
	wait_until_blocked();
	t0 = atomic_load(&ticks);
	take_away(how, other);
	sleep_ms(20);
	q2 = mq_open(name, O_WRONLY);
	MUST(q2 == (mqd_t)-1);
	MUST(mq_send(q2, "hi", 3, 1));
	MUST(pthread_join(t, NULL));
	CHECK(got == 3 && strcmp(buf, "hi") == 0,
	      "%s blocked when %s took its descriptor gets the next message: %zd (%s)",
	      is_timed ? "mq_timedreceive" : "mq_receive", how_name[how], got,
	      got < 0 ? errname(err) : "-");
	CHECK(atomic_load(&ticks) > t0, "another thread ran meanwhile");
	after(how, other);
	mq_close(q2);
	mq_unlink(name);
}

static void send_goes_on(const char *name, int how)
{
	int other[2], t0;
	pthread_t t;
	mqd_t q2;
	char m[32] = {0};

	open_queue(name, 1);
	MUST(mq_send(mq, "first", 6, 1));
	MUST(pthread_create(&t, NULL, sender, NULL));
	wait_until_blocked();
	t0 = atomic_load(&ticks);
	take_away(how, other);
	sleep_ms(20);
	q2 = mq_open(name, O_RDONLY);
	MUST(q2 == (mqd_t)-1);
	MUST(mq_receive(q2, m, sizeof(m), NULL) != 6);
	MUST(pthread_join(t, NULL));
	CHECK(got == 0, "mq_send blocked on a full queue when %s took its descriptor goes on: %s",
	      how_name[how], got < 0 ? errname(err) : "sent");
	CHECK(atomic_load(&ticks) > t0, "another thread ran meanwhile");
	memset(m, 0, sizeof(m));
	struct timespec abs = deadline_in(CLOCK_REALTIME, MS(5000));
	CHECK(mq_timedreceive(q2, m, sizeof(m), NULL, &abs) == 7 && strcmp(m, "second") == 0,
	      "and its message is in the queue");
	after(how, other);
	mq_close(q2);
	mq_unlink(name);
}

int main(void)
{
	pthread_t tick;
	char name[64];
	int fds;

	alarm(30);
	snprintf(name, sizeof(name), "/greenify-mq-keep-%d", (int)getpid());
	MUST(pthread_create(&tick, NULL, ticker, NULL));
	fds = count_dir_entries("/proc/self/fd");
	for (int how = 0; how < 3; how++) {
		receive_goes_on(name, how, 0);
		receive_goes_on(name, how, 1);
		send_goes_on(name, how);
	}
	CHECK(count_dir_entries("/proc/self/fd") == fds, "no fd is left over");
	atomic_store(&stop, 1);
	MUST(pthread_join(tick, NULL));
	return check_done();
}
