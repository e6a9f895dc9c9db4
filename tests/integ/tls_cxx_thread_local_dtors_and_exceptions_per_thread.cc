/* needs: private-tls */
// Hazard: C++ keeps per-thread state in TLS that green threads must not share:
// thread_local objects (constructed on first use in each thread, destroyed at
// that thread's exit through __cxa_thread_atexit_impl), and the exception
// runtime's globals (__cxa_get_globals: the stack of caught exceptions and the
// count of uncaught ones).  Checked, with std::thread, std::mutex and
// std::condition_variable:
//   thread_local objects: 40 threads each use one, sleeping and yielding
//     between rounds; each is constructed once per thread that uses it (not
//     in threads that never do), holds its thread's values only, and is
//     destroyed at that thread's exit, on that thread, before join returns;
//     a thread_local with a dynamic initializer is initialized once per
//     thread;
//   std::uncaught_exceptions: 40 threads each unwind through a destructor
//     that waits until all are unwinding together; each sees exactly 1, and
//     a thread that is not unwinding sees 0 meanwhile;
//   exceptions: 40 threads throw at once and all stay inside their catch
//     blocks together (a condition variable gate), sleep there, then each
//     finds its own exception in std::current_exception, rethrows it with
//     throw; and catches it again, and catches a second exception thrown
//     while the first is still caught; 5 rounds.
// Results are printed by main after the joins, in a fixed order.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <exception>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include <unistd.h>

#include "check.h"

using namespace std::chrono_literals;

// Each check is written out at once, so that what was checked is seen
// even if a later step aborts.
#define CHECK_NOW(...)               \
	do {                         \
		CHECK(__VA_ARGS__);  \
		std::fflush(stdout); \
	} while (0)

// Lets n threads through only once all n have arrived (reusable).
class Gate {
	std::mutex m;
	std::condition_variable cv;
	int n, arrived = 0;
	long phase = 0;

      public:
	explicit Gate(int count) : n(count)
	{
	}
	void arrive_and_wait()
	{
		std::unique_lock<std::mutex> lk(m);
		long my_phase = phase;
		if (++arrived == n) {
			arrived = 0;
			phase++;
			cv.notify_all();
			return;
		}
		cv.wait(lk, [&] { return phase != my_phase; });
	}
};

static void pause_a_little(int i, int r)
{
	if ((i + r) % 3 == 0)
		std::this_thread::yield();
	else
		std::this_thread::sleep_for(std::chrono::milliseconds(1 + (i * 7 + r) % 3));
}

// ---- thread_local objects ----

enum { NTHREADS = 40, ROUNDS = 5 };

static std::atomic<int> constructed{ 0 }, destroyed{ 0 }, destroyed_on_owner{ 0 };
static std::atomic<int> destroyed_with_own_values{ 0 }, dynamic_inits{ 0 };
static thread_local int tl_index = -1; // which test thread this is; no destructor

struct Tracked {
	int owner;  // tl_index of the constructing thread
	long sum = 0;
	std::vector<int> log;

	Tracked() : owner(tl_index)
	{
		constructed++;
	}
	~Tracked()
	{
		long want = 0;
		for (int r = 0; r < ROUNDS; r++)
			want += owner * 100 + r;
		destroyed++;
		if (tl_index == owner)
			destroyed_on_owner++;
		if (sum == want && log.size() == ROUNDS)
			destroyed_with_own_values++;
	}
};

static thread_local Tracked tracked;

static int next_dynamic()
{
	dynamic_inits++;
	return tl_index * 3;
}

static thread_local int tl_dynamic = next_dynamic();

static void thread_local_objects()
{
	std::vector<std::thread> ts;
	std::atomic<int> rounds_ok{ 0 }, dynamic_ok{ 0 };
	std::mutex m;
	std::set<const void *> addrs;
	std::atomic<int> dtor_before_join{ 1 };

	for (int i = 0; i < NTHREADS; i++)
		ts.emplace_back([&, i] {
			tl_index = i;
			{
				std::lock_guard<std::mutex> g(m);
				addrs.insert(&tracked);
			}
			bool ok = tracked.owner == i;
			for (int r = 0; r < ROUNDS; r++) {
				tracked.sum += i * 100 + r;
				tracked.log.push_back(r);
				pause_a_little(i, r);
				ok &= tracked.log.size() == size_t(r + 1) && tracked.log.back() == r;
			}
			if (ok)
				rounds_ok++;
			if (tl_dynamic == i * 3)
				dynamic_ok++;
		});
	// A thread that never touches `tracked` must not construct one.
	std::thread idle([] { std::this_thread::sleep_for(5ms); });
	idle.join();
	for (auto &t : ts) {
		t.join();
	}
	dtor_before_join = destroyed.load() == NTHREADS;

	CHECK_NOW(constructed == NTHREADS, "thread_local object constructed once in each thread using it");
	CHECK_NOW(rounds_ok == NTHREADS, "thread_local object holds its own thread's values across sleeps");
	CHECK_NOW(int(addrs.size()) == NTHREADS, "thread_local object's address differs per thread");
	CHECK_NOW(destroyed == NTHREADS, "thread_local destructor ran once per thread");
	CHECK_NOW(destroyed_on_owner == NTHREADS, "thread_local destructor ran on its own thread");
	CHECK_NOW(destroyed_with_own_values == NTHREADS,
		  "thread_local destructor saw its own thread's values");
	CHECK_NOW(dtor_before_join, "thread_local destructors ran before join returned");
	CHECK_NOW(dynamic_inits == NTHREADS && dynamic_ok == NTHREADS,
		  "thread_local dynamic initializer ran once per thread, with its own value");
}

