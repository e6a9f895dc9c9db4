/* The NSS databases other than hosts (dns.c has getaddrinfo and the
 * gethostby* calls it has always had): users and groups (getpwnam,
 * getpwuid, getgrnam, getgrgid and their _r forms, the *ent iterators,
 * getgrouplist, initgroups), shadow and gshadow, services, protocols, the
 * rest of hosts (gethostbyaddr, gethostbyname2, gethostent), networks,
 * netgroups, mail aliases, RPC programs and ethers; and getaddrinfo_a and
 * gai_suspend, whose lookups run on glibc's own helper threads but whose
 * waits for them (GAI_WAIT, gai_suspend) are on a futex of glibc's.
 * gai_suspend's wait is the one of these that a signal handler ends
 * natively (EAI_INTR; under SA_RESTART only when it has a timeout, as the
 * kernel restarts an untimed futex wait): its worker's call is interrupted
 * with the handler, and a call cut short otherwise runs again for the
 * time that was left of its timeout.
 *
 * Where nsswitch.conf sends a lookup (files, systemd, sss, ldap, nis)
 * glibc reads through internal calls no hook sees, and a daemon or the
 * network may take seconds: every one of these calls runs on a worker
 * thread while the green thread parks, to its end (a signal handler does
 * not end a lookup natively either; none is a cancellation point here).
 * errno and h_errno go to the worker with the call and come back with its
 * result. The *ent iterators keep their position in glibc's process-wide
 * state, which is the same on any thread; the non-reentrant calls return
 * glibc's static buffers, which are process-wide too.
 *
 * Left to libc: lookups of threads that are not green; fgetpwent and the
 * other calls on a FILE the program opened (stdio); getlogin and the utmp
 * calls (a local file). */
#include <aliases.h>
#include <grp.h>
#include <gshadow.h>
#include <netdb.h>
#include <netinet/ether.h>
#include <pwd.h>
#include <shadow.h>
#include <stdint.h>

#include "../runtime/clock.h"
#include "work.h"

struct nss {
	long (*run)(const long *a); /* the call, with its arguments unpacked */
	long a[7];		    /* its arguments */
	long r;			    /* its result */
	int err, herr;		    /* errno and h_errno, there and back */
};

static long nss_job(void *p)
{
	struct nss *j = p;

	errno = j->err;
	h_errno = j->herr;
	j->r = j->run(j->a);
	j->err = errno;
	j->herr = h_errno;
	return 0;
}

/* Runs j on a worker; 0, or -ENOSYS when no worker can be had (the caller
 * then looks up itself, blocking, rather than fail). */
static int lookup(struct nss *j)
{
	long r;

	j->err = errno;
	j->herr = h_errno;
	if (gr_work(nss_job, j, 0, &r) < 0)
		return -ENOSYS;
	errno = j->err;
	h_errno = j->herr;
	gr_maybe_yield();
	return 0;
}

/* NSSn(rtype, name, T1..Tn) defines the hook of rtype name(T1, ..., Tn);
 * NSS_VOIDn the same for a call that returns nothing. */
