/* Hazard: System V message queues and semaphores and POSIX message queues
 * wait in the kernel for another party; when it is another thread of the
 * process, a wait that blocks the OS thread never lets it run (a hang). A
 * ticker thread counts milliseconds meanwhile.
 *   - msgrcv waits for another thread's msgsnd; msgsnd on a full queue
 *     waits until another thread receives;
 *   - semop(-1) waits for another thread's semop(+1); semtimedop times out
 *     with EAGAIN;
 *   - mq_receive waits for another thread's mq_send; mq_send on a full
 *     queue waits for a receive; mq_timedreceive times out (ETIMEDOUT);
 *   - handlers: System V IPC ends with EINTR even under SA_RESTART; a
 *     message queue wait ends with EINTR without SA_RESTART and goes on
 *     with it;
 *   - cancellation: msgrcv and mq_receive are cancellation points; semop is
 *     not (the thread takes the semaphore, then is cancelled at its next
 *     cancellation point);
 *   - errors as libc's: EINVAL, E2BIG, EFAULT and EINVAL timeouts, EAGAIN
 *     on a queue opened O_NONBLOCK, EMSGSIZE, EBADF. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <mqueue.h>
#include <pthread.h>
#include <signal.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <unistd.h>

#include "check.h"

static atomic_int ticks, stop, handled;
static int msq, sem;
static mqd_t mq;
static char mqname[64];

struct msg {
	long type;
	char text[16];
};

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		sleep_ms(1);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&handled, 1);
}

static void handler(int restart)
{
	struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = restart ? SA_RESTART : 0};

	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGUSR1, &sa, NULL));
	atomic_store(&handled, 0);
}

/* What a peer thread does 30 ms from now. */
enum { SEND, RECV, POST, MQ_SEND, MQ_RECV };

static void *peer(void *arg)
{
	struct msg m = {1, "hello"};
	struct sembuf up = {0, 1, 0};
	char buf[64];

	sleep_ms(30);
	switch (*(int *)arg) {
	case SEND: MUST(msgsnd(msq, &m, sizeof(m.text), 0)); break;
	case RECV: MUST(msgrcv(msq, &m, sizeof(m.text), 0, 0) < 0 ? -1 : 0); break;
	case POST: MUST(semop(sem, &up, 1)); break;
	case MQ_SEND: MUST(mq_send(mq, "hello", 6, 1)); break;
	default: MUST(mq_receive(mq, buf, sizeof(buf), NULL) < 0 ? -1 : 0); break;
	}
	return NULL;
}

static pthread_t later(int *what)
{
	pthread_t t;

	MUST(pthread_create(&t, NULL, peer, what));
	return t;
}

static void waits(void)
{
	static int send = SEND, recv = RECV, post = POST, mqsend = MQ_SEND, mqrecv = MQ_RECV;
	struct msg m;
	struct sembuf down = {0, -1, 0};
	struct timespec t50 = {0, 50 * 1000000};
	char buf[64];
	pthread_t t;
	int t0;
	int64_t t1;

	t0 = atomic_load(&ticks);
	t = later(&send);
	CHECK(msgrcv(msq, &m, sizeof(m.text), 0, 0) == sizeof(m.text) && !strcmp(m.text, "hello"),
	      "msgrcv gets the other thread's message");
	CHECK(atomic_load(&ticks) > t0, "the ticker ran while msgrcv waited");
	MUST(pthread_join(t, NULL));

	/* The queue holds one message: the second send waits. */
	m = (struct msg){1, "full"};
	MUST(msgsnd(msq, &m, sizeof(m.text), 0));
	t = later(&recv);
	CHECK(msgsnd(msq, &m, sizeof(m.text), 0) == 0, "msgsnd on a full queue waits for a receive");
	MUST(pthread_join(t, NULL));
	MUST(msgrcv(msq, &m, sizeof(m.text), 0, 0) < 0 ? -1 : 0);

	t0 = atomic_load(&ticks);
	t = later(&post);
	CHECK(semop(sem, &down, 1) == 0, "semop(-1) waits for the other thread's semop(+1)");
	CHECK(atomic_load(&ticks) > t0, "the ticker ran while semop waited");
	MUST(pthread_join(t, NULL));
	t1 = mono_ns();
	CHECK_ERR(semtimedop(sem, &down, 1, &t50) == -1 ? errno : 0, EAGAIN,
		  "semtimedop of 50 ms on a zero semaphore");
	CHECK(mono_ns() - t1 >= MS(40), "semtimedop waited about its timeout");

	t = later(&mqsend);
	CHECK(mq_receive(mq, buf, sizeof(buf), NULL) == 6 && !strcmp(buf, "hello"),
	      "mq_receive gets the other thread's message");
	MUST(pthread_join(t, NULL));
	MUST(mq_send(mq, "a", 2, 0));
	MUST(mq_send(mq, "b", 2, 0));
	t = later(&mqrecv);
	CHECK(mq_send(mq, "c", 2, 0) == 0, "mq_send on a full queue waits for a receive");
	MUST(pthread_join(t, NULL));
	MUST(mq_receive(mq, buf, sizeof(buf), NULL) < 0 ? -1 : 0);
	MUST(mq_receive(mq, buf, sizeof(buf), NULL) < 0 ? -1 : 0);
	struct timespec abs = deadline_in(CLOCK_REALTIME, MS(50));
	t1 = mono_ns();
	CHECK_ERR(mq_timedreceive(mq, buf, sizeof(buf), NULL, &abs) == -1 ? errno : 0, ETIMEDOUT,
		  "mq_timedreceive 50 ms on an empty queue");
	CHECK(mono_ns() - t1 >= MS(40), "mq_timedreceive waited until its time");
}

