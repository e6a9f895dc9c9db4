/* greenify dump PID (issue 18, first increment): with GREENIFY_DUMP=1 a
 * listener OS thread of the runtime's own (no program code on it) accepts
 * on the abstract unix socket "greenify.PID" (nothing on disk), refuses a
 * peer of another uid (root may ask), and wakes the hub with a uv_async;
 * the hub, at a safe moment between green threads, writes the dump into
 * the connection: the green threads grouped by state and stack (threads
 * standing at the same place make one entry, however many), each group
 * with its count, how long its threads have waited, the first few threads
 * (id, name, what they wait for and who holds it) and the backtrace with
 * function names (backtrace.c). */
#include "ownfd.h"
#include "dump.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "backtrace.h"
#include "config.h"
#include "deadlock.h"
#include "fdwait.h"
#include "real.h"
#include "sched.h"

static int listen_fd = -1;
static int conn_fd = -1; /* handed from the listener to the hub */
static uv_async_t dump_async;
static int served;   /* the hub finished conn_fd */
static int dumps_on; /* GREENIFY_DUMP: the uv_async is initialised */
int gr_dump_on;	     /* parks stamp their time (dump.h) */

/* The peer may ask: its uid is ours, or it is root. */
int gr_dump_peer_allowed(unsigned peer_uid, unsigned our_uid)
{
	return peer_uid == 0 || peer_uid == our_uid;
}

/* The client went away (EPIPE: no SIGPIPE, which would end the program)
 * or stopped reading for SEND_WAIT (the hub, which writes, must not wait
 * on it for ever): the rest of this dump is dropped. */
static int gone;
#define SEND_WAIT 2 /* seconds a write may wait for the client to read */

static void put(int fd, const char *s, size_t n)
{
	while (n && !gone) {
		long w = gr_real.syscall(SYS_sendto, fd, s, n, MSG_NOSIGNAL, NULL, 0);
		if (w <= 0) {
			if (w < 0 && errno == EINTR)
				continue;
			gone = 1;
			return;
		}
		s += w;
		n -= (size_t)w;
	}
}

static const char *state_name(const struct gr_thread *t)
{
	if (t->state == GR_RUNNING)
		return "running";
	if (t->state == GR_RUNNABLE)
		return "runnable";
	if (t->state == GR_NEW)
		return "created, not yet started";
	switch (t->wait) {
	case GR_WAIT_SLEEP: return "sleeping";
	case GR_WAIT_YIELD: return "yielding";
	case GR_WAIT_JOIN: return "parked in join";
	case GR_WAIT_MUTEX: return "parked on mutex";
	case GR_WAIT_RWLOCK: return "parked on rwlock";
	case GR_WAIT_COND: return "parked on condition";
	case GR_WAIT_SEM: return "parked on semaphore";
	case GR_WAIT_BARRIER: return "parked at barrier";
	case GR_WAIT_ONCE: return "parked in pthread_once";
	case GR_WAIT_FUTEX: return "parked on futex";
	case GR_WAIT_FD: return "parked on fd";
	case GR_WAIT_POOL: return "parked on a pool job";
	case GR_WAIT_WORK: return "parked on a call on a worker";
	case GR_WAIT_SIGNAL: return "parked in a signal wait";
	case GR_WAIT_FILE: return "parked on a FILE lock";
	default: return "parked";
	}
}

/* "12 ms", "3.4 s", "125 s". */
static void fmt_ns(char *buf, size_t cap, int64_t ns)
{
	if (ns < 0)
		ns = 0;
	if (ns < GR_NSEC)
		snprintf(buf, cap, "%lld ms", (long long)(ns / GR_MSEC));
	else if (ns < 100 * GR_NSEC)
		snprintf(buf, cap, "%lld.%lld s", (long long)(ns / GR_NSEC),
			 (long long)(ns % GR_NSEC / (GR_NSEC / 10)));
	else
		snprintf(buf, cap, "%lld s", (long long)(ns / GR_NSEC));
}