#define NSS0(rtype, name)                                                                          \
	static long run_##name(const long *a)                                                      \
	{                                                                                          \
		(void)a;                                                                           \
		return (long)GR_REAL(name)();                                                      \
	}                                                                                          \
	GR_EXPORT rtype name(void)                                                                 \
	{                                                                                          \
		struct nss j = {.run = run_##name, .a = {0}};                                      \
		if (!gr_green() || lookup(&j) < 0)                                                 \
			return GR_REAL(name)();                                                    \
		return (rtype)j.r;                                                                 \
	}
#define NSS1(rtype, name, T1)                                                                      \
	static long run_##name(const long *a)                                                      \
	{                                                                                          \
		(void)a;                                                                           \
		return (long)GR_REAL(name)((T1)a[0]);                                              \
	}                                                                                          \
	GR_EXPORT rtype name(T1 x1)                                                                \
	{                                                                                          \
		struct nss j = {.run = run_##name, .a = {(long)x1}};                               \
		if (!gr_green() || lookup(&j) < 0)                                                 \
			return GR_REAL(name)(x1);                                                  \
		return (rtype)j.r;                                                                 \
	}
#define NSS2(rtype, name, T1, T2)                                                                  \
	static long run_##name(const long *a)                                                      \
	{                                                                                          \
		(void)a;                                                                           \
		return (long)GR_REAL(name)((T1)a[0], (T2)a[1]);                                    \
	}                                                                                          \
	GR_EXPORT rtype name(T1 x1, T2 x2)                                                         \
	{                                                                                          \
		struct nss j = {.run = run_##name, .a = {(long)x1, (long)x2}};                     \
		if (!gr_green() || lookup(&j) < 0)                                                 \
			return GR_REAL(name)(x1, x2);                                              \
		return (rtype)j.r;                                                                 \
	}
#define NSS3(rtype, name, T1, T2, T3)                                                              \
	static long run_##name(const long *a)                                                      \
	{                                                                                          \
		(void)a;                                                                           \
		return (long)GR_REAL(name)((T1)a[0], (T2)a[1], (T3)a[2]);                          \
	}                                                                                          \
	GR_EXPORT rtype name(T1 x1, T2 x2, T3 x3)                                                  \
	{                                                                                          \
		struct nss j = {.run = run_##name, .a = {(long)x1, (long)x2, (long)x3}};           \
		if (!gr_green() || lookup(&j) < 0)                                                 \
			return GR_REAL(name)(x1, x2, x3);                                          \
		return (rtype)j.r;                                                                 \
	}
#define NSS4(rtype, name, T1, T2, T3, T4)                                                          \
	static long run_##name(const long *a)                                                      \
	{                                                                                          \
		(void)a;                                                                           \
		return (long)GR_REAL(name)((T1)a[0], (T2)a[1], (T3)a[2], (T4)a[3]);                \
	}                                                                                          \
	GR_EXPORT rtype name(T1 x1, T2 x2, T3 x3, T4 x4)                                           \
	{                                                                                          \
		struct nss j = {.run = run_##name, .a = {(long)x1, (long)x2, (long)x3, (long)x4}}; \
		if (!gr_green() || lookup(&j) < 0)                                                 \
			return GR_REAL(name)(x1, x2, x3, x4);                                      \
		return (rtype)j.r;                                                                 \
	}
#define NSS5(rtype, name, T1, T2, T3, T4, T5)                                                      \
	static long run_##name(const long *a)                                                      \
	{                                                                                          \
		(void)a;                                                                           \
		return (long)GR_REAL(name)((T1)a[0], (T2)a[1], (T3)a[2], (T4)a[3], (T5)a[4]);      \
	}                                                                                          \
	GR_EXPORT rtype name(T1 x1, T2 x2, T3 x3, T4 x4, T5 x5)                                    \
	{                                                                                          \
		struct nss j = {.run = run_##name,                                                 \
				.a = {(long)x1, (long)x2, (long)x3, (long)x4, (long)x5}};          \
		if (!gr_green() || lookup(&j) < 0)                                                 \
			return GR_REAL(name)(x1, x2, x3, x4, x5);                                  \
		return (rtype)j.r;                                                                 \
	}
#define NSS6(rtype, name, T1, T2, T3, T4, T5, T6)                                                  \
	static long run_##name(const long *a)                                                      \
	{                                                                                          \
		(void)a;                                                                           \
		return (long)GR_REAL(name)((T1)a[0], (T2)a[1], (T3)a[2], (T4)a[3], (T5)a[4],       \
					   (T6)a[5]);                                              \
	}                                                                                          \
	GR_EXPORT rtype name(T1 x1, T2 x2, T3 x3, T4 x4, T5 x5, T6 x6)                             \
	{                                                                                          \
		struct nss j = {                                                                   \
			.run = run_##name,                                                         \
			.a = {(long)x1, (long)x2, (long)x3, (long)x4, (long)x5, (long)x6}};        \
		if (!gr_green() || lookup(&j) < 0)                                                 \
			return GR_REAL(name)(x1, x2, x3, x4, x5, x6);                              \
		return (rtype)j.r;                                                                 \
	}
#define NSS7(rtype, name, T1, T2, T3, T4, T5, T6, T7)                                              \
	static long run_##name(const long *a)                                                      \
	{                                                                                          \
		(void)a;                                                                           \
		return (long)GR_REAL(name)((T1)a[0], (T2)a[1], (T3)a[2], (T4)a[3], (T5)a[4],       \
					   (T6)a[5], (T7)a[6]);                                    \
	}                                                                                          \
	GR_EXPORT rtype name(T1 x1, T2 x2, T3 x3, T4 x4, T5 x5, T6 x6, T7 x7)                      \
	{                                                                                          \
		struct nss j = {.run = run_##name,                                                 \
				.a = {(long)x1, (long)x2, (long)x3, (long)x4, (long)x5, (long)x6,  \
				      (long)x7}};                                                  \
		if (!gr_green() || lookup(&j) < 0)                                                 \
			return GR_REAL(name)(x1, x2, x3, x4, x5, x6, x7);                          \
		return (rtype)j.r;                                                                 \
	}
#define NSS_VOID0(name)                                                                            \
	static long run_##name(const long *a)                                                      \
	{                                                                                          \
		(void)a;                                                                           \
		GR_REAL(name)();                                                                   \
		return 0;                                                                          \
	}                                                                                          \
	GR_EXPORT void name(void)                                                                  \
	{                                                                                          \
		struct nss j = {.run = run_##name, .a = {0}};                                      \
		if (!gr_green() || lookup(&j) < 0)                                                 \
			GR_REAL(name)();                                                           \
	}
#define NSS_VOID1(name, T1)                                                                        \
	static long run_##name(const long *a)                                                      \
	{                                                                                          \
		(void)a;                                                                           \
		GR_REAL(name)((T1)a[0]);                                                           \
		return 0;                                                                          \
	}                                                                                          \
	GR_EXPORT void name(T1 x1)                                                                 \
	{                                                                                          \
		struct nss j = {.run = run_##name, .a = {(long)x1}};                               \
		if (!gr_green() || lookup(&j) < 0)                                                 \
			GR_REAL(name)(x1);                                                         \
	}

NSS1(struct passwd *, getpwnam, const char *)
NSS1(struct passwd *, getpwuid, uid_t)
NSS5(int, getpwnam_r, const char *, struct passwd *, char *, size_t, struct passwd **)
NSS5(int, getpwuid_r, uid_t, struct passwd *, char *, size_t, struct passwd **)
NSS0(struct passwd *, getpwent)
NSS4(int, getpwent_r, struct passwd *, char *, size_t, struct passwd **)
NSS_VOID0(setpwent)
NSS_VOID0(endpwent)
NSS1(struct group *, getgrnam, const char *)
NSS1(struct group *, getgrgid, gid_t)
NSS5(int, getgrnam_r, const char *, struct group *, char *, size_t, struct group **)
NSS5(int, getgrgid_r, gid_t, struct group *, char *, size_t, struct group **)
NSS0(struct group *, getgrent)
NSS4(int, getgrent_r, struct group *, char *, size_t, struct group **)
NSS_VOID0(setgrent)
NSS_VOID0(endgrent)
NSS4(int, getgrouplist, const char *, gid_t, gid_t *, int *)
NSS2(int, initgroups, const char *, gid_t)
NSS1(struct spwd *, getspnam, const char *)
NSS5(int, getspnam_r, const char *, struct spwd *, char *, size_t, struct spwd **)
NSS0(struct spwd *, getspent)
NSS4(int, getspent_r, struct spwd *, char *, size_t, struct spwd **)
NSS_VOID0(setspent)
NSS_VOID0(endspent)
NSS1(struct sgrp *, getsgnam, const char *)
NSS5(int, getsgnam_r, const char *, struct sgrp *, char *, size_t, struct sgrp **)
NSS0(struct sgrp *, getsgent)
NSS4(int, getsgent_r, struct sgrp *, char *, size_t, struct sgrp **)
NSS_VOID0(setsgent)
NSS_VOID0(endsgent)
NSS2(struct servent *, getservbyname, const char *, const char *)
NSS2(struct servent *, getservbyport, int, const char *)
NSS6(int, getservbyname_r, const char *, const char *, struct servent *, char *, size_t,
     struct servent **)
NSS6(int, getservbyport_r, int, const char *, struct servent *, char *, size_t, struct servent **)
NSS0(struct servent *, getservent)
NSS4(int, getservent_r, struct servent *, char *, size_t, struct servent **)
NSS_VOID1(setservent, int)
NSS_VOID0(endservent)
NSS1(struct protoent *, getprotobyname, const char *)
NSS1(struct protoent *, getprotobynumber, int)
NSS5(int, getprotobyname_r, const char *, struct protoent *, char *, size_t, struct protoent **)
NSS5(int, getprotobynumber_r, int, struct protoent *, char *, size_t, struct protoent **)
NSS0(struct protoent *, getprotoent)
NSS4(int, getprotoent_r, struct protoent *, char *, size_t, struct protoent **)
NSS_VOID1(setprotoent, int)
NSS_VOID0(endprotoent)
NSS3(struct hostent *, gethostbyaddr, const void *, socklen_t, int)
NSS2(struct hostent *, gethostbyname2, const char *, int)
NSS0(struct hostent *, gethostent)
NSS5(int, gethostent_r, struct hostent *, char *, size_t, struct hostent **, int *)
NSS_VOID1(sethostent, int)
NSS_VOID0(endhostent)
NSS1(struct netent *, getnetbyname, const char *)
NSS2(struct netent *, getnetbyaddr, uint32_t, int)
NSS6(int, getnetbyname_r, const char *, struct netent *, char *, size_t, struct netent **, int *)
NSS7(int, getnetbyaddr_r, uint32_t, int, struct netent *, char *, size_t, struct netent **, int *)
NSS0(struct netent *, getnetent)
NSS5(int, getnetent_r, struct netent *, char *, size_t, struct netent **, int *)
NSS_VOID1(setnetent, int)
NSS_VOID0(endnetent)
NSS1(int, setnetgrent, const char *)
NSS3(int, getnetgrent, char **, char **, char **)
NSS5(int, getnetgrent_r, char **, char **, char **, char *, size_t)
NSS_VOID0(endnetgrent)
NSS4(int, innetgr, const char *, const char *, const char *, const char *)
NSS1(struct aliasent *, getaliasbyname, const char *)
NSS5(int, getaliasbyname_r, const char *, struct aliasent *, char *, size_t, struct aliasent **)
NSS0(struct aliasent *, getaliasent)
NSS4(int, getaliasent_r, struct aliasent *, char *, size_t, struct aliasent **)
NSS_VOID0(setaliasent)
NSS_VOID0(endaliasent)
NSS1(struct rpcent *, getrpcbyname, const char *)
NSS1(struct rpcent *, getrpcbynumber, int)
NSS5(int, getrpcbyname_r, const char *, struct rpcent *, char *, size_t, struct rpcent **)
NSS5(int, getrpcbynumber_r, int, struct rpcent *, char *, size_t, struct rpcent **)
NSS0(struct rpcent *, getrpcent)
NSS4(int, getrpcent_r, struct rpcent *, char *, size_t, struct rpcent **)
NSS_VOID1(setrpcent, int)
NSS_VOID0(endrpcent)
NSS2(int, ether_ntohost, char *, const struct ether_addr *)
NSS2(int, ether_hostton, const char *, struct ether_addr *)
NSS4(int, getaddrinfo_a, int, struct gaicb **, int, struct sigevent *)

/* gai_suspend on a worker, interrupted by a handler as natively. */
struct suspend {
	const struct gaicb *const *list;
	int n;
	const struct timespec *timeout; /* the caller's, or NULL */
	int64_t deadline;		/* monotonic ns, 0: none or not a valid time */
	int again;			/* a run before this one was cut short */
};

static long run_suspend(void *p)
{
	struct suspend *s = p;
	const struct timespec *t = s->timeout;
	struct timespec left;
	int r;

	if (s->again && s->deadline) {
		int64_t ns = s->deadline - gr_now();
		if (ns < 0)
			ns = 0;
		left = (struct timespec){(time_t)(ns / GR_NSEC), (long)(ns % GR_NSEC)};
		t = &left;
	}
	s->again = 1;
	r = GR_REAL(gai_suspend)(s->list, s->n, t);
	/* -EINTR is what the worker knows as interrupted; the EAI_ codes are
	 * negative, and one of them is -4: passed as their opposites. */
	return r == EAI_INTR ? -EINTR : -r;
}

GR_EXPORT int gai_suspend(const struct gaicb *const list[], int n, const struct timespec *timeout)
{
	struct suspend s = {list, n, timeout, 0, 0};
	int saved = errno;
	long r;

	if (!gr_green())
		return GR_REAL(gai_suspend)(list, n, timeout);
	/* A time glibc would not take is passed as it is, on every run. */
	if (timeout && timeout->tv_sec >= 0 && timeout->tv_nsec >= 0 && timeout->tv_nsec < GR_NSEC)
		s.deadline = gr_deadline_in(gr_ts_ns(timeout));
	if (s.deadline == INT64_MAX)
		s.deadline = 0;
	if (gr_work(run_suspend, &s, GR_WORK_KICK | (timeout ? 0 : GR_WORK_RESTART), &r) < 0)
		return GR_REAL(gai_suspend)(list, n, timeout);
	errno = saved;
	gr_maybe_yield();
	return r == -EINTR ? EAI_INTR : (int)-r;
}
