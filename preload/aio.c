/* Kernel AIO and io_uring.
 *
 * io_getevents, whether libaio's (which calls syscall()) or a raw
 * syscall(SYS_io_getevents), waits for completions with no fd to poll: a
 * call that must wait (min_nr > 0, and fewer completions there than that)
 * runs on a worker thread while the green thread parks. It first takes what
 * is there without waiting (a zero timeout), and the worker waits only for
 * the rest; a signal handler ends the wait with EINTR (or the completions
 * taken so far), as natively. syscall(SYS_io_pgetevents) without a signal
 * mask is the same call; with one it stays a plain call (a worker must not
 * take the program's signals). syscall(SYS_io_uring_enter) waiting for
 * completions (IORING_ENTER_GETEVENTS, min_complete > 0) runs on a worker
 * the same way.
 *
 * liburing makes its io_uring_enter system calls inline, where no hook
 * sees them, and a thread that waits there would stop every green thread.
 * So io_uring_queue_init, io_uring_queue_init_params and io_uring_setup,
 * liburing's ways to make a ring, answer -ENOSYS (and errno ENOSYS), which
 * programs take as a kernel without io_uring: MariaDB's InnoDB then uses
 * libaio or its own threads. With GREENIFY_DISABLE they are liburing's.
 *
 * POSIX AIO (aio_read...) runs on glibc's own helper OS threads; waiting
 * for it, aio_suspend and lio_listio(LIO_WAIT) wait on a futex of glibc's
 * through internal calls: they run on a worker thread, and a handler ends
 * the wait with EINTR as natively (aio_suspend is a cancellation point). */
#include "aio.h"

#include <aio.h>
#include <dlfcn.h>
#include <linux/aio_abi.h>
#include <sys/syscall.h>
#include <time.h>

#include "../runtime/uaccess.h"
#include "work.h"

#ifndef IORING_ENTER_GETEVENTS
#define IORING_ENTER_GETEVENTS 1U
#endif

/* liburing's, declared here: greenify does not build against liburing. */
struct io_uring;
struct io_uring_params;
int io_uring_queue_init(unsigned entries, struct io_uring *ring, unsigned flags);
int io_uring_queue_init_params(unsigned entries, struct io_uring *ring, struct io_uring_params *p);
int io_uring_setup(unsigned entries, struct io_uring_params *p);

struct sysjob {
	long nr;
	long a[6];
};

static long run_syscall(void *p)
{
	struct sysjob *j = p;

	return gr_neg_errno(
		GR_REAL(syscall)(j->nr, j->a[0], j->a[1], j->a[2], j->a[3], j->a[4], j->a[5]));
}

int gr_aio_syscall_waits(long nr, const long *a)
{
	switch (nr) {
	case SYS_io_getevents: return a[1] > 0;
	case SYS_io_pgetevents: return a[1] > 0 && a[5] == 0;
	case SYS_io_uring_enter: return ((unsigned long)a[3] & IORING_ENTER_GETEVENTS) && a[2] > 0;
	default: return 0;
	}
}

/* io_getevents(ctx, min_nr, nr, events, timeout): what is there at once,
 * then the rest on a worker. */
static long getevents(struct sysjob *j, int saved)
{
	static const struct timespec zero;
	long min_nr = j->a[1], nr = j->a[2], got, r;
	struct io_event *ev = (struct io_event *)j->a[3];
	struct timespec t = {0, 0};

	if (j->a[4]) { /* the kernel reads the timeout before anything else */
		if (gr_copy_in(&t, (const void *)j->a[4], sizeof(t)) < 0) {
			errno = EFAULT;
			return -1;
		}
	}
	got = GR_REAL(syscall)(j->nr, j->a[0], min_nr, nr, (long)ev, (long)&zero, j->a[5]);
	if (got < 0)
		return -1;
	/* Enough, or a zero timeout of the caller's: the try was the call. */
	if (got >= min_nr || (j->a[4] && t.tv_sec == 0 && t.tv_nsec == 0))
		return gr_work_ret(got, saved);
	j->a[1] = min_nr - got;
	j->a[2] = nr - got;
	j->a[3] = (long)(ev + got);
	if (gr_work(run_syscall, j, GR_WORK_KICK, &r) < 0)
		r = gr_neg_errno(GR_REAL(syscall)(j->nr, j->a[0], j->a[1], j->a[2], j->a[3],
						  j->a[4], j->a[5]));
	if (r < 0 && got > 0)
		r = 0; /* the kernel too returns what it took before a signal */
	return gr_work_ret(r < 0 ? r : r + got, saved);
}