/* The stamps' clock against the monotonic one (gr_dump_stamp): the
 * counter's rate over the whole time since dumps were turned on. */
static uint64_t stamp0;
static int64_t ns0;

static int64_t stamp_age_ns(uint32_t stamp, uint64_t now_clock, int64_t now_ns)
{
	uint64_t units = (uint32_t)((uint32_t)(now_clock >> GR_DUMP_SHIFT) - stamp);
	uint64_t dt = now_clock - stamp0;
	int64_t dns = now_ns - ns0;

	if (!stamp)
		return -1;
#if defined(__x86_64__) || defined(__aarch64__)
	if (!dt || dns <= 0)
		return -1;
	return (int64_t)((unsigned __int128)(units << GR_DUMP_SHIFT) * (uint64_t)dns / dt);
#else
	(void)dt;
	(void)dns;
	return (int64_t)(units << GR_DUMP_SHIFT);
#endif
}

/* How long t has been parked or runnable, or -1. */
static int64_t in_state_ns(const struct gr_thread *t, uint64_t now_stamp, int64_t now)
{
	if (t->state != GR_PARKED && t->state != GR_RUNNABLE)
		return -1;
	return stamp_age_ns(t->since, now_stamp, now);
}

/* ": SIGUSR1, SIGTERM" for a sigwait's set (bit sig - 1, signal.h). */
static void signals(uint64_t set, char *buf, size_t cap)
{
	size_t len = 0;

	for (int sig = 1; sig <= 64 && len < cap; sig++) {
		const char *abbrev = sigabbrev_np(sig);
		if (!(set >> (sig - 1) & 1))
			continue;
		if (abbrev)
			len += (size_t)snprintf(buf + len, cap - len, "%sSIG%s", len ? ", " : ": ",
						abbrev);
		else
			len += (size_t)snprintf(buf + len, cap - len, "%ssignal %d",
						len ? ", " : ": ", sig);
	}
}

/* What t waits for, beyond its state: for a join the thread joined; for
 * an fd its number and direction; for a lock its holder as the deadlock
 * report names it; for an object its address; and a deadline. */
static void details(const struct gr_thread *t, int64_t now, char *buf, size_t cap)
{
	const struct gr_thread *j = t->wait_obj;
	char held[96], when[32];
	size_t len;

	buf[0] = '\0';
	if (t->state != GR_PARKED)
		return;
	if (t->wait == GR_WAIT_JOIN && j) {
		snprintf(buf, cap, ": thread %llu \"%s\"", (unsigned long long)j->id, j->name);
	} else if (t->wait == GR_WAIT_SIGNAL && t->wait_obj) {
		signals(*(const uint64_t *)t->wait_obj, buf, cap);
	} else if (t->wait == GR_WAIT_FD) {
		gr_fd_wait_describe(t->wait_obj, held, sizeof(held));
		snprintf(buf, cap, "%s%s", held[0] ? ": " : "", held);
	} else if (t->wait_obj) {
		gr_deadlock_holder(t, held, sizeof(held));
		snprintf(buf, cap, " %p%s", t->wait_obj, held);
	}
	len = strlen(buf);
	if (t->in_heap && len < cap) {
		fmt_ns(when, sizeof(when), t->deadline - now);
		snprintf(buf + len, cap - len, ", %s in %s",
			 t->wait == GR_WAIT_SLEEP ? "wakes" : "times out", when);
	}
}

/* Threads with the same state and stack make one group. Shapes (distinct
 * stacks) and groups live in memory mapped for the dump only; past their
 * number, threads are grouped by state alone. */
#define MAX_SHAPES  1024
#define MAX_GROUPS  2048
#define GROUP_SLOTS 4096 /* hash of (state, shape), a power of two */
#define IP_SLOTS    4096 /* gr_bt_key -> the shape seen last */
#define SHOWN	    8

struct dgroup {
	const char *state;
	int shape; /* -1: no stack */
	unsigned long count;
	int64_t wait_min, wait_max; /* how long parked, -1 unknown */
	const struct gr_thread *shown[SHOWN];
};

