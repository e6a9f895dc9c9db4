/* Hazard: a message queue's notification (mq_notify, SIGEV_SIGNAL) is
 * sent only when a message comes to an empty queue that no thread is
 * blocked receiving from: with a thread in mq_receive, the message goes to
 * it and the registration stays, so the next message to the empty queue
 * notifies (glibc's rt/tst-mqueue5). The green receiver parked on the
 * queue's readiness, which the kernel does not count as a receiver: the
 * notification went out with the first message. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <mqueue.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "check.h"

static mqd_t q;
static atomic_int notified, receiving;
static ssize_t got = -2;

static void on_usr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&notified, 1);
}

static void *receiver(void *arg)
{
	char c;

	(void)arg;
	atomic_store(&receiving, 1);
	do
		got = mq_receive(q, &c, 1, NULL);
	while (got < 0 && errno == EINTR);
	return NULL;
}

int main(void)
{
	struct mq_attr attr = {.mq_maxmsg = 1, .mq_msgsize = 1};
	struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1};
	char name[64], c;
	pthread_t t;

	alarm(20); /* hang guard */
	snprintf(name, sizeof name, "/greenify-mq-notify-%d", (int)getpid());
	q = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
	if (q == (mqd_t)-1) {
		perror("mq_open");
		return 2;
	}
	mq_unlink(name);
	signal(SIGUSR1, on_usr1);
	CHECK_ERR(mq_notify(q, &ev) < 0 ? errno : 0, 0, "mq_notify SIGEV_SIGNAL");

	MUST(pthread_create(&t, NULL, receiver, NULL));
	wait_above(&receiving, 0);
	sleep_ms(100); /* in its receive */
	CHECK_ERR(mq_send(q, "a", 1, 0) < 0 ? errno : 0, 0, "a message while a thread receives");
	MUST(pthread_join(t, NULL));
	CHECK(got == 1, "the thread received it");
	sleep_ms(50);
	CHECK(atomic_load(&notified) == 0, "no notification for it");

	CHECK_ERR(mq_send(q, "b", 1, 0) < 0 ? errno : 0, 0, "a message to the empty queue");
	for (int i = 0; i < 5000 && atomic_load(&notified) == 0; i++)
		sleep_ms(1);
	CHECK(atomic_load(&notified) == 1, "the registration still stood: one notification");
	CHECK(mq_receive(q, &c, 1, NULL) == 1 && c == 'b', "and the message is there");
	mq_close(q);
	return check_done();
}
