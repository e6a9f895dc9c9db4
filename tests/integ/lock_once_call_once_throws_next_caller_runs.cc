// Hazard: a once routine that throws.  glibc's pthread_once puts the
// control back to "not run" when its init routine unwinds, so with
// libstdc++'s std::call_once (which is pthread_once underneath) the next
// caller runs its own function; a caller that was waiting meanwhile wakes
// and runs it.  Kept waiting, it would deadlock.
//   1. Thread A's call_once function sleeps 100 ms, then throws; thread B
//      calls call_once on the same flag while A is inside: A catches the
//      exception, B runs its own function, 2 calls in all; a later
//      call_once by main runs nothing.  A ticker thread keeps running.
//   2. pthread_once straight from C++, whose init routine throws: the
//      exception reaches the caller, and the next pthread_once runs.
//   3. Nested: a call_once function calls call_once on another flag whose
//      function throws, catches it and returns: the outer flag is done, the
//      inner one runs again for the next caller.
// Not with shared TLS: libstdc++'s call_once keeps the function it runs in
// a thread_local, which that mode shares between the threads.
/* needs: private-tls */
/* run-also: memcheck */
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <pthread.h>
#include <unistd.h>

#include "check.h"

using namespace std::chrono_literals;

static void check(bool ok, const char *what)
{
	CHECK(ok, "%s", what);
}

static std::once_flag flag;
static std::atomic<int> calls, a_inside, ticks;
static std::atomic<bool> a_caught, b_ran, b_returned, stop_ticker;

static void thrower()
{
	try {
		std::call_once(flag, [] {
			calls++;
			a_inside = 1;
			std::this_thread::sleep_for(100ms);
			throw std::runtime_error("first try fails");
		});
	} catch (const std::runtime_error &e) {
		a_caught = std::string(e.what()) == "first try fails";
	}
}

static void second_caller()
{
	while (!a_inside)
		std::this_thread::sleep_for(1ms);
	std::call_once(flag, [] {
		calls++;
		b_ran = true;
	});
	b_returned = true;
}

static pthread_once_t raw_once = PTHREAD_ONCE_INIT;
static int raw_runs;

static void raw_throws()
{
	raw_runs++;
	throw 42;
}

static void raw_succeeds()
{
	raw_runs++;
}

static std::once_flag outer, inner;
static int outer_runs, inner_runs;

int main()
{
	alarm(20);
	std::thread tick([] {
		while (!stop_ticker) {
			std::this_thread::sleep_for(1ms);
			ticks++;
		}
	});
	std::thread a(thrower), b(second_caller);
	a.join();
	b.join();
	int ticks_during = ticks;
	stop_ticker = true;
	tick.join();
	check(a_caught, "the first function's exception reached its caller");
	check(b_ran && b_returned, "the caller that waited ran its own function");
	check(calls == 2, "two functions ran in all");
	std::call_once(flag, [] { calls++; });
	check(calls == 2, "a later call_once runs nothing");
	check(ticks_during > 0, "a ticker ran meanwhile");
	std::fprintf(stderr, "ticks: %d\n", ticks_during);

	int caught = 0;
	try {
		pthread_once(&raw_once, raw_throws);
	} catch (int v) {
		caught = v;
	}
	check(caught == 42, "pthread_once: the init routine's exception reaches the caller");
	std::thread([] { check(pthread_once(&raw_once, raw_succeeds) == 0, "pthread_once again -> 0"); })
		.join();
	check(raw_runs == 2, "the next pthread_once ran its routine");
	pthread_once(&raw_once, raw_throws);
	check(raw_runs == 2, "and none runs after that");

	std::thread([] {
		std::call_once(outer, [] {
			outer_runs++;
			try {
				std::call_once(inner, [] {
					inner_runs++;
					std::this_thread::sleep_for(10ms);
					throw std::logic_error("inner");
				});
			} catch (const std::logic_error &) {
			}
		});
	}).join();
	std::thread([] {
		std::call_once(outer, [] { outer_runs++; });
		std::call_once(inner, [] { inner_runs++; });
	}).join();
	check(outer_runs == 1, "nested: the outer function ran once");
	check(inner_runs == 2, "nested: the inner one, which threw, ran again");

	return check_done();
}