struct dump {
	struct gr_bt shapes[MAX_SHAPES];
	int nshapes;
	struct dgroup groups[MAX_GROUPS];
	int ngroups;
	int slot[GROUP_SLOTS]; /* group index + 1, 0 empty */
	int by_ip[IP_SLOTS];   /* shape index + 1, 0 empty */
};

static int same_ips(const struct gr_bt *a, const struct gr_bt *b)
{
	return a->n == b->n && memcmp(a->ip, b->ip, (size_t)a->n * sizeof(a->ip[0])) == 0;
}

/* t's stack as a shape index, or -1. Most threads of a big process stand
 * where another stood: checked against that one's frames first. */
static int shape_of(struct dump *d, const struct gr_thread *t, struct gr_bt *tmp)
{
	uintptr_t key;
	int s;

	if (t == gr_rt.cur || t->state == GR_RUNNING || !gr_bt_available)
		return -1;
	key = gr_bt_key(t);
	s = d->by_ip[(key ^ key >> 29) % IP_SLOTS] - 1;
	if (s >= 0 && gr_bt_same(t, &d->shapes[s]))
		return s;
	if (gr_bt_unwind(t, tmp) < 0 || tmp->n == 0)
		return -1;
	for (s = 0; s < d->nshapes && !same_ips(&d->shapes[s], tmp); s++)
		;
	if (s == d->nshapes) {
		if (s == MAX_SHAPES)
			return -1;
		d->shapes[d->nshapes++] = *tmp;
	}
	d->by_ip[(key ^ key >> 29) % IP_SLOTS] = s + 1;
	return s;
}

static struct dgroup *group_of(struct dump *d, const char *state, int shape)
{
	unsigned h = (unsigned)(((uintptr_t)state >> 3) * 2654435761u + (unsigned)shape * 40503u);

	for (unsigned i = 0; i < GROUP_SLOTS; i++) {
		int *slot = &d->slot[(h + i) & (GROUP_SLOTS - 1)];
		struct dgroup *g;
		if (*slot) {
			g = &d->groups[*slot - 1];
			if (g->state == state && g->shape == shape)
				return g;
			continue;
		}
		if (d->ngroups == MAX_GROUPS)
			return shape < 0 ? NULL : group_of(d, state, -1);
		g = &d->groups[d->ngroups++];
		*g = (struct dgroup){
			.state = state, .shape = shape, .wait_min = -1, .wait_max = -1};
		*slot = d->ngroups;
		return g;
	}
	return NULL;
}

static void add(struct dgroup *g, const struct gr_thread *t, int64_t waited)
{
	if (g->count < SHOWN)
		g->shown[g->count] = t;
	g->count++;
	if (waited >= 0) {
		if (g->wait_min < 0 || waited < g->wait_min)
			g->wait_min = waited;
		if (waited > g->wait_max)
			g->wait_max = waited;
	}
}

static int in_libc(uintptr_t ip)
{
	Dl_info di;
	const char *f;

	if (!dladdr((void *)(ip - 1), &di) || !di.dli_fname)
		return 0;
	f = strrchr(di.dli_fname, '/');
	return strncmp(f ? f + 1 : di.dli_fname, "libc.so", 7) == 0;
}

/* The frames worth reading: the scheduler's own, under the hook the
 * program called, and the thread's start under the program's function,
 * are left out. */
