// Hazard: glibc's __libc_single_threaded, which only glibc's own
// pthread_create clears.  libstdc++ reads it to take single-threaded short
// cuts, so with green threads it must turn false when the second thread is
// created, before that thread runs, and stay false, as natively:
//   1. the flag: true before the first thread, false in the first thread
//      at its start and in main afterwards, also after the join;
//   2. a function-local static whose constructor sleeps 100 ms, reached by
//      a second thread meanwhile: it waits for the one construction
//      (single-threaded, __cxa_guard_acquire takes it for recursion and
//      throws recursive_init_error);
//   3. std::jthread + std::stop_callback: the callback, run by main's
//      request_stop, sleeps; the thread destroys its stop_callback
//      meanwhile, which waits until the callback is done (single-threaded,
//      the callback's end is never signalled: deadlock); a jthread's
//      destructor stops and joins it;
//   4. std::condition_variable_any waiting with a stop_token wakes at
//      request_stop; C++20 atomic wait/notify, std::latch, std::barrier,
//      std::counting_semaphore across threads;
//   5. shared_ptr copies made and dropped in 8 threads at once: the count
//      comes back to 1.
// A ticker thread runs throughout.
#include <atomic>
#include <barrier>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <latch>
#include <memory>
#include <mutex>
#include <semaphore>
#include <stop_token>
#include <thread>
#include <vector>

#include <sys/single_threaded.h>
#include <unistd.h>

#include "check.h"

using namespace std::chrono_literals;

static void check(bool ok, const char *what)
{
	CHECK(ok, "%s", what);
}

static std::atomic<int> constructions;

struct Slow {
	int value;
	Slow() : value(42)
	{
		constructions++;
		std::this_thread::sleep_for(100ms);
	}
};

static Slow &slow()
{
	static Slow s;
	return s;
}

static void static_init_waits()
{
	std::atomic<bool> first_in{ false };
	int v1 = 0, v2 = 0;
	std::thread a([&] {
		first_in = true;
		v1 = slow().value;
	});
	while (!first_in)
		std::this_thread::sleep_for(1ms);
	std::this_thread::sleep_for(20ms); // a is inside the constructor
	std::thread b([&] { v2 = slow().value; });
	a.join();
	b.join();
	check(constructions == 1, "static: constructed once");
	check(v1 == 42 && v2 == 42, "static: the second thread waited for it");
}

static void stop_callback_waits()
{
	std::atomic<bool> cb_started{ false }, cb_done{ false }, done_when_destroyed{ false };
	std::jthread t([&](std::stop_token st) {
		{
			std::stop_callback cb(st, [&] {
				cb_started = true;
				std::this_thread::sleep_for(100ms);
				cb_done = true;
			});
			while (!cb_started)
				std::this_thread::sleep_for(1ms);
		} // waits until the callback, running in main, is done
		done_when_destroyed = cb_done.load();
	});
	std::this_thread::sleep_for(20ms);
	check(t.request_stop(), "jthread: request_stop");
	t.join();
	check(done_when_destroyed, "stop_callback: destroyed only after its callback ran");

	std::atomic<bool> saw_stop{ false };
	{
		std::jthread j([&](std::stop_token st) {
			while (!st.stop_requested())
				std::this_thread::sleep_for(1ms);
			saw_stop = true;
		});
		std::this_thread::sleep_for(10ms);
	} // the destructor requests a stop and joins
	check(saw_stop, "jthread: its destructor stops and joins the thread");
}

static void stop_token_waits()
{
	std::mutex m;
	std::condition_variable_any cv;
	std::atomic<bool> woke{ false };
	std::jthread t([&](std::stop_token st) {
		std::unique_lock<std::mutex> lk(m);
		bool pred = cv.wait(lk, st, [] { return false; });
		woke = !pred && st.stop_requested();
	});
	std::this_thread::sleep_for(20ms);
	t.request_stop();
	t.join();
	check(woke, "condition_variable_any: a wait with a stop_token ends at request_stop");

	std::atomic<int> word{ 0 };
	std::atomic<bool> saw{ false };
	std::thread w([&] {
		word.wait(0);
		saw = word.load() == 1;
	});
	std::this_thread::sleep_for(20ms);
	word = 1;
	word.notify_one();
	w.join();
	check(saw, "atomic wait: woken by notify_one");

	std::latch latch(4);
	std::barrier bar(4);
	std::counting_semaphore<8> sem(0);
	std::atomic<int> phases{ 0 }, got{ 0 };
	std::vector<std::thread> ts;
	for (int i = 0; i < 3; i++)
		ts.emplace_back([&] {
			latch.arrive_and_wait();
			for (int p = 0; p < 5; p++) {
				bar.arrive_and_wait();
				phases++;
			}
			sem.acquire();
			got++;
		});
	latch.arrive_and_wait();
	for (int p = 0; p < 5; p++) {
		bar.arrive_and_wait();
		phases++;
	}
	std::this_thread::sleep_for(10ms);
	sem.release(3);
	for (auto &t : ts)
		t.join();
	check(phases == 20, "latch and barrier: 4 threads, 5 phases");
	check(got == 3, "counting_semaphore: three acquires woken by one release(3)");
}

static void shared_ptr_counts()
{
	auto p = std::make_shared<int>(7);
	std::vector<std::thread> ts;
	for (int i = 0; i < 8; i++)
		ts.emplace_back([p] {
			for (int k = 0; k < 10000; k++) {
				std::shared_ptr<int> q = p;
				if (k % 1000 == 0)
					std::this_thread::yield();
			}
		});
	for (auto &t : ts)
		t.join();
	check(p.use_count() == 1, "shared_ptr: the count is back to 1");
}

int main()
{
	alarm(20);
	check(__libc_single_threaded, "flag: true before the first thread");
	bool in_first = true;
	std::thread([&] { in_first = __libc_single_threaded; }).join();
	check(!in_first, "flag: false in the first thread, at its start");
	check(!__libc_single_threaded, "flag: false in main after the join");

	std::atomic<bool> stop{ false };
	std::atomic<int> ticks{ 0 };
	std::thread ticker([&] {
		while (!stop) {
			std::this_thread::sleep_for(1ms);
			ticks++;
		}
	});
	static_init_waits();
	stop_callback_waits();
	stop_token_waits();
	shared_ptr_counts();
	stop = true;
	ticker.join();
	check(ticks > 0, "a ticker ran throughout");
	check(!__libc_single_threaded, "flag: still false at the end");

	return check_done();
}
