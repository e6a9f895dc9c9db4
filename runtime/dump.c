/* greenify dump PID (issue 18, first increment): with GREENIFY_DUMP=1 a
 * listener OS thread of the runtime's own (no program code on it) accepts
 * on the abstract unix socket "greenify.PID" (nothing on disk), refuses a
 * peer of another uid (root may ask), and wakes the hub with a uv_async;
 * the hub, at a safe moment between green threads, writes the dump into
 * the connection: every green thread grouped by state and wait, with
 * counts, ids and names of the first few. No backtraces yet. */
#include "dump.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "deadlock.h"
#include "real.h"
#include "sched.h"

static int listen_fd = -1;
static int conn_fd = -1; /* handed from the listener to the hub */
static uv_async_t dump_async;
static int served;   /* the hub finished conn_fd */
static int dumps_on; /* GREENIFY_DUMP: the uv_async is initialised */

/* The peer may ask: its uid is ours, or it is root. */
int gr_dump_peer_allowed(unsigned peer_uid, unsigned our_uid)
{
	return peer_uid == 0 || peer_uid == our_uid;
}

static void put(int fd, const char *s, size_t n)
{
	while (n) {
		long w = gr_real.syscall(SYS_write, fd, s, n);
		if (w <= 0) {
			if (w < 0 && errno == EINTR)
				continue;
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

/* For a join, the thread joined; for a wait on an object, its address and,
 * for a lock, its holder as the deadlock report names it. */
static void holder(const struct gr_thread *t, char *buf, size_t cap)
{
	const struct gr_thread *j = t->wait_obj;
	char held[96];

	buf[0] = '\0';
	if (t->state == GR_RUNNING || t->state == GR_RUNNABLE || !t->wait_obj)
		return;
	if (t->wait == GR_WAIT_JOIN) {
		snprintf(buf, cap, " (thread %llu \"%s\")", (unsigned long long)j->id, j->name);
		return;
	}
	gr_deadlock_holder(t, held, sizeof(held));
	snprintf(buf, cap, " %p%s", t->wait_obj, held);
}

#define GROUPS 64
#define SHOWN  8

static void write_dump(int fd)
{
	const char *names[GROUPS];
	unsigned long count[GROUPS];
	int ngroups = 0;
	unsigned long total = 0;
	char line[256];
	int n;

	for (const struct gr_thread *t = gr_rt.all; t; t = t->all_next) {
		const char *s = state_name(t);
		int g;
		total++;
		for (g = 0; g < ngroups && names[g] != s; g++)
			;
		if (g == ngroups && ngroups < GROUPS) {
			names[ngroups] = s;
			count[ngroups++] = 0;
		}
		if (g < ngroups)
			count[g]++;
	}
	n = snprintf(line, sizeof(line), "greenify dump of pid %d: %lu green threads\n",
		     (int)gr_real.syscall(SYS_getpid), total);
	put(fd, line, (size_t)n);
	for (int g = 0; g < ngroups; g++) {
		int shown = 0;
		n = snprintf(line, sizeof(line), "%lu thread%s: %s\n", count[g],
			     count[g] == 1 ? "" : "s", names[g]);
		put(fd, line, (size_t)n);
		for (const struct gr_thread *t = gr_rt.all; t && shown < SHOWN; t = t->all_next) {
			char held[128];
			if (state_name(t) != names[g])
				continue;
			shown++;
			holder(t, held, sizeof(held));
			n = snprintf(line, sizeof(line), "  thread %llu \"%s\"%s\n",
				     (unsigned long long)t->id, t->name, held);
			put(fd, line, (size_t)n);
		}
		if ((unsigned long)shown < count[g]) {
			n = snprintf(line, sizeof(line), "  ... and %lu more\n",
				     count[g] - (unsigned long)shown);
			put(fd, line, (size_t)n);
		}
	}
}

static void on_dump(uv_async_t *a)
{
	int fd = __atomic_load_n(&conn_fd, __ATOMIC_ACQUIRE);

	(void)a;
	if (fd < 0)
		return;
	write_dump(fd);
	gr_real.syscall(SYS_close, fd);
	__atomic_store_n(&conn_fd, -1, __ATOMIC_RELEASE);
	__atomic_store_n(&served, 1, __ATOMIC_RELEASE);
	gr_real.syscall(SYS_futex, &served, 1 /* FUTEX_WAKE */, 1, NULL, NULL, 0);
}

static void refuse(int fd, const char *why)
{
	put(fd, why, strlen(why));
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
	/* A high number, out of the way of the program's own fds. */
	listen_fd = (int)gr_real.syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 900);
	gr_real.syscall(SYS_close, fd);
	if (listen_fd < 0)
		return -1;
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
	if (listen_fd >= 0)
		gr_real.syscall(SYS_close, listen_fd);
	listen_fd = -1;
	if (conn_fd >= 0) /* the parent's client: the parent answers it */
		gr_real.syscall(SYS_close, conn_fd);
	conn_fd = -1;
	served = 1;
	start_listener();
}