// ---- caught exceptions, all in flight at once ----

struct Boom {
	int who, round;
};

static void exceptions_caught_together()
{
	Gate gate(NTHREADS);
	std::atomic<int> own_current{ 0 }, own_rethrown{ 0 }, own_nested{ 0 }, own_after{ 0 };
	std::atomic<int> wrong{ 0 };
	std::vector<std::thread> ts;

	for (int i = 0; i < NTHREADS; i++)
		ts.emplace_back([&, i] {
			for (int r = 0; r < ROUNDS; r++) {
				try {
					throw Boom{ i, r };
				} catch (const Boom &b) {
					// Everybody holds a caught exception now.
					gate.arrive_and_wait();
					pause_a_little(i, r);
					try {
						std::rethrow_exception(std::current_exception());
					} catch (const Boom &c) {
						if (c.who == i && c.round == r)
							own_current++;
					} catch (...) {
						wrong++;
					}
					try {
						try {
							throw std::runtime_error(std::to_string(i));
						} catch (const std::runtime_error &e) {
							pause_a_little(i, r + 1);
							if (std::strcmp(e.what(),
									std::to_string(i).c_str()) == 0)
								own_nested++;
							throw; // the Boom is still caught below
						}
					} catch (const std::runtime_error &e) {
						pause_a_little(i, r + 2);
					}
					try {
						pause_a_little(i, r + 3);
						throw;
					} catch (const Boom &c) {
						if (c.who == i && c.round == r)
							own_rethrown++;
					}
					if (b.who == i && b.round == r)
						own_after++;
				}
			}
		});
	for (auto &t : ts)
		t.join();
	const int n = NTHREADS * ROUNDS;
	CHECK_NOW(own_current == n && wrong == 0,
		  "40 threads x 5 inside catch at once: std::current_exception is their own");
	CHECK_NOW(own_nested == n, "a second exception caught inside the catch: their own");
	CHECK_NOW(own_rethrown == n, "throw; inside the catch rethrows their own exception");
	CHECK_NOW(own_after == n, "the caught object is intact after all of it");
	CHECK_NOW(std::current_exception() == nullptr, "main has no current exception");
}

// ---- std::uncaught_exceptions, all unwinding at once ----

static std::atomic<int> saw_one{ 0 }, bystander_zero{ 0 };

struct Unwinder {
	Gate &gate;
	~Unwinder()
	{
		gate.arrive_and_wait(); // everyone (and the bystander) unwinding
		std::this_thread::sleep_for(2ms);
		if (std::uncaught_exceptions() == 1)
			saw_one++;
		gate.arrive_and_wait(); // nobody leaves before everyone looked
	}
};

static void uncaught_exceptions_together()
{
	Gate gate(NTHREADS + 1);
	std::atomic<int> caught{ 0 };
	std::vector<std::thread> ts;

	for (int i = 0; i < NTHREADS; i++)
		ts.emplace_back([&, i] {
			try {
				Unwinder u{ gate };
				throw Boom{ i, 0 };
			} catch (const Boom &b) {
				if (b.who == i && std::uncaught_exceptions() == 0)
					caught++;
			}
		});
	std::thread bystander([&] {
		gate.arrive_and_wait();
		std::this_thread::sleep_for(2ms);
		if (std::uncaught_exceptions() == 0)
			bystander_zero++;
		gate.arrive_and_wait();
	});
	for (auto &t : ts)
		t.join();
	bystander.join();
	CHECK_NOW(saw_one == NTHREADS, "40 threads unwinding at once: std::uncaught_exceptions() == 1 in each");
	CHECK_NOW(bystander_zero == 1, "a thread not unwinding meanwhile: std::uncaught_exceptions() == 0");
	CHECK_NOW(caught == NTHREADS, "each caught its own, and then 0 uncaught");
}

int main()
{
	alarm(20);
	tl_index = 1000; // main's own
	thread_local_objects();
	uncaught_exceptions_together();
	exceptions_caught_together();
	CHECK_NOW(tl_index == 1000, "main's own thread_local untouched");
	return check_done();
}
