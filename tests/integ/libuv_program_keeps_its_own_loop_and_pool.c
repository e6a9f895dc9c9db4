/* Hazard: a program that uses libuv itself (the system's libuv.so.1).
 * greenify runs on a libuv of its own, linked inside it with hidden
 * symbols; were it the same libuv, the program's uv_queue_work and
 * uv_getaddrinfo would go to greenify's thread pool, whose real OS threads
 * wait on conditions that green threads signal in vain: they never
 * complete.  Here, from main and from 3 uv threads at once, each with a
 * loop of its own:
 *   uv_queue_work: 8 jobs per loop that sleep 5 ms on the program's pool,
 *     each done callback on its loop's thread;
 *   uv_getaddrinfo of "localhost" (numeric service) and a bad numeric
 *     host: callbacks with an answer and UV_EAI_NONAME;
 *   a repeating timer firing 3 times; a uv_async sent from a plain
 *     pthread;
 * while a pthread calls getaddrinfo() directly (greenify's pool, under the
 * preload) and a ticker keeps running.  Then, on the default loop:
 * uv_spawn of a shell that exits 3 (libuv's SIGCHLD handling), uv_fs_open
 * and uv_fs_read on the pool, a uv_signal for SIGUSR1 sent by a pthread.  uv_queue_work resolves to
 * libuv.so.1, as natively: nothing of greenify's libuv shows.
 * libuv's pool threads are pthreads of the program: green ones, too. */
/* link: -luv -ldl */
/* run-also: memcheck */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netdb.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "check.h"

#define LOOPS 4 /* main's and 3 uv threads' */
#define JOBS 8

struct ctx {
	uv_loop_t loop;
	uv_work_t work[JOBS];
	uv_getaddrinfo_t gai, bad;
	uv_timer_t timer;
	uv_async_t async;
	uv_thread_t self; /* the thread that runs the loop */
	int worked, done, wrong_thread;
	int gai_ok, bad_status, ticks, async_got;
	pthread_t sender;
};

static struct ctx ctxs[LOOPS];

static void work(uv_work_t *req)
{
	(void)req;
	sleep_ms(5);
}

static void after_work(uv_work_t *req, int status)
{
	struct ctx *c = req->data;
	uv_thread_t me = uv_thread_self();

	if (status == 0)
		c->done++;
	if (!uv_thread_equal(&me, &c->self))
		c->wrong_thread++;
}

static void on_gai(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct ctx *c = req->data;

	if (status == 0 && res != NULL && res->ai_family == AF_INET &&
	    ((struct sockaddr_in *)(void *)res->ai_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK))
		c->gai_ok = 1;
	uv_freeaddrinfo(res);
}

static void on_bad(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct ctx *c = req->data;

	c->bad_status = status;
	uv_freeaddrinfo(res);
}

static void on_timer(uv_timer_t *t)
{
	struct ctx *c = t->data;

	if (++c->ticks == 3)
		uv_timer_stop(t);
}

static void on_async(uv_async_t *a)
{
	struct ctx *c = a->data;

	c->async_got = 1;
	uv_close((uv_handle_t *)a, NULL);
}

static void *send_async(void *arg)
{
	struct ctx *c = arg;

	sleep_ms(20);
	uv_async_send(&c->async);
	return NULL;
}

static void run_loop(void *arg)
{
	struct ctx *c = arg;
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM };
	struct addrinfo num = { .ai_flags = AI_NUMERICHOST, .ai_socktype = SOCK_STREAM };

	c->self = uv_thread_self();
	if (uv_loop_init(&c->loop) != 0)
		abort();
	for (int i = 0; i < JOBS; i++) {
		c->work[i].data = c;
		if (uv_queue_work(&c->loop, &c->work[i], work, after_work) != 0)
			abort();
	}
	c->gai.data = c->bad.data = c;
	if (uv_getaddrinfo(&c->loop, &c->gai, on_gai, "localhost", "80", &hints) != 0 ||
	    uv_getaddrinfo(&c->loop, &c->bad, on_bad, "not-a-number", "80", &num) != 0)
		abort();
	uv_timer_init(&c->loop, &c->timer);
	c->timer.data = c;
	uv_timer_start(&c->timer, on_timer, 10, 10);
	uv_async_init(&c->loop, &c->async, on_async);
	c->async.data = c;
	MUST(pthread_create(&c->sender, NULL, send_async, c));
	uv_run(&c->loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&c->timer, NULL);
	uv_run(&c->loop, UV_RUN_DEFAULT);
	MUST(pthread_join(c->sender, NULL));
	if (uv_loop_close(&c->loop) != 0)
		c->wrong_thread += 1000;
}

static atomic_int direct_ok, stop_ticker, ticks;

