/* The hub: the context that runs the libuv loop while no green thread is
 * runnable, the timerfd that wakes it at the earliest deadline, starting
 * the runtime, and remaking the loop in a fork child. */
#include "preempt.h"
#include "sched.h"

#include <fcntl.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "attr.h"
#include "clock.h"
#include "config.h"
#include "deadlock.h"
#include "dump.h"
#include "monitor.h"
#include "fdwait.h"
#include "foreign.h"
#include "fork.h"
#include "kwait.h"
#include "pool.h"
#include "guard.h"
#include "log.h"
#include "ownfd.h"
#include "real.h"
#include "schedattr.h"
#include "signal.h"
#include "sud.h"
#include "tid.h"
#include "tls.h"

#define HUB_STACK (256 * 1024)

static ucontext_t main_uc;   /* main's saved state in ucontext mode */
static uv_poll_t timer_poll; /* readiness of timer_fd */
static int timer_fd = -1;    /* fires at the earliest deadline */

/* Points the timerfd at the earliest deadline; a system call only when
 * that deadline changed. */
static void arm_timer(void)
{
	int64_t want = gr_sched_next_deadline();
	struct itimerspec its = {0};

	if (want == gr_rt.armed)
		return;
	its.it_value.tv_sec = want / GR_NSEC;
	its.it_value.tv_nsec = want % GR_NSEC;
	if (timerfd_settime(timer_fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		gr_die("timerfd_settime: %s", strerror(errno));
	gr_rt.armed = want;
}

static void on_timer(uv_poll_t *h, int status, int events)
{
	uint64_t expirations;

	(void)h;
	(void)status;
	(void)events;
	/* Non-blocking: a stale readiness report just finds EAGAIN. */
	if (gr_real.read(timer_fd, &expirations, sizeof(expirations)) > 0)
		gr_rt.armed = 0;
}

/* The hub's loop, forever: one turn of the event loop, then the threads it
 * made runnable run until the hub is switched to again.
 *
 * With nothing runnable, it points the timerfd at the earliest deadline,
 * reports a deadlock if nothing pending can wake a thread, and blocks in
 * uv_run until an fd, the timerfd, a signal or a pool job is ready; with
 * threads runnable (it was visited to poll: poll_due in sched.c) it only
 * polls. libuv runs "inside" (every hook calls libc). Then it delivers the
 * signals that arrived, makes the threads whose deadline passed runnable,
 * and switches to the first runnable thread. */
/* Whether the loop watches nothing but the timerfd (the one handle that
 * keeps it alive), so that the hub may wait on futex words itself instead
 * (kwait.h): no fd, no pool job, no sigwait, no signal pending. */
static int hub_may_wait_itself(void)
{
	return gr_rt.loop.active_handles <= 1 && gr_rt.loop.active_reqs.count == 0 &&
	       gr_fd_waiters == 0 && gr_pool_jobs == 0 && !gr_sigwait_parked() &&
	       !gr_rt.sig_pending;
}

static void hub_main(void *arg)
{
	(void)arg;
	gr_sched_entered();
	for (;;) {
		/* Real-time threads have queues of their own (sched.c). */
		int block = !gr_sched_others_runnable();
		if (block) {
			arm_timer();
			gr_deadlock_check();
		}
		uv_run_mode mode = block ? UV_RUN_ONCE : UV_RUN_NOWAIT;
		int run = 1;
		if (gr_kwaiters) {
			/* Waiters for other processes (kwait.h): the hub waits
			 * on their words itself when it may, the helpers do
			 * while the loop blocks, and a visit between threads
			 * looks at the words. */
			int idle = block && hub_may_wait_itself()
					   ? gr_kwait_idle(gr_sched_next_deadline())
					   : 0;
			if (idle) {
				mode = UV_RUN_NOWAIT;
				run = idle == 1;
			} else if (block) {
				gr_kwait_before_loop();
			} else {
				gr_kwait_check();
			}
		}
		gr_rt.inside = 1;
		if (run)
			uv_run(&gr_rt.loop, mode);
		if (__builtin_expect(gr_preempt_stale, 0))
			gr_preempt_refresh();
		gr_rt.inside = 0;
		if (gr_rt.sig_pending)
			gr_signal_dispatch();
		if (gr_sched_run_from_hub(gr_now()))
			gr_deadlock_reset();
	}
}

/* One of the loop's fds has another number (ownfd.h: a mover). */
static void moved_loop_fd(int from, int to)
{
	uv_loop_t *l = &gr_rt.loop;

	if (l->backend_fd == from)
		l->backend_fd = to; /* the set itself: no watcher */
	if (l->async_wfd == from)
		l->async_wfd = to;
	if (l->async_io_watcher.fd == from) {
		uint64_t one = 1;
		gr_own_fd_rewatch(l, &l->async_io_watcher, to);
		/* A wake-up the pool may have sent to the old number. */
		if (gr_real.write(to, &one, sizeof(one)) < 0)
			gr_log(GR_LOG_DEBUG, "ownfd: no wake-up on the moved eventfd");
	}
	if (l->signal_pipefd[1] == from)
		__atomic_store_n(&l->signal_pipefd[1], to, __ATOMIC_RELEASE);
	if (l->signal_pipefd[0] == from) {
		l->signal_pipefd[0] = to;
		gr_own_fd_rewatch(l, &l->signal_io_watcher, to);
	}
}

static void moved_timer_fd(int from, int to)
{
	(void)from;
	timer_fd = to;
	gr_own_fd_rewatch(&gr_rt.loop, &timer_poll.io_watcher, to);
}

/* libuv's fds, the runtime's own (ownfd.c): its epoll set, its eventfd (or
 * pipe) for wake-ups, its signal pipe once made. */
static void own_loop_fds(int add)
{
	const int fds[] = {gr_rt.loop.backend_fd, gr_rt.loop.async_io_watcher.fd,
			   gr_rt.loop.async_wfd, gr_rt.loop.signal_pipefd[0],
			   gr_rt.loop.signal_pipefd[1]};

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0 && add) {
			gr_own_fd_add(fds[i]);
			gr_own_fd_mover(fds[i], moved_loop_fd);
		} else if (fds[i] >= 0) {
			gr_own_fd_del(fds[i]);
		}
}

static int start_loop(void)
{
	int err;

	gr_rt.inside = 1;
	gr_own_fd_capture = 1; /* libuv's signal lock: a pipe2 (ownfd.h) */
	err = uv_loop_init(&gr_rt.loop);
	gr_own_fd_capture = 0;
	if (err < 0)
		goto fail_loop_init;
	own_loop_fds(1);
	timer_fd = gr_own_fd_high(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
	if (timer_fd < 0) {
		err = -errno;
		goto fail_timerfd;
	}
	gr_own_fd_add(timer_fd);
	gr_own_fd_mover(timer_fd, moved_timer_fd);
	err = uv_poll_init(&gr_rt.loop, &timer_poll, timer_fd);
	if (err < 0)
		goto fail_poll_init;
	err = uv_poll_start(&timer_poll, UV_READABLE, on_timer);
	if (err < 0)
		goto fail_poll_start;
	err = gr_signal_init(&gr_rt.loop);
	if (err < 0)
		goto fail_signal_init;
	err = gr_foreign_init(&gr_rt.loop);
	if (err < 0)
		goto fail_foreign_init;
	err = gr_fd_init(&gr_rt.loop);
	if (err < 0)
		goto fail_fd_init;
	gr_dump_init(&gr_rt.loop);
	gr_monitor_init(&gr_rt.loop);
	gr_rt.inside = 0;
	return 0;
fail_fd_init:
fail_foreign_init:
	/* The signal and foreign watchers stay: they belong to the loop,
	 * which is left unusable, and the process goes on without a runtime. */
fail_signal_init:
	uv_poll_stop(&timer_poll);
fail_poll_start:
	/* The loop refuses to close while a handle is open; closing needs
	 * one more turn to run the close. */
	uv_close((uv_handle_t *)&timer_poll, NULL);
	uv_run(&gr_rt.loop, UV_RUN_NOWAIT);
fail_poll_init:
	gr_real.close(timer_fd);
	timer_fd = -1;
fail_timerfd:
	uv_loop_close(&gr_rt.loop);
fail_loop_init:
	gr_rt.inside = 0;
	return err;
}

int gr_start(void)
{
	static int starting;
	struct gr_thread *m = &gr_main_thread;
	struct gr_stack hs;
	int err;

	if (__atomic_exchange_n(&starting, 1, __ATOMIC_ACQ_REL))
		return gr_tls_runtime ? 0 : -EALREADY;
	gr_real_init();
	gr_config_load();
	err = gr_ctx_select(gr_config.ucontext || !gr_ctx_have_asm);
	if (err < 0)
		return err;

	m->handle = (uint64_t)gr_real.pthread_self();
	m->id = 1;
	gr_rt.os_tid = (int)gr_real.gettid();
	/* glibc wrote this tid into the locks main took before we started. */
	m->owner_id = gr_rt.os_tid;
	m->magic = GR_MAGIC;
	m->state = GR_RUNNING;
	prctl(PR_GET_NAME, m->name);
	gr_schedattr_init(m);
	gr_ctx_init_current(&m->ctx, &main_uc);
	gr_rt.cur = m;
	gr_rt.all = m;
	gr_rt.errno_loc = &errno; /* saves a libc call per switch, twice */
	gr_rt.live = gr_rt.peak_live = 1;
	gr_rt.next_id = 2;
	gr_rt.poll_at = INT64_MAX;
	err = gr_timers_room(1);
	if (err < 0)
		return err;

	err = start_loop();
	if (err < 0) {
		gr_log(GR_LOG_ERROR, "cannot start the event loop: %s", strerror(-err));
		return err;
	}
	err = gr_stack_alloc(HUB_STACK, &hs);
	if (err < 0)
		return err;
	gr_hub.stack = hs;
	gr_hub.canary = hs.guard == GR_GUARD_CANARY;
	gr_hub.id = 0;
	gr_hub.state = GR_RUNNABLE;
	strcpy(gr_hub.name, "greenify-hub");
	gr_ctx_make(&gr_hub.ctx, hs.lo, hs.size, hub_main, NULL);
	/* Main and the hub keep the OS thread's TLS; green threads get their
	 * own unless TLS is shared (then every thread pointer is NULL). */
	if (!gr_config.tls_shared && gr_tls_init() == 0) {
		m->ctx.tp = gr_hub.ctx.tp = gr_tls_base();
		gr_slot_colours = 3;
		gr_stack_rec_gap = gr_tls_cold;
		/* The block, TLS and the first frames of a thread that sleeps,
		 * below the cold top page. */
		gr_stack_set_prefault(gr_tls_cold, gr_tls_gap - gr_tls_cold + gr_tls_below +
							   sizeof(struct gr_thread) + 512);
	}

	gr_attr_start();
	gr_guard_init();
	gr_fork_init();
	gr_sud_start();
	gr_tls_runtime = 1;
	gr_foreign_go_live();
	gr_rt.started = 1;
	gr_log(GR_LOG_DEBUG, "runtime started on OS thread %d (%s switch)", gr_rt.os_tid,
	       gr_ctx_ucontext ? "ucontext" : "asm");
	return 0;
}

/* In the child of fork (fork.c), running the thread that forked: the other
 * threads are gone, and the loop's kernel objects are the parent's too. An
 * epoll set is shared through fork (a change by one process is a change for
 * both), and so are the timerfd (one process would re-arm, or read away, the
 * other's deadline) and the eventfds: each process needs its own. */
static int make_timer_fd(void)
{
	return timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
}

int gr_rt_after_fork_child(void)
{
	struct gr_thread *self = gr_rt.cur;
	int err;

	/* A new epoll set with every started watcher in it, and new eventfds
	 * for libuv's own wake-ups. */
	own_loop_fds(0);
	err = uv_loop_fork(&gr_rt.loop);
	own_loop_fds(1);
	if (err < 0)
		return err;
	/* libuv's pool may have signalled a completion just before the fork:
	 * its flag, still set, would swallow every later wake-up, since the
	 * eventfd that carried it is not the child's (uv_loop_fork leaves the
	 * flag as it was). The completions themselves are the parent's jobs,
	 * which pool.c ignores. */
	gr_rt.loop.wq_async.pending = 0;
	/* A new timerfd under the old number: timer_poll watches that number. */
	err = gr_own_fd_renew(timer_fd, make_timer_fd);
	if (err < 0)
		return err;
	gr_rt.armed = 0;

	gr_runq_reset();
	gr_timers_clear(&gr_rt.timers);
	gr_rt.live_timers = 0;
	gr_rt.poll_at = INT64_MAX;
	gr_rt.zombie = NULL;
	gr_rt.slice_owner = NULL;
	gr_rt.sig_pending = 0; /* a child starts with no signal pending */
	self->sig_pending = 0;
	self->joiner = NULL; /* a thread of the parent's */
	self->all_prev = self->all_next = NULL;
	gr_rt.all = self;
	gr_rt.live = gr_rt.peak_live = 1;
	/* The child's statistics are its own. */
	gr_rt.created = 0;
	gr_rt.switches = 0;
	gr_rt.foreign_runs = 0;
	gr_rt.os_tid = (int)gr_real.gettid();
	gr_tid_after_fork();
	gr_deadlock_reset();
	return 0;
}
