/* The table of real libc functions, the ones our preloaded symbols shadow.
 * Declared with __typeof__ so no prototype is retyped, filled once with
 * dlsym(RTLD_NEXT) before the first hook runs. The runtime calls only these,
 * never the hooked names, so it cannot re-enter itself. */
#ifndef GR_REAL_H
#define GR_REAL_H

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <netdb.h>
#include <sys/ioctl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <semaphore.h>
#include <setjmp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <threads.h>

#include <aliases.h>
#include <grp.h>
#include <gshadow.h>
#include <netinet/ether.h>
#include <resolv.h>
#include <pwd.h>
#include <shadow.h>
#include <aio.h>
#include <mqueue.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <wordexp.h>
#include <fmtmsg.h>
#include <stdarg.h>
#include <syslog.h>
#include <sys/file.h>
#include <sys/sendfile.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <termios.h>

/* <resolv.h> names its printers (p_type...) with macros, which would
 * rename struct fields of the same name (an ELF program header's p_type)
 * in every file that includes this one. */
#undef p_query
#undef p_cdname
#undef p_cdnname
#undef p_class
#undef p_fqname
#undef p_fqnname
#undef p_option
#undef p_time
#undef p_type
#undef p_rcode

#include "libio_decl.h"

/* What pthread_atfork (in libc_nonshared.a, linked into every caller) calls;
 * glibc exports it but declares it in no public header. */
extern int __register_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void),
			     void *dso_handle);
/* longjmp with _FORTIFY_SOURCE's check, declared only for such builds. */
extern void __longjmp_chk(struct __jmp_buf_tag env[1], int val) __attribute__((noreturn));
/* vsyslog with _FORTIFY_SOURCE's check, declared only for such builds. */
extern void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap);
/* The old names of waitpid and wait, still exported for binaries of long
 * ago, in no header. */
extern pid_t __waitpid(pid_t pid, int *status, int options);
extern pid_t __wait(int *status);

/* glibc's fortified open (what -D_FORTIFY_SOURCE makes of open), declared
 * only in its fortify headers. */
extern int __open_2(const char *path, int flags);
extern int __openat_2(int dirfd, const char *path, int flags);

/* glibc's own allocator, whichever malloc the program brings (exported, in
 * no header): what the runtime allocates inside calls a program's malloc
 * makes (pthread_setspecific, as jemalloc's first malloc in a thread
 * does) must not call that malloc again, under its lock. */
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void __libc_free(void *p);