long gr_aio_syscall(long nr, const long *a)
{
	struct sysjob j = {.nr = nr, .a = {a[0], a[1], a[2], a[3], a[4], a[5]}};
	int saved = errno;
	long r;

	if (nr != SYS_io_uring_enter)
		return getevents(&j, saved);
	if (gr_work(run_syscall, &j, GR_WORK_KICK, &r) < 0)
		return GR_REAL(syscall)(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	return gr_work_ret(r, saved);
}

/* liburing's own function, for GREENIFY_DISABLE: looked up when first
 * needed (liburing may not be loaded at all). */
static void *liburing(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

GR_EXPORT int io_uring_queue_init(unsigned entries, struct io_uring *ring, unsigned flags)
{
	__typeof__(io_uring_queue_init) *real;

	if (gr_config.disable && (real = (__typeof__(real))liburing("io_uring_queue_init")))
		return real(entries, ring, flags);
	errno = ENOSYS;
	return -ENOSYS;
}

GR_EXPORT int io_uring_queue_init_params(unsigned entries, struct io_uring *ring,
					 struct io_uring_params *p)
{
	__typeof__(io_uring_queue_init_params) *real;

	if (gr_config.disable && (real = (__typeof__(real))liburing("io_uring_queue_init_params")))
		return real(entries, ring, p);
	errno = ENOSYS;
	return -ENOSYS;
}

GR_EXPORT int io_uring_setup(unsigned entries, struct io_uring_params *p)
{
	__typeof__(io_uring_setup) *real;

	if (gr_config.disable && (real = (__typeof__(real))liburing("io_uring_setup")))
		return real(entries, p);
	errno = ENOSYS;
	return -ENOSYS;
}

struct aiojob {
	const struct aiocb *const *list;
	int n;
	const struct timespec *timeout;
	int mode;
	struct sigevent *sev;
};

static long run_aio_suspend(void *p)
{
	struct aiojob *j = p;

	return gr_neg_errno(GR_REAL(aio_suspend)(j->list, j->n, j->timeout));
}

static long run_lio_listio(void *p)
{
	struct aiojob *j = p;

	return gr_neg_errno(
		GR_REAL(lio_listio)(j->mode, (struct aiocb *const *)j->list, j->n, j->sev));
}

GR_EXPORT int aio_suspend(const struct aiocb *const list[], int n, const struct timespec *timeout)
{
	struct aiojob j = {.list = list, .n = n, .timeout = timeout};
	int saved = errno;
	long r;

	if (!gr_green())
		return GR_REAL(aio_suspend)(list, n, timeout);
	if (gr_work(run_aio_suspend, &j, GR_WORK_KICK | GR_WORK_CANCEL, &r) < 0)
		return GR_REAL(aio_suspend)(list, n, timeout);
	return (int)gr_work_ret(r, saved);
}

GR_EXPORT int lio_listio(int mode, struct aiocb *const list[], int n, struct sigevent *sev)
{
	struct aiojob j = {
		.list = (const struct aiocb *const *)list, .n = n, .mode = mode, .sev = sev};
	int saved = errno;
	long r;

	if (!gr_green() || mode != LIO_WAIT)
		return GR_REAL(lio_listio)(mode, list, n, sev);
	if (gr_work(run_lio_listio, &j, GR_WORK_KICK, &r) < 0)
		return GR_REAL(lio_listio)(mode, list, n, sev);
	return (int)gr_work_ret(r, saved);
}

/* struct aiocb64 is struct aiocb on the 64-bit targets: the same calls. */
GR_EXPORT int gr_aio_suspend64(const struct aiocb *const list[], int n,
			       const struct timespec *timeout) __asm__("aio_suspend64");
GR_EXPORT int gr_aio_suspend64(const struct aiocb *const list[], int n,
			       const struct timespec *timeout)
{
	return aio_suspend(list, n, timeout);
}

GR_EXPORT int gr_lio_listio64(int mode, struct aiocb *const list[], int n,
			      struct sigevent *sev) __asm__("lio_listio64");
GR_EXPORT int gr_lio_listio64(int mode, struct aiocb *const list[], int n, struct sigevent *sev)
{
	return lio_listio(mode, list, n, sev);
}
