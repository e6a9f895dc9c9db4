/* A system call made by the program's own instruction, not through libc,
 * where no hook sees it (as GNU libgomp's futex calls on x86_64); elsewhere
 * than x86_64 through libc's syscall(), as libgomp's go there. The
 * kernel's convention: the result, or -errno. For the sud_ programs;
 * after check.h (atomic_int, sleep_ms). */
#ifndef INTEG_INLINE_SYSCALL_H
#define INTEG_INLINE_SYSCALL_H

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
static inline long raw6(long nr, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long r;

	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "0"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return r;
}
#else
static inline long raw6(long nr, long a, long b, long c, long d, long e, long f)
{
	long r = syscall(nr, a, b, c, d, e, f);

	return r == -1 ? -errno : r;
}
#endif

static inline long raw4(long nr, long a, long b, long c, long d)
{
	return raw6(nr, a, b, c, d, 0, 0);
}

static inline long futex_wait(atomic_int *w, int val, const struct timespec *to)
{
	return raw6(SYS_futex, (long)w, FUTEX_WAIT_PRIVATE, val, (long)to, 0, 0);
}

static inline long futex_wake(atomic_int *w, int n)
{
	return raw6(SYS_futex, (long)w, FUTEX_WAKE_PRIVATE, n, 0, 0, 0);
}

/* A lock as libgomp's gomp_mutex (0 free, 1 taken, 2 taken with waiters)
 * on inline futex calls. */
static inline void gomp_style_lock(atomic_int *w)
{
	int c = 0;

	if (atomic_compare_exchange_strong(w, &c, 1))
		return;
	while (atomic_exchange(w, 2) != 0)
		futex_wait(w, 2, NULL);
}

static inline void gomp_style_unlock(atomic_int *w)
{
	if (atomic_exchange(w, 0) == 2)
		futex_wake(w, 1);
}

/* A fork child's threads on inline futex calls (the child must turn
 * dispatch on again): a thread waits until another, 5 ms later, sets the
 * word and wakes it. 0 when the wait ended so. Needs check.h first. */
static atomic_int inline_child_word;

static inline void *inline_child_waker(void *arg)
{
	(void)arg;
	sleep_ms(5);
	atomic_store(&inline_child_word, 1);
	futex_wake(&inline_child_word, 1);
	return NULL;
}

static inline int inline_fork_child_main(void)
{
	pthread_t w;

	alarm(10);
	if (pthread_create(&w, NULL, inline_child_waker, NULL) != 0)
		return 2;
	while (atomic_load(&inline_child_word) == 0)
		futex_wait(&inline_child_word, 0, NULL);
	return pthread_join(w, NULL) == 0 ? 0 : 3;
}

#endif