/* Each waits in a thread; SIGUSR1 comes 40 ms in; a peer gives what it
 * waits for at 100 ms (for the call that goes on). */
enum { W_MSGRCV, W_SEMOP, W_MQRECV };

struct waiter {
	int what;
	long r;
	int err;
};

static void *wait_one(void *arg)
{
	struct waiter *w = arg;
	struct msg m;
	struct sembuf down = {0, -1, 0};
	char buf[64];

	switch (w->what) {
	case W_MSGRCV: w->r = msgrcv(msq, &m, sizeof(m.text), 0, 0); break;
	case W_SEMOP: w->r = semop(sem, &down, 1); break;
	default: w->r = mq_receive(mq, buf, sizeof(buf), NULL); break;
	}
	w->err = errno;
	pthread_testcancel();
	return NULL;
}

static void *give_later(void *arg)
{
	struct msg m = {1, "late"};
	struct sembuf up = {0, 1, 0};

	sleep_ms(100);
	switch (*(int *)arg) {
	case W_MSGRCV: MUST(msgsnd(msq, &m, sizeof(m.text), 0)); break;
	case W_SEMOP: MUST(semop(sem, &up, 1)); break;
	default: MUST(mq_send(mq, "late", 5, 0)); break;
	}
	return NULL;
}

static const char *names[] = {"msgrcv", "semop", "mq_receive"};

static void interrupted(int what, int restart)
{
	struct waiter w = {.what = what};
	pthread_t tw, tg;

	handler(restart);
	MUST(pthread_create(&tw, NULL, wait_one, &w));
	MUST(pthread_create(&tg, NULL, give_later, &w.what));
	sleep_ms(40);
	MUST(pthread_kill(tw, SIGUSR1));
	MUST(pthread_join(tw, NULL));
	MUST(pthread_join(tg, NULL));
	CHECK(atomic_load(&handled) == 1, "%s%s: the handler ran", names[what],
	      restart ? ", SA_RESTART" : "");
	if (restart && what == W_MQRECV) {
		CHECK(w.r == 5, "%s, SA_RESTART: the wait goes on and gets the message", names[what]);
		return;
	}
	CHECK_ERR(w.r == -1 ? w.err : 0, EINTR, "%s%s", names[what], restart ? ", SA_RESTART" : "");
	/* What came later is still there: nothing was taken. */
	struct msg m;
	struct sembuf down = {0, -1, IPC_NOWAIT};
	char buf[64];
	if (what == W_MSGRCV)
		CHECK(msgrcv(msq, &m, sizeof(m.text), 0, IPC_NOWAIT) > 0,
		      "msgrcv: the interrupted call took nothing");
	else if (what == W_SEMOP)
		CHECK(semop(sem, &down, 1) == 0, "semop: the interrupted call took nothing");
	else
		CHECK(mq_receive(mq, buf, sizeof(buf), NULL) == 5,
		      "mq_receive: the interrupted call took nothing");
}

