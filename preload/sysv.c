/* System V IPC that waits: msgrcv, msgsnd, semop, semtimedop; tcdrain,
 * which waits for a terminal's output to drain, and tcsendbreak, which
 * sends a break for a quarter of a second or more; klogctl, whose
 * SYSLOG_ACTION_READ waits for kernel messages. None has a readiness
 * event. Each is first tried without waiting (IPC_NOWAIT; a
 * semaphore operation with a zero timeout, which fails with EAGAIN where it
 * would wait and, unlike a copy of the caller's operations with IPC_NOWAIT
 * added, lets the kernel read them: a bad pointer is still EFAULT); only a
 * call that must wait runs on a worker thread while the green thread
 * parks.
 *
 * As natively: a signal handler ends these waits with EINTR (System V IPC
 * is never restarted; the terminal calls and klogctl are, under
 * SA_RESTART); msgrcv, msgsnd and tcdrain are cancellation points, the
 * others are not (glibc makes them plain system calls). Left to libc: IPC_NOWAIT, msgrcv's
 * MSG_COPY (which needs IPC_NOWAIT), and threads that are not green. */
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/klog.h>
#include <termios.h>

#include "../runtime/uaccess.h"
#include "work.h"

struct ipcjob {
	int id;
	void *p; /* the message, or the semaphore operations */
	size_t n;
	long type;
	int flags;
	const struct timespec *timeout;
};

static long run_msgrcv(void *p)
{
	struct ipcjob *a = p;

	return gr_neg_errno(GR_REAL(msgrcv)(a->id, a->p, a->n, a->type, a->flags));
}

static long run_msgsnd(void *p)
{
	struct ipcjob *a = p;

	return gr_neg_errno(GR_REAL(msgsnd)(a->id, a->p, a->n, a->flags));
}

static long run_semtimedop(void *p)
{
	struct ipcjob *a = p;

	return gr_neg_errno(GR_REAL(semtimedop)(a->id, a->p, a->n, a->timeout));
}

static long run_tcdrain(void *p)
{
	struct ipcjob *a = p;

	return gr_neg_errno(GR_REAL(tcdrain)(a->id));
}

GR_EXPORT ssize_t msgrcv(int id, void *msg, size_t n, long type, int flags)
{
	struct ipcjob a = {.id = id, .p = msg, .n = n, .type = type, .flags = flags};
	int saved = errno;
	ssize_t t;
	long r;

	if (!gr_green() || (flags & (IPC_NOWAIT | MSG_COPY)))
		return GR_REAL(msgrcv)(id, msg, n, type, flags);
	gr_cancel_begin();
	gr_cancel_end(0);
	t = GR_REAL(msgrcv)(id, msg, n, type, flags | IPC_NOWAIT);
	if (t >= 0) {
		errno = saved;
		return t;
	}
	if (errno != ENOMSG)
		return -1;
	if (gr_work(run_msgrcv, &a, GR_WORK_KICK | GR_WORK_CANCEL, &r) < 0)
		return GR_REAL(msgrcv)(id, msg, n, type, flags);
	return gr_work_ret(r, saved);
}

GR_EXPORT int msgsnd(int id, const void *msg, size_t n, int flags)
{
	struct ipcjob a = {.id = id, .p = (void *)msg, .n = n, .flags = flags};
	int saved = errno;
	long r;

	if (!gr_green() || (flags & IPC_NOWAIT))
		return GR_REAL(msgsnd)(id, msg, n, flags);
	gr_cancel_begin();
	gr_cancel_end(0);
	if (GR_REAL(msgsnd)(id, msg, n, flags | IPC_NOWAIT) == 0) {
		errno = saved;
		return 0;
	}
	if (errno != EAGAIN)
		return -1;
	if (gr_work(run_msgsnd, &a, GR_WORK_KICK | GR_WORK_CANCEL, &r) < 0)
		return GR_REAL(msgsnd)(id, msg, n, flags);
	return (int)gr_work_ret(r, saved);
}

static const struct timespec zero;

GR_EXPORT int semtimedop(int id, struct sembuf *sops, size_t n, const struct timespec *timeout)
{
	struct ipcjob a = {.id = id, .p = sops, .n = n, .timeout = timeout};
	struct timespec t = {0, 0};
	int saved = errno;
	long r;

	if (!gr_green())
		return GR_REAL(semtimedop)(id, sops, n, timeout);
	if (timeout) {
		if (gr_copy_in(&t, timeout, sizeof(t)) < 0) {
			errno = EFAULT;
			return -1;
		}
		/* A zero timeout never waits; a bad one fails at once, after
		 * the kernel's checks of the other arguments. */
		if ((t.tv_sec == 0 && t.tv_nsec == 0) || t.tv_sec < 0 || t.tv_nsec < 0 ||
		    t.tv_nsec >= 1000000000L)
			return GR_REAL(semtimedop)(id, sops, n, timeout);
	}
	if (GR_REAL(semtimedop)(id, sops, n, &zero) == 0) {
		errno = saved;
		return 0;
	}
	/* EAGAIN: it would wait (or an operation has IPC_NOWAIT: the worker's
	 * call says so at once). */
	if (errno != EAGAIN)
		return -1;
	if (gr_work(run_semtimedop, &a, GR_WORK_KICK, &r) < 0)
		return GR_REAL(semtimedop)(id, sops, n, timeout);
	return (int)gr_work_ret(r, saved);
}

GR_EXPORT int semop(int id, struct sembuf *sops, size_t n)
{
	if (!gr_green())
		return GR_REAL(semop)(id, sops, n);
	return semtimedop(id, sops, n, NULL);
}

GR_EXPORT int tcdrain(int fd)
{
	struct ipcjob a = {.id = fd};
	int saved = errno;
	long r;

	if (!gr_green())
		return GR_REAL(tcdrain)(fd);
	if (gr_work(run_tcdrain, &a, GR_WORK_KICK | GR_WORK_RESTART | GR_WORK_CANCEL, &r) < 0)
		return GR_REAL(tcdrain)(fd);
	return (int)gr_work_ret(r, saved);
}

static long run_tcsendbreak(void *p)
{
	struct ipcjob *a = p;

	return gr_neg_errno(GR_REAL(tcsendbreak)(a->id, a->flags));
}

GR_EXPORT int tcsendbreak(int fd, int duration)
{
	struct ipcjob a = {.id = fd, .flags = duration};
	int saved = errno;
	long r;

	if (!gr_green())
		return GR_REAL(tcsendbreak)(fd, duration);
	if (gr_work(run_tcsendbreak, &a, GR_WORK_KICK | GR_WORK_RESTART, &r) < 0)
		return GR_REAL(tcsendbreak)(fd, duration);
	return (int)gr_work_ret(r, saved);
}

static long run_klogctl(void *p)
{
	struct ipcjob *a = p;

	return gr_neg_errno(GR_REAL(klogctl)(a->id, a->p, (int)a->n));
}

#define SYSLOG_ACTION_READ 2 /* the one that waits (syslog(2)) */

GR_EXPORT int klogctl(int type, char *buf, int len)
{
	struct ipcjob a = {.id = type, .p = buf, .n = (size_t)len};
	int saved = errno;
	long r;

	if (!gr_green() || type != SYSLOG_ACTION_READ)
		return GR_REAL(klogctl)(type, buf, len);
	if (gr_work(run_klogctl, &a, GR_WORK_KICK | GR_WORK_RESTART, &r) < 0)
		return GR_REAL(klogctl)(type, buf, len);
	return (int)gr_work_ret(r, saved);
}