static void *direct_lookup(void *arg)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *res;

	(void)arg;
	for (int i = 0; i < 10; i++)
		if (getaddrinfo("localhost", "80", &hints, &res) == 0) {
			atomic_fetch_add(&direct_ok, 1);
			freeaddrinfo(res);
		}
	return NULL;
}

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop_ticker)) {
		sleep_ms(1);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

static int64_t child_status = -1;
static int child_signal = -1, fs_read = -1, usr1s;
static uv_fs_t open_req, read_req;
static char fs_buf[64];
static uv_buf_t fs_uv_buf;

static void on_child_exit(uv_process_t *p, int64_t status, int term)
{
	child_status = status;
	child_signal = term;
	uv_close((uv_handle_t *)p, NULL);
}

static void on_fs_read(uv_fs_t *r)
{
	uv_fs_t close_req;

	fs_read = (int)r->result;
	uv_fs_req_cleanup(r);
	uv_fs_close(r->loop, &close_req, (uv_file)open_req.result, NULL);
	uv_fs_req_cleanup(&close_req);
}

static void on_fs_open(uv_fs_t *r)
{
	if (r->result < 0)
		return;
	fs_uv_buf = uv_buf_init(fs_buf, sizeof fs_buf);
	uv_fs_read(r->loop, &read_req, (uv_file)r->result, &fs_uv_buf, 1, 0, on_fs_read);
}

static void on_usr1(uv_signal_t *s, int signum)
{
	if (signum == SIGUSR1)
		usr1s++;
	uv_close((uv_handle_t *)s, NULL);
}

static void *send_usr1(void *arg)
{
	(void)arg;
	sleep_ms(30);
	kill(getpid(), SIGUSR1);
	return NULL;
}

static void default_loop_children_files_signals(void)
{
	uv_loop_t *loop = uv_default_loop();
	uv_process_t proc;
	uv_process_options_t o;
	uv_signal_t sig;
	pthread_t sender;
	char *args[] = { "/bin/sh", "-c", "exit 3", NULL };

	memset(&o, 0, sizeof o);
	o.file = args[0];
	o.args = args;
	o.exit_cb = on_child_exit;
	CHECK_ERR(-uv_spawn(loop, &proc, &o), 0, "uv_spawn of a shell");
	uv_fs_open(loop, &open_req, "/proc/self/stat", O_RDONLY, 0, on_fs_open);
	uv_signal_init(loop, &sig);
	uv_signal_start(&sig, on_usr1, SIGUSR1);
	MUST(pthread_create(&sender, NULL, send_usr1, NULL));
	uv_run(loop, UV_RUN_DEFAULT);
	MUST(pthread_join(sender, NULL));
	uv_fs_req_cleanup(&open_req);
	CHECK(child_status == 3 && child_signal == 0, "the child's exit callback: status 3");
	CHECK(fs_read > 0, "uv_fs_open and uv_fs_read on the pool");
	CHECK(usr1s == 1, "uv_signal: SIGUSR1 from a pthread reached the loop");
	CHECK_ERR(-uv_loop_close(loop), 0, "the default loop closes");
}

int main(void)
{
	uv_thread_t th[LOOPS - 1];
	pthread_t direct, tick;
	Dl_info info;
	int done = 1, right_thread = 1, gai = 1, bad = 1, timers = 1, asyncs = 1;

	alarm(30);
	CHECK(uv_version() == UV_VERSION_HEX, "the program's libuv is the one it was built against");
	CHECK(dladdr((void *)uv_queue_work, &info) && info.dli_fname && strstr(info.dli_fname, "libuv.so"),
	      "uv_queue_work is libuv.so's");
	void *sym = dlsym(RTLD_DEFAULT, "uv_queue_work");
	CHECK(sym && dladdr(sym, &info) && strstr(info.dli_fname, "libuv.so"),
	      "and so is the first uv_queue_work in the global scope");
	MUST(pthread_create(&tick, NULL, ticker, NULL));
	MUST(pthread_create(&direct, NULL, direct_lookup, NULL));
	for (int i = 1; i < LOOPS; i++)
		MUST(uv_thread_create(&th[i - 1], run_loop, &ctxs[i]));
	run_loop(&ctxs[0]);
	for (int i = 1; i < LOOPS; i++)
		MUST(uv_thread_join(&th[i - 1]));
	MUST(pthread_join(direct, NULL));
	atomic_store(&stop_ticker, 1);
	MUST(pthread_join(tick, NULL));

	for (int i = 0; i < LOOPS; i++) {
		struct ctx *c = &ctxs[i];
		fprintf(stderr, "loop %d: done %d, wrong thread %d, gai %d, bad %d, ticks %d, async %d\n",
			i, c->done, c->wrong_thread, c->gai_ok, c->bad_status, c->ticks, c->async_got);
		done &= c->done == JOBS;
		right_thread &= c->wrong_thread == 0;
		gai &= c->gai_ok;
		bad &= c->bad_status == UV_EAI_NONAME;
		timers &= c->ticks == 3;
		asyncs &= c->async_got;
	}
	CHECK(done, "uv_queue_work: every job of every loop completed");
	CHECK(right_thread, "each done callback ran on its loop's thread, every loop closed");
	CHECK(gai, "uv_getaddrinfo: localhost is 127.0.0.1 on every loop");
	CHECK(bad, "uv_getaddrinfo: a bad numeric host gives UV_EAI_NONAME");
	CHECK(timers, "a repeating timer fired 3 times on every loop");
	CHECK(asyncs, "a uv_async sent from a pthread woke every loop");
	CHECK(atomic_load(&direct_ok) == 10, "getaddrinfo() called directly meanwhile");
	CHECK(atomic_load(&ticks) > 0, "a ticker ran meanwhile");
	default_loop_children_files_signals();
	return check_done();
}