static void cancelled(int what)
{
	struct waiter w = {.what = what, .r = 99};
	pthread_t tw, tg = 0;
	void *ret;

	MUST(pthread_create(&tw, NULL, wait_one, &w));
	sleep_ms(40);
	MUST(pthread_cancel(tw));
	if (what == W_SEMOP)
		MUST(pthread_create(&tg, NULL, give_later, &w.what));
	MUST(pthread_join(tw, &ret));
	if (tg)
		MUST(pthread_join(tg, NULL));
	CHECK(ret == PTHREAD_CANCELED, "cancel in %s: the thread is cancelled", names[what]);
	if (what == W_SEMOP)
		CHECK(w.r == 0, "cancel in semop: it took the semaphore first (no cancellation point)");
	else
		CHECK(w.r == 99, "cancel in %s: before it returned", names[what]);
}

static void errors(void)
{
	struct msg m;
	struct sembuf down = {0, -1, 0};
	struct timespec bad = {0, 2000000000};
	char buf[64];
	mqd_t nb;
	struct mq_attr attr = {.mq_maxmsg = 2, .mq_msgsize = 32};

	CHECK_ERR(msgrcv(-1, &m, sizeof(m.text), 0, 0) == -1 ? errno : 0, EINVAL, "msgrcv(-1)");
	MUST(msgsnd(msq, &(struct msg){1, "0123456789abcde"}, 16, 0));
	CHECK_ERR(msgrcv(msq, &m, 4, 0, 0) == -1 ? errno : 0, E2BIG, "msgrcv into 4 bytes");
	MUST(msgrcv(msq, &m, 16, 0, 0) < 0 ? -1 : 0);
	CHECK_ERR(semop(sem, &down, 0) == -1 ? errno : 0, EINVAL, "semop of no operation");
	CHECK_ERR(semtimedop(sem, &down, 1, &bad) == -1 ? errno : 0, EINVAL,
		  "semtimedop with tv_nsec 2e9");
	CHECK_ERR(semtimedop(sem, &down, 1, (struct timespec *)8) == -1 ? errno : 0, EFAULT,
		  "semtimedop with an unreadable timeout");
	CHECK_ERR(mq_receive(mq, buf, 8, NULL) == -1 ? errno : 0, EMSGSIZE,
		  "mq_receive into less than mq_msgsize");
	CHECK_ERR(mq_receive((mqd_t)-1, buf, sizeof(buf), NULL) == -1 ? errno : 0, EBADF,
		  "mq_receive(-1)");
	CHECK_ERR(mq_timedreceive(mq, buf, sizeof(buf), NULL, &bad) == -1 ? errno : 0, EINVAL,
		  "mq_timedreceive with tv_nsec 2e9");
	CHECK_ERR(mq_timedreceive(mq, buf, sizeof(buf), NULL, (struct timespec *)8) == -1 ? errno
											   : 0,
		  EFAULT, "mq_timedreceive with an unreadable timeout");
	nb = mq_open(mqname, O_RDWR | O_NONBLOCK, 0600, &attr);
	MUST(nb == (mqd_t)-1 ? -1 : 0);
	CHECK_ERR(mq_receive(nb, buf, sizeof(buf), NULL) == -1 ? errno : 0, EAGAIN,
		  "mq_receive on an empty queue opened O_NONBLOCK");
	mq_close(nb);
}

int main(void)
{
	struct mq_attr attr = {.mq_maxmsg = 2, .mq_msgsize = 32};
	struct msqid_ds ds;
	pthread_t tick;

	msq = msgget(IPC_PRIVATE, 0600);
	sem = semget(IPC_PRIVATE, 1, 0600);
	snprintf(mqname, sizeof(mqname), "/greenify-mq-%d", (int)getpid());
	mq = mq_open(mqname, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
	if (msq < 0 || sem < 0 || mq == (mqd_t)-1) {
		perror("msgget/semget/mq_open");
		return 2;
	}
	/* Room for one 16-byte message: the second send waits. */
	MUST(msgctl(msq, IPC_STAT, &ds));
	ds.msg_qbytes = 16;
	MUST(msgctl(msq, IPC_SET, &ds));
	MUST(pthread_create(&tick, NULL, ticker, NULL));
	waits();
	for (int what = W_MSGRCV; what <= W_MQRECV; what++) {
		interrupted(what, 0);
		interrupted(what, 1);
		cancelled(what);
	}
	errors();
	atomic_store(&stop, 1);
	MUST(pthread_join(tick, NULL));
	msgctl(msq, IPC_RMID, NULL);
	semctl(sem, 0, IPC_RMID);
	mq_close(mq);
	mq_unlink(mqname);
	return check_done();
}
