/* needs: private-tls */
// Hazard: in C++, pthread_exit and a deferred pthread_cancel leave a thread
// by a forced unwind (abi::__forced_unwind), so every frame between the call
// and the thread's start runs its local destructors (RAII), a catch (...)
// that rethrows sees the unwind go by, and the thread's thread_local objects
// are destroyed after it; a green thread that just stops leaks all of that.
// Each thread calls three nested functions holding one guard object each;
// the middle one wraps the call in catch (...) { ...; throw; } and the outer
// one catches abi::__forced_unwind and rethrows:
//   8 threads call pthread_exit from the innermost, after a sleep: each logs
//     guard 3, catch (...), guard 2, catch (__forced_unwind), guard 1, then
//     its thread_local, and join returns the value it passed;
//   8 threads blocked in std::this_thread::sleep_for(1 s) (nanosleep is a
//     cancellation point) are cancelled: the same log, and join returns
//     PTHREAD_CANCELED, long before the second is over;
//   8 threads blocked in read() on an empty pipe are cancelled: the same.
// If a cancel is refused, main lets the sleepers finish and writes to the
// pipes, so the program ends and reports.  Printed by main after the joins.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <cxxabi.h>
#include <string>
#include <thread>

#include <pthread.h>
#include <unistd.h>

#include "check.h"

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// Each check is written out at once, so that what was checked is seen
// even if a later step aborts.
#define CHECK_NOW(...)               \
	do {                         \
		CHECK(__VA_ARGS__);  \
		std::fflush(stdout); \
	} while (0)

enum { N = 8 };

// What happened in one thread, in order.
struct Trace {
	char log[16];
	std::atomic<int> n{ 0 };
	std::atomic<bool> ready{ false };
	int fd = -1; // the read case: the pipe's read end
	int index = 0;
	void add(char c)
	{
		int k = n++;
		if (k < int(sizeof log) - 1)
			log[k] = c;
	}
};

struct Guard {
	Trace *t;
	char tag;
	~Guard()
	{
		t->add(tag);
	}
};

struct TlsNote {
	Trace *t = nullptr;
	~TlsNote()
	{
		if (t)
			t->add('T');
	}
};

static thread_local TlsNote tls_note;

enum How { EXIT, SLEEP, READ };

static void innermost(Trace *t, How how)
{
	Guard g{ t, '3' };
	t->ready = true;
	switch (how) {
	case EXIT:
		std::this_thread::sleep_for(std::chrono::milliseconds(1 + t->index % 3));
		pthread_exit(reinterpret_cast<void *>(intptr_t(100 + t->index)));
	case SLEEP:
		std::this_thread::sleep_for(1s);
		break;
	case READ: {
		char b;
		if (read(t->fd, &b, 1) < 0)
			std::perror("read");
		break;
	}
	}
	t->add('!'); // got past the cancellation point
}

static void middle(Trace *t, How how)
{
	Guard g{ t, '2' };
	try {
		innermost(t, how);
	} catch (...) {
		t->add('R');
		throw;
	}
}

static void outer(Trace *t, How how)
{
	Guard g{ t, '1' };
	try {
		middle(t, how);
	} catch (abi::__forced_unwind &) {
		t->add('F');
		throw;
	}
}

struct Start {
	Trace *t;
	How how;
};

static void *run(void *arg)
{
	Start *s = static_cast<Start *>(arg);
	tls_note.t = s->t;
	outer(s->t, s->how);
	return reinterpret_cast<void *>(intptr_t(200 + s->t->index));
}

// Static, so that a thread_local destroyed late (at exit) still finds it.
static Trace traces[3][N];

// Runs N threads of one kind; cancels them unless they exit by themselves.
static void run_case(How how, const char *what)
{
	Trace *tr = traces[how];
	Start st[N];
	pthread_t th[N];
	int pipes[N][2];
	int cancel_ok = 0, value_ok = 0, log_ok = 0;

	for (int i = 0; i < N; i++) {
		tr[i].index = i;
		if (how == READ) {
			if (pipe(pipes[i]) != 0) {
				std::perror("pipe");
				std::exit(2);
			}
			tr[i].fd = pipes[i][0];
		}
		st[i] = Start{ &tr[i], how };
		if (pthread_create(&th[i], nullptr, run, &st[i]) != 0) {
			std::perror("pthread_create");
			std::exit(2);
		}
	}
	auto t0 = steady::now();
	if (how != EXIT) {
		for (int i = 0; i < N; i++)
			while (!tr[i].ready)
				std::this_thread::sleep_for(1ms);
		std::this_thread::sleep_for(20ms); // all blocked by now
		for (int i = 0; i < N; i++) {
			int rc = pthread_cancel(th[i]);
			cancel_ok += rc == 0;
			if (rc != 0 && how == READ && write(pipes[i][1], "x", 1) != 1)
				std::perror("write");
		}
	}
	for (int i = 0; i < N; i++) {
		void *ret = nullptr;
		if (pthread_join(th[i], &ret) != 0) {
			std::perror("pthread_join");
			std::exit(2);
		}
		void *want = how == EXIT ? reinterpret_cast<void *>(intptr_t(100 + i))
					 : PTHREAD_CANCELED;
		value_ok += ret == want;
		int n = tr[i].n;
		tr[i].log[n < int(sizeof tr[i].log) ? n : int(sizeof tr[i].log) - 1] = '\0';
		log_ok += std::strcmp(tr[i].log, "3R2F1T") == 0;
		std::fprintf(stderr, "%s, thread %d: log '%s'\n", what, i, tr[i].log);
	}
	long ms = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t0).count();
	std::string w = std::to_string(N) + " threads " + what;
	if (how != EXIT) {
		CHECK_NOW(cancel_ok == N, "%s: pthread_cancel -> 0", w.c_str());
		CHECK_NOW(value_ok == N, "%s: join gives PTHREAD_CANCELED", w.c_str());
	} else {
		CHECK_NOW(value_ok == N, "%s: join gives the value passed to pthread_exit", w.c_str());
	}
	CHECK_NOW(log_ok == N,
		  "%s: guard 3, catch (...) rethrows, guard 2, catch (abi::__forced_unwind) rethrows, "
		  "guard 1, thread_local destroyed",
		  w.c_str());
	if (how == SLEEP)
		CHECK_NOW(ms < 900, "%s: joined before the 1 s sleep was over", w.c_str());
	if (how == READ)
		for (int i = 0; i < N; i++) {
			close(pipes[i][0]);
			close(pipes[i][1]);
		}
}

int main()
{
	alarm(20);
	run_case(EXIT, "calling pthread_exit from nested frames");
	run_case(SLEEP, "cancelled in this_thread::sleep_for");
	run_case(READ, "cancelled in read() on a pipe");
	return check_done();
}
