/* Green pthread locks and waits (mutex.c, cond.c, rwlock.c, sem.c,
 * barrier.c, once.c). Each works on the caller's own object, in glibc's layout
 * where glibc's initialisers and an object used before the runtime started
 * must keep working, and waits in wait.c's queues. Every function returns
 * 0 or -errno; preload/ turns that into each call's convention. */
#ifndef GR_LOCK_H
#define GR_LOCK_H

#include <pthread.h>
#include <semaphore.h>

#include <stdint.h>

#include "timeout.h"

struct gr_thread;

int gr_mutex_lock(pthread_mutex_t *m, const struct gr_timeout *to);
int gr_mutex_unlock(pthread_mutex_t *m);
int gr_mutex_consistent(pthread_mutex_t *m);
/* The owner id of the thread holding m (0 when free), for the deadlock
 * report. */
int gr_mutex_holder(const pthread_mutex_t *m);
/* Robust mutexes a finishing thread still holds pass to their next owner
 * with EOWNERDEAD. */
void gr_mutex_owner_exit(struct gr_thread *t);
/* A fork child forgets the hand-overs to threads it does not have. */
void gr_mutex_after_fork(void);
/* A spin lock: a green thread that finds it held yields (try_only: -EBUSY). */
int gr_spin_lock(pthread_spinlock_t *l, int try_only);

/* The way of mutexes another OS thread or process may touch too
 * (mutex_shared.c), for mutex.c. */
int gr_mutex_lock_atomic(pthread_mutex_t *m, const struct gr_timeout *to);
int gr_mutex_unlock_atomic(pthread_mutex_t *m);
int gr_mutex_consistent_atomic(pthread_mutex_t *m);
/* Gives m, held by the caller (or a thread that ended), to green waiter w,
 * whose wait returns result (0, or -EOWNERDEAD). */
void gr_mutex_hand_over(pthread_mutex_t *m, struct gr_thread *w, int result);
void gr_mutex_shared_owner_exit(struct gr_thread *t);
void gr_mutex_shared_after_fork(void);
/* Which green thread holds a process-shared mutex or write-holds a
 * process-shared rwlock (whose word names the runtime thread's tid, as
 * other processes see it): NULL if none. */
void gr_held_set(const void *obj, struct gr_thread *t);
struct gr_thread *gr_held_get(const void *obj);
void gr_held_del(const void *obj);
/* The green robust list of private robust mutexes (mutex.c). */
void gr_mutex_robust_add(struct gr_thread *t, pthread_mutex_t *m);
void gr_mutex_robust_del(struct gr_thread *t, pthread_mutex_t *m);

/* The clock a condition's timed wait uses, as pthread_condattr_setclock
 * left it in the object. */
clockid_t gr_cond_clock(const pthread_cond_t *c);
int gr_cond_wait(pthread_cond_t *c, pthread_mutex_t *m, const struct gr_timeout *to);
int gr_cond_signal(pthread_cond_t *c, int all);
int gr_cond_destroy(pthread_cond_t *c);
/* Process-shared conditions, in glibc's algorithm (cond_shared.c). */
int gr_cond_wait_shared(pthread_cond_t *c, pthread_mutex_t *m, const struct gr_timeout *to);
int gr_cond_signal_shared(pthread_cond_t *c, int all);
int gr_cond_destroy_wait(pthread_cond_t *c);

int gr_rwlock_rdlock(pthread_rwlock_t *rw, const struct gr_timeout *to);
int gr_rwlock_wrlock(pthread_rwlock_t *rw, const struct gr_timeout *to);
int gr_rwlock_unlock(pthread_rwlock_t *rw);
/* Who holds rw, for the deadlock report: 1 and the writer's owner id in
 * *writer when a writer does, else 0 and the number of readers in
 * *nreaders. */
int gr_rwlock_holder(const pthread_rwlock_t *rw, int *writer, unsigned *nreaders);
/* glibc's algorithm, for rwlocks others may use too (rwlock_shared.c). */
int gr_rwlock_rdlock_shared(pthread_rwlock_t *rw, const struct gr_timeout *to);
int gr_rwlock_wrlock_shared(pthread_rwlock_t *rw, const struct gr_timeout *to);
int gr_rwlock_unlock_shared(pthread_rwlock_t *rw);

int gr_sem_wait(sem_t *s, const struct gr_timeout *to);
int gr_sem_post(sem_t *s);

/* 1 for the one thread that completed the round, 0 for the others. */
int gr_barrier_wait(pthread_barrier_t *b);
/* Waits until every thread that entered b has left it. */
int gr_barrier_destroy(pthread_barrier_t *b);
/* A process-shared barrier, in glibc's algorithm (barrier_shared.c). */
int gr_barrier_wait_shared(pthread_barrier_t *b);
int gr_once(pthread_once_t *once, void (*init)(void));
/* glibc's pthread_once, for a caller that is not green; if the runtime
 * started inside the routine, green threads waiting for the control wake
 * when it ends. */
int gr_once_libc(pthread_once_t *once, void (*init)(void));
/* t ends without unwinding (main, shared TLS): the controls whose init
 * routine it was running are reset, as unwinding would have done. */
void gr_once_thread_exit(struct gr_thread *t);

/* Raw futex operations (syscall(SYS_futex)); each returns what the system
 * call would (a count, or -errno). */
long gr_futex(uint32_t *uaddr, int op, uint32_t val, const struct timespec *timeout,
	      uint32_t *uaddr2, uint32_t val3);
/* After a foreign OS thread's futex system call (foreign.h): the green
 * waiters it may have woken look again. */
void gr_futex_foreign_woke(uint32_t *uaddr, int op, uint32_t val, uint32_t *uaddr2);

#endif