#define GR_REAL_FUNCS(X)                                                                           \
	X(pthread_create)                                                                          \
	X(pthread_join)                                                                            \
	X(pthread_tryjoin_np)                                                                      \
	X(pthread_timedjoin_np)                                                                    \
	X(pthread_clockjoin_np)                                                                    \
	X(pthread_detach)                                                                          \
	X(pthread_exit)                                                                            \
	X(pthread_self)                                                                            \
	X(pthread_equal)                                                                           \
	X(pthread_getattr_np)                                                                      \
	X(pthread_setname_np)                                                                      \
	X(pthread_getname_np)                                                                      \
	X(pthread_kill)                                                                            \
	X(pthread_cancel)                                                                          \
	X(pthread_setcancelstate)                                                                  \
	X(pthread_setcanceltype)                                                                   \
	X(pthread_testcancel)                                                                      \
	X(pthread_sigqueue)                                                                        \
	X(pthread_getschedparam)                                                                   \
	X(pthread_setschedparam)                                                                   \
	X(pthread_setschedprio)                                                                    \
	X(pthread_getcpuclockid)                                                                   \
	X(pthread_setaffinity_np)                                                                  \
	X(pthread_getaffinity_np)                                                                  \
	X(pthread_setattr_default_np)                                                              \
	X(sched_yield)                                                                             \
	X(pthread_mutex_lock)                                                                      \
	X(pthread_mutex_trylock)                                                                   \
	X(pthread_mutex_timedlock)                                                                 \
	X(pthread_mutex_clocklock)                                                                 \
	X(pthread_mutex_unlock)                                                                    \
	X(pthread_mutex_consistent)                                                                \
	X(pthread_cond_wait)                                                                       \
	X(pthread_cond_timedwait)                                                                  \
	X(pthread_cond_clockwait)                                                                  \
	X(pthread_cond_signal)                                                                     \
	X(pthread_cond_broadcast)                                                                  \
	X(pthread_cond_destroy)                                                                    \
	X(pthread_rwlock_rdlock)                                                                   \
	X(pthread_rwlock_tryrdlock)                                                                \
	X(pthread_rwlock_timedrdlock)                                                              \
	X(pthread_rwlock_clockrdlock)                                                              \
	X(pthread_rwlock_wrlock)                                                                   \
	X(pthread_rwlock_trywrlock)                                                                \
	X(pthread_rwlock_timedwrlock)                                                              \
	X(pthread_rwlock_clockwrlock)                                                              \
	X(pthread_rwlock_unlock)                                                                   \
	X(pthread_spin_lock)                                                                       \
	X(pthread_spin_trylock)                                                                    \
	X(pthread_barrier_wait)                                                                    \
	X(pthread_barrier_destroy)                                                                 \
	X(pthread_once)                                                                            \
	X(pthread_key_create)                                                                      \
	X(pthread_key_delete)                                                                      \
	X(pthread_getspecific)                                                                     \
	X(pthread_setspecific)                                                                     \
	X(sem_wait)                                                                                \
	X(sem_trywait)                                                                             \
	X(sem_timedwait)                                                                           \
	X(sem_clockwait)                                                                           \
	X(sem_post)                                                                                \
	X(nanosleep)                                                                               \
	X(clock_nanosleep)                                                                         \
	X(sleep)                                                                                   \
	X(usleep)                                                                                  \
	X(thrd_create)                                                                             \
	X(thrd_join)                                                                               \
	X(thrd_detach)                                                                             \
	X(thrd_current)                                                                            \
	X(thrd_equal)                                                                              \
	X(thrd_sleep)                                                                              \
	X(thrd_yield)                                                                              \
	X(thrd_exit)                                                                               \
	X(syscall)                                                                                 \
	X(gettid)                                                                                  \
	X(tgkill)                                                                                  \
	X(sched_setaffinity)                                                                       \
	X(sched_getaffinity)                                                                       \
	X(sched_getcpu)                                                                            \
	X(sched_setscheduler)                                                                      \
	X(sched_getscheduler)                                                                      \
	X(sched_setparam)                                                                          \
	X(sched_getparam)                                                                          \
	X(sched_rr_get_interval)                                                                   \
	X(setpriority)                                                                             \
	X(getpriority)                                                                             \
	X(opendir)                                                                                 \
	X(stat)                                                                                    \
	X(lstat)                                                                                   \
	X(fstatat)                                                                                 \
	X(stat64)                                                                                  \
	X(lstat64)                                                                                 \
	X(fstatat64)                                                                               \
	X(statx)                                                                                   \
	X(access)                                                                                  \
	X(readlink)                                                                                \
	X(clock_gettime)                                                                           \
	X(clock_getres)                                                                            \
	X(sigaction)                                                                               \
	X(signal)                                                                                  \
	X(raise)                                                                                   \
	X(pthread_sigmask)                                                                         \
	X(sigprocmask)                                                                             \
	X(sigpending)                                                                              \
	X(sigsuspend)                                                                              \
	X(pause)                                                                                   \
	X(sigwait)                                                                                 \
	X(sigwaitinfo)                                                                             \
	X(sigtimedwait)                                                                            \
	X(kill)                                                                                    \
	X(killpg)                                                                                  \
	X(__sigsetjmp)                                                                             \
	X(longjmp)                                                                                 \
	X(_longjmp)                                                                                \
	X(siglongjmp)                                                                              \
	X(__longjmp_chk)                                                                           \
	X(read)                                                                                    \
	X(poll)                                                                                    \
	X(readv)                                                                                   \
	X(preadv2)                                                                                 \
	X(pwritev2)                                                                                \
	X(writev)                                                                                  \
	X(eventfd_read)                                                                            \
	X(eventfd_write)                                                                           \
	X(recvmmsg)                                                                                \
	X(sendmmsg)                                                                                \
	X(recv)                                                                                    \
	X(recvfrom)                                                                                \
	X(recvmsg)                                                                                 \
	X(send)                                                                                    \
	X(sendto)                                                                                  \
	X(sendmsg)                                                                                 \
	X(accept)                                                                                  \
	X(accept4)                                                                                 \
	X(connect)                                                                                 \
	X(close)                                                                                   \
	X(close_range)                                                                             \
	X(closefrom)                                                                               \
	X(closedir)                                                                                \
	X(pipe)                                                                                    \
	X(pipe2)                                                                                   \
	X(dup2)                                                                                    \
	X(dup3)                                                                                    \
	X(fcntl)                                                                                   \
	X(fcntl64)                                                                                 \
	X(socket)                                                                                  \
	X(socketpair)                                                                              \
	X(dup)                                                                                     \
	X(pread)                                                                                   \
	X(pwrite)                                                                                  \
	X(pread64)                                                                                 \
	X(pwrite64)                                                                                \
	X(fsync)                                                                                   \
	X(fdatasync)                                                                               \
	X(_Fork)                                                                                   \
	X(clone)                                                                                   \
	X(__register_atfork)                                                                       \
	X(waitpid)                                                                                 \
	X(wait)                                                                                    \
	X(wait3)                                                                                   \
	X(wait4)                                                                                   \
	X(waitid)                                                                                  \
	X(__waitpid)                                                                               \
	X(__wait)                                                                                  \
	X(system)                                                                                  \
	X(pclose)                                                                                  \
	X(getaddrinfo)                                                                             \
	X(getnameinfo)                                                                             \
	X(gethostbyname)                                                                           \
	X(gethostbyname_r)                                                                         \
	X(gethostbyname2_r)                                                                        \
	X(gethostbyaddr_r)                                                                         \
	X(ppoll)                                                                                   \
	X(select)                                                                                  \
	X(pselect)                                                                                 \
	X(epoll_wait)                                                                              \
	X(epoll_pwait)                                                                             \
	X(flock)                                                                                   \
	X(lockf)                                                                                   \
	X(msgrcv)                                                                                  \
	X(msgsnd)                                                                                  \
	X(semop)                                                                                   \
	X(semtimedop)                                                                              \
	X(tcdrain)                                                                                 \
	X(open)                                                                                    \
	X(openat)                                                                                  \
	X(__open_2)                                                                                \
	X(__openat_2)                                                                              \
	X(fopen)                                                                                   \
	X(fopen64)                                                                                 \
	X(getpwnam)                                                                                \
	X(getpwuid)                                                                                \
	X(getpwnam_r)                                                                              \
	X(getpwuid_r)                                                                              \
	X(getpwent)                                                                                \
	X(getpwent_r)                                                                              \
	X(setpwent)                                                                                \
	X(endpwent)                                                                                \
	X(getgrnam)                                                                                \
	X(getgrgid)                                                                                \
	X(getgrnam_r)                                                                              \
	X(getgrgid_r)                                                                              \
	X(getgrent)                                                                                \
	X(getgrent_r)                                                                              \
	X(setgrent)                                                                                \
	X(endgrent)                                                                                \
	X(getgrouplist)                                                                            \
	X(initgroups)                                                                              \
	X(getspnam)                                                                                \
	X(getspnam_r)                                                                              \
	X(getspent)                                                                                \
	X(getspent_r)                                                                              \
	X(setspent)                                                                                \
	X(endspent)                                                                                \
	X(getsgnam)                                                                                \
	X(getsgnam_r)                                                                              \
	X(getsgent)                                                                                \
	X(getsgent_r)                                                                              \
	X(setsgent)                                                                                \
	X(endsgent)                                                                                \
	X(getservbyname)                                                                           \
	X(getservbyport)                                                                           \
	X(getservbyname_r)                                                                         \
	X(getservbyport_r)                                                                         \
	X(getservent)                                                                              \
	X(getservent_r)                                                                            \
	X(setservent)                                                                              \
	X(endservent)                                                                              \
	X(getprotobyname)                                                                          \
	X(getprotobynumber)                                                                        \
	X(getprotobyname_r)                                                                        \
	X(getprotobynumber_r)                                                                      \
	X(getprotoent)                                                                             \
	X(getprotoent_r)                                                                           \
	X(setprotoent)                                                                             \
	X(endprotoent)                                                                             \
	X(gethostbyaddr)                                                                           \
	X(gethostbyname2)                                                                          \
	X(gethostent)                                                                              \
	X(gethostent_r)                                                                            \
	X(sethostent)                                                                              \
	X(endhostent)                                                                              \
	X(getnetbyname)                                                                            \
	X(getnetbyaddr)                                                                            \
	X(getnetbyname_r)                                                                          \
	X(getnetbyaddr_r)                                                                          \
	X(getnetent)                                                                               \
	X(getnetent_r)                                                                             \
	X(setnetent)                                                                               \
	X(endnetent)                                                                               \
	X(setnetgrent)                                                                             \
	X(getnetgrent)                                                                             \
	X(getnetgrent_r)                                                                           \
	X(endnetgrent)                                                                             \
	X(innetgr)                                                                                 \
	X(getaliasbyname)                                                                          \
	X(getaliasbyname_r)                                                                        \
	X(getaliasent)                                                                             \
	X(getaliasent_r)                                                                           \
	X(setaliasent)                                                                             \
	X(endaliasent)                                                                             \
	X(getrpcbyname)                                                                            \
	X(getrpcbynumber)                                                                          \
	X(getrpcbyname_r)                                                                          \
	X(getrpcbynumber_r)                                                                        \
	X(getrpcent)                                                                               \
	X(getrpcent_r)                                                                             \
	X(setrpcent)                                                                               \
	X(endrpcent)                                                                               \
	X(ether_ntohost)                                                                           \
	X(ether_hostton)                                                                           \
	X(res_query)                                                                               \
	X(res_search)                                                                              \
	X(res_querydomain)                                                                         \
	X(res_send)                                                                                \
	X(res_nquery)                                                                              \
	X(res_nsearch)                                                                             \
	X(res_nquerydomain)                                                                        \
	X(res_nsend)                                                                               \
	X(splice)                                                                                  \
	X(tee)                                                                                     \
	X(vmsplice)                                                                                \
	X(sendfile)                                                                                \
	X(copy_file_range)                                                                         \
	X(preadv)                                                                                  \
	X(pwritev)                                                                                 \
	X(mq_receive)                                                                              \
	X(mq_send)                                                                                 \
	X(mq_timedreceive)                                                                         \
	X(mq_timedsend)                                                                            \
	X(mq_close)                                                                                \
	X(mq_notify)                                                                               \
	X(epoll_pwait2)                                                                            \
	X(msync)                                                                                   \
	X(syncfs)                                                                                  \
	X(sync_file_range)                                                                         \
	X(sync)                                                                                    \
	X(klogctl)                                                                                 \
	X(tcsendbreak)                                                                             \
	X(aio_suspend)                                                                             \
	X(lio_listio)                                                                              \
	X(gai_suspend)                                                                             \
	X(getaddrinfo_a)                                                                           \
	X(wordexp)                                                                                 \
	X(getenv)                                                                                  \
	X(vsyslog)                                                                                 \
	X(__vsyslog_chk)                                                                           \
	X(fmtmsg)                                                                                  \
	X(dlopen)                                                                                  \
	X(dlmopen)                                                                                 \
	X(__libc_malloc)                                                                           \
	X(__libc_calloc)                                                                           \
	X(__libc_free)                                                                             \
	X(write)

struct gr_real_table {
#define GR_REAL_FIELD(name) __typeof__(name) *name;
	GR_REAL_FUNCS(GR_REAL_FIELD)
	GR_REAL_STDIO_FUNCS(GR_REAL_FIELD)
#undef GR_REAL_FIELD
};

extern struct gr_real_table gr_real;

/* Fills gr_real (once; later calls return at once). Safe before main, and
 * from several OS threads at once: every thread writes the same values. */
void gr_real_init(void);

#endif