static void put_stack(int fd, const struct gr_bt *bt)
{
	char line[320], name[256];
	int b = 0, e = bt->n;

	while (b + 1 < e && gr_bt_in_runtime(bt->ip[b]) && gr_bt_in_runtime(bt->ip[b + 1]))
		b++;
	for (int i = b + 1; i < bt->n; i++) {
		int k = i;
		if (!gr_bt_in_runtime(bt->ip[i]))
			continue;
		while (k < bt->n && (gr_bt_in_runtime(bt->ip[k]) || in_libc(bt->ip[k])))
			k++;
		if (k == bt->n) { /* the thread's start, and libc's under it */
			e = i;
			break;
		}
	}
	for (int i = b; i < e; i++) {
		gr_bt_name(bt->ip[i], name, sizeof(name));
		int n = snprintf(line, sizeof(line), "    %s\n", name);
		put(fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	}
	if (bt->n == GR_BT_MAX)
		put(fd, "    ...\n", 8);
}

static void put_group(int fd, const struct dump *d, const struct dgroup *g, int64_t now,
		      uint64_t now_stamp)
{
	char line[320], det[192], a[32], b[32];
	int n;

	a[0] = '\0';
	if (g->wait_max >= 0) {
		fmt_ns(b, sizeof(b), g->wait_max);
		if (g->wait_min >= 0)
			fmt_ns(a, sizeof(a), g->wait_min);
		if (a[0] && strcmp(a, b) != 0) {
			snprintf(det, sizeof(det), ", for %s to %s", a, b);
		} else {
			snprintf(det, sizeof(det), ", for %s", b);
		}
	} else {
		det[0] = '\0';
	}
	n = snprintf(line, sizeof(line), "\n%lu thread%s: %s%s\n", g->count,
		     g->count == 1 ? "" : "s", g->state, det);
	put(fd, line, (size_t)n);
	for (unsigned long i = 0; i < g->count && i < SHOWN; i++) {
		const struct gr_thread *t = g->shown[i];
		int64_t w = in_state_ns(t, now_stamp, now);
		details(t, now, det, sizeof(det));
		if (w >= 0)
			fmt_ns(a, sizeof(a), w);
		n = snprintf(line, sizeof(line), "  thread %llu \"%s\"%s%s%s\n",
			     (unsigned long long)t->id, t->name, w >= 0 ? " for " : "",
			     w >= 0 ? a : "", det);
		put(fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	}
	if (g->count > SHOWN) {
		n = snprintf(line, sizeof(line), "  ... and %lu more\n", g->count - SHOWN);
		put(fd, line, (size_t)n);
	}
	if (g->shape >= 0)
		put_stack(fd, &d->shapes[g->shape]);
}

static void write_dump(int fd)
{
	struct dump *d =
		mmap(NULL, sizeof(*d), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct gr_bt tmp;
	unsigned long total = 0;
	uint64_t now_stamp = gr_dump_clock();
	int64_t now = gr_now();
	char line[256];
	int n, *order;

	if (d == MAP_FAILED) {
		put(fd, "greenify: dump: no memory\n", 26);
		return;
	}
	if (gr_bt_available)
		gr_bt_ready();
	for (const struct gr_thread *t = gr_rt.all; t; t = t->all_next) {
		const char *s = state_name(t);
		struct dgroup *g = group_of(d, s, gr_bt_ready() ? shape_of(d, t, &tmp) : -1);
		total++;
		if (g)
			add(g, t, in_state_ns(t, now_stamp, now));
	}
	n = snprintf(line, sizeof(line), "greenify dump of pid %d: %lu green threads\n",
		     (int)gr_real.syscall(SYS_getpid), total);
	put(fd, line, (size_t)n);
	if (!gr_bt_ready())
		put(fd, "backtrace: not available on this build\n", 39);
	/* Biggest groups first (a selection: groups are few). */
	order = d->slot; /* the hash is done with */
	for (int i = 0; i < d->ngroups; i++)
		order[i] = i;
	for (int i = 0; i < d->ngroups; i++) {
		int best = i;
		for (int k = i + 1; k < d->ngroups; k++)
			if (d->groups[order[k]].count > d->groups[order[best]].count)
				best = k;
		int x = order[i];
		order[i] = order[best];
		order[best] = x;
		put_group(fd, d, &d->groups[order[i]], now, now_stamp);
	}
	gr_bt_names_done();
	munmap(d, sizeof(*d));
}

static void on_dump(uv_async_t *a)
{
	int fd = __atomic_load_n(&conn_fd, __ATOMIC_ACQUIRE);

	(void)a;
	if (fd < 0)
		return;
	gone = 0;
	write_dump(fd);
	gr_real.syscall(SYS_close, fd);
	__atomic_store_n(&conn_fd, -1, __ATOMIC_RELEASE);
	__atomic_store_n(&served, 1, __ATOMIC_RELEASE);
	gr_real.syscall(SYS_futex, &served, 1 /* FUTEX_WAKE */, 1, NULL, NULL, 0);
}

static void refuse(int fd, const char *why)
{
	/* one short line (not put: the hub may be writing a dump meanwhile) */
	gr_real.syscall(SYS_sendto, fd, why, strlen(why), MSG_NOSIGNAL | MSG_DONTWAIT, NULL, 0);
	gr_real.syscall(SYS_close, fd);
}

static void *listener(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = (int)gr_real.syscall(SYS_accept4, listen_fd, NULL, NULL, SOCK_CLOEXEC);
		struct ucred cr;
		socklen_t len = sizeof(cr);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL;
		}
		if (gr_real.syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
			refuse(fd, "greenify: dump refused: no peer credentials\n");
			continue;
		}
		if (!gr_dump_peer_allowed(cr.uid, (unsigned)gr_real.syscall(SYS_getuid))) {
			refuse(fd, "greenify: dump refused: only the process's own user or root "
				   "may ask\n");
			continue;
		}
		struct timeval wait = {SEND_WAIT, 0};
		gr_real.syscall(SYS_setsockopt, fd, SOL_SOCKET, SO_SNDTIMEO, &wait, sizeof(wait));
		__atomic_store_n(&served, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&conn_fd, fd, __ATOMIC_RELEASE);
		uv_async_send(&dump_async);
		while (!__atomic_load_n(&served, __ATOMIC_ACQUIRE))
			gr_real.syscall(SYS_futex, &served, 0 /* FUTEX_WAIT */, 0, NULL, NULL, 0);
	}
}

/* The abstract socket greenify.PID and the listener thread on it; 0 or -1. */
static int start_listener(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	pthread_t th;
	sigset_t all, old;
	int fd, n;

	n = snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "greenify.%d",
		     (int)gr_real.syscall(SYS_getpid));
	fd = (int)gr_real.syscall(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	listen_fd = gr_own_fd_high(fd); /* out of the program's numbering */
	gr_own_fd_add(listen_fd);
	if (gr_real.syscall(SYS_bind, listen_fd, &sa,
			    offsetof(struct sockaddr_un, sun_path) + 1 + n) < 0 ||
	    gr_real.syscall(SYS_listen, listen_fd, 4) < 0)
		goto fail;
	sigfillset(&all);
	gr_real.pthread_sigmask(SIG_SETMASK, &all, &old);
	n = gr_real.pthread_create(&th, NULL, listener, NULL);
	gr_real.pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (n != 0)
		goto fail;
	gr_real.pthread_detach(th);
	return 0;
fail:
	gr_own_fd_del(listen_fd);
	gr_real.syscall(SYS_close, listen_fd);
	listen_fd = -1;
	return -1;
}

/* Called by the hub's loop set-up: 0 also when dumps are off. */
int gr_dump_init(uv_loop_t *loop)
{
	if (!gr_config.dump)
		return 0;
	if (uv_async_init(loop, &dump_async, on_dump) < 0)
		return 0;
	uv_unref((uv_handle_t *)&dump_async);
	dumps_on = 1;
	stamp0 = gr_dump_clock();
	ns0 = gr_now();
	gr_dump_on = 1;
	start_listener();
	return 0;
}

/* The fork child: the parent's listener thread is not here and its socket
 * is the parent's name; the child gets its own (greenify.CHILDPID), and the
 * uv_async, kept by uv_loop_fork, serves it. */
void gr_dump_fork_child(void)
{
	if (!dumps_on)
		return;
	if (listen_fd >= 0) {
		gr_own_fd_del(listen_fd);
		gr_real.syscall(SYS_close, listen_fd);
	}
	listen_fd = -1;
	if (conn_fd >= 0) /* the parent's client: the parent answers it */
		gr_real.syscall(SYS_close, conn_fd);
	conn_fd = -1;
	served = 1;
	start_listener();
}
