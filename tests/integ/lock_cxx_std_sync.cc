// Hazard: an unmodified C++17 program synchronising through libstdc++,
// which reaches the pthread calls (mutex, cond clockwait on the steady clock,
// rwlock, once) and, for futures, raw futex calls (WAIT_BITSET with an
// absolute deadline).  Each must park a green thread, not block the OS thread:
//   std::mutex + std::lock_guard: 8 std::threads x 1000 increments;
//   std::condition_variable: bounded queue, 3 producers x 1000, 2 consumers,
//     notify_one; wait_for 50 ms times out (cv_status::timeout), wait_until
//     a system_clock deadline times out, wait with a predicate wakes;
//   std::timed_mutex: try_lock_for 50 ms fails while another thread holds it,
//     try_lock_until succeeds once it is released;
//   std::recursive_mutex taken 3 deep, excluding another thread;
//   std::shared_mutex: readers share (two inside at once), a writer is alone
//     (invariant checked); std::shared_timed_mutex: try_lock_shared_for fails
//     while a writer holds it;
//   std::async(std::launch::async) x 8 returning values through futures;
//     std::promise set from a thread; future::wait_for 50 ms times out before
//     it is set; std::call_once with a 100 ms initialiser runs it once;
//   std::this_thread::sleep_for.
// Output is printed by main after the joins, in a fixed order.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <future>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

#include <unistd.h>

#include "check.h"

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

static long ms_since(steady::time_point t0)
{
	return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t0).count();
}

static void mutex_counter()
{
	std::mutex m;
	long counter = 0;
	std::vector<std::thread> ts;

	for (int i = 0; i < 8; i++)
		ts.emplace_back([&] {
			for (int k = 0; k < 1000; k++) {
				std::lock_guard<std::mutex> g(m);
				long v = counter;
				if (k % 10 == 0)
					std::this_thread::yield();
				counter = v + 1;
			}
		});
	for (auto &t : ts)
		t.join();
	CHECK(counter == 8000, "std::mutex: 8 threads x 1000 increments = 8000");
}

static void condition_variable_queue()
{
	std::mutex m;
	std::condition_variable not_empty, not_full;
	std::deque<long> q;
	int producers_left = 3;
	long consumed = 0, sum = 0;
	std::vector<std::thread> ts;

	for (int p = 0; p < 3; p++)
		ts.emplace_back([&, p] {
			for (long i = 1; i <= 1000; i++) {
				std::unique_lock<std::mutex> lk(m);
				not_full.wait(lk, [&] { return q.size() < 4; });
				q.push_back(p * 1000 + i);
				not_empty.notify_one();
			}
			std::lock_guard<std::mutex> g(m);
			if (--producers_left == 0)
				not_empty.notify_all();
		});
	for (int c = 0; c < 2; c++)
		ts.emplace_back([&] {
			std::unique_lock<std::mutex> lk(m);
			for (;;) {
				not_empty.wait(lk, [&] { return !q.empty() || producers_left == 0; });
				if (q.empty())
					return;
				sum += q.front();
				q.pop_front();
				consumed++;
				not_full.notify_one();
			}
		});
	for (auto &t : ts)
		t.join();
	CHECK(consumed == 3000, "std::condition_variable: 3000 items consumed");
	CHECK(sum == 3000L * 3001 / 2, "std::condition_variable: checksum 4501500");

	std::unique_lock<std::mutex> lk(m);
	auto t0 = steady::now();
	bool timed_out = not_empty.wait_for(lk, 50ms) == std::cv_status::timeout;
	long waited = ms_since(t0);
	CHECK(timed_out && waited >= 50 && waited < 2000,
	      "condition_variable::wait_for 50 ms: timeout after >= 50 ms");
	auto until = std::chrono::system_clock::now() + 50ms;
	timed_out = not_empty.wait_until(lk, until) == std::cv_status::timeout;
	CHECK(timed_out && std::chrono::system_clock::now() >= until,
	      "condition_variable::wait_until system_clock: timeout, not before the deadline");
	CHECK(lk.owns_lock(), "the lock is held after the time-outs");
	lk.unlock();

	bool flag = false;
	std::thread setter([&] {
		std::this_thread::sleep_for(30ms);
		std::lock_guard<std::mutex> g(m);
		flag = true;
		not_empty.notify_all();
	});
	lk.lock();
	bool got = not_empty.wait_for(lk, 5s, [&] { return flag; });
	lk.unlock();
	setter.join();
	CHECK(got, "condition_variable::wait_for with a predicate: woken by notify_all");
}

static void timed_and_recursive_mutex()
{
	std::timed_mutex tm;
	std::atomic<bool> held{ false }, release{ false };
	std::thread holder([&] {
		tm.lock();
		held = true;
		while (!release)
			std::this_thread::sleep_for(1ms);
		tm.unlock();
	});
	while (!held)
		std::this_thread::sleep_for(1ms);
	auto t0 = steady::now();
	bool got = tm.try_lock_for(50ms);
	long waited = ms_since(t0);
	CHECK(!got && waited >= 50 && waited < 2000,
	      "timed_mutex::try_lock_for 50 ms while held: false after >= 50 ms");
	release = true;
	got = tm.try_lock_until(steady::now() + 5s);
	CHECK(got, "timed_mutex::try_lock_until: true once released");
	if (got)
		tm.unlock();
	holder.join();

	std::recursive_mutex rm;
	rm.lock();
	rm.lock();
	bool third = rm.try_lock();
	bool other_got = true;
	std::thread other([&] { other_got = rm.try_lock(); });
	other.join();
	rm.unlock();
	rm.unlock();
	if (third)
		rm.unlock();
	bool other_after = false;
	std::thread other2([&] {
		other_after = rm.try_lock();
		if (other_after)
			rm.unlock();
	});
	other2.join();
	CHECK(third && !other_got && other_after,
	      "recursive_mutex: 3 deep, excludes another thread until fully unlocked");
}

static void shared_mutexes()
{
	std::shared_mutex sm;
	std::atomic<int> readers_in{ 0 }, writers_in{ 0 }, violations{ 0 }, both_inside{ 0 };
	long data[2] = { 0, 0 };
	std::atomic<int> torn{ 0 };
	std::vector<std::thread> ts;

	for (int r = 0; r < 4; r++)
		ts.emplace_back([&] {
			for (int i = 0; i < 300; i++) {
				std::shared_lock<std::shared_mutex> g(sm);
				readers_in++;
				if (writers_in)
					violations++;
				long a = data[0];
				std::this_thread::yield();
				if (data[1] != a)
					torn++;
				readers_in--;
			}
		});
	for (int w = 0; w < 2; w++)
		ts.emplace_back([&] {
			for (int i = 0; i < 100; i++) {
				std::unique_lock<std::shared_mutex> g(sm);
				if (writers_in++ || readers_in)
					violations++;
				data[0]++;
				std::this_thread::yield();
				data[1]++;
				writers_in--;
			}
		});
	for (auto &t : ts)
		t.join();
	CHECK(violations == 0 && torn == 0, "shared_mutex: writers alone, no torn reads");
	CHECK(data[0] == 200 && data[1] == 200, "shared_mutex: 200 writes");

	// Two readers inside at once.
	std::thread a([&] {
		std::shared_lock<std::shared_mutex> g(sm);
		both_inside++;
		for (auto t0 = steady::now(); both_inside < 2 && steady::now() - t0 < 3s;)
			std::this_thread::sleep_for(1ms);
	});
	std::thread b([&] {
		std::shared_lock<std::shared_mutex> g(sm);
		both_inside++;
		for (auto t0 = steady::now(); both_inside < 2 && steady::now() - t0 < 3s;)
			std::this_thread::sleep_for(1ms);
	});
	a.join();
	b.join();
	CHECK(both_inside == 2, "shared_mutex: two readers inside at once");

	std::shared_timed_mutex stm;
	std::atomic<bool> held{ false }, release{ false };
	std::thread writer([&] {
		stm.lock();
		held = true;
		while (!release)
			std::this_thread::sleep_for(1ms);
		stm.unlock();
	});
	while (!held)
		std::this_thread::sleep_for(1ms);
	auto t0 = steady::now();
	bool got = stm.try_lock_shared_for(50ms);
	long waited = ms_since(t0);
	CHECK(!got && waited >= 50 && waited < 2000,
	      "shared_timed_mutex::try_lock_shared_for 50 ms under a writer: false after >= 50 ms");
	release = true;
	got = stm.try_lock_shared_for(5s);
	CHECK(got, "shared_timed_mutex::try_lock_shared_for: true once the writer left");
	if (got)
		stm.unlock_shared();
	writer.join();
}

static void futures_and_once()
{
	std::vector<std::future<long>> fs;
	for (long i = 1; i <= 8; i++)
		fs.push_back(std::async(std::launch::async, [i] {
			std::this_thread::sleep_for(std::chrono::milliseconds(10 * i));
			return i * i;
		}));
	long sum = 0;
	for (auto &f : fs)
		sum += f.get();
	CHECK(sum == 204, "std::async x 8: sum of squares 204");

	std::promise<int> p;
	std::future<int> f = p.get_future();
	auto t0 = steady::now();
	bool timed_out = f.wait_for(50ms) == std::future_status::timeout;
	long waited = ms_since(t0);
	CHECK(timed_out && waited >= 50 && waited < 2000,
	      "future::wait_for 50 ms before set_value: timeout after >= 50 ms");
	std::thread setter([&p] {
		std::this_thread::sleep_for(30ms);
		p.set_value(42);
	});
	CHECK(f.wait_for(5s) == std::future_status::ready && f.get() == 42,
	      "promise::set_value from a thread wakes the future: 42");
	setter.join();

	std::once_flag once;
	std::atomic<int> runs{ 0 };
	int value = 0;
	std::vector<std::thread> ts;
	std::atomic<int> seen_ok{ 0 };
	for (int i = 0; i < 6; i++)
		ts.emplace_back([&] {
			std::call_once(once, [&] {
				runs++;
				std::this_thread::sleep_for(100ms);
				value = 7;
			});
			if (value == 7)
				seen_ok++;
		});
	for (auto &t : ts)
		t.join();
	CHECK(runs == 1 && seen_ok == 6, "std::call_once with a 100 ms initialiser: ran once, all saw it");

	t0 = steady::now();
	std::this_thread::sleep_for(30ms);
	CHECK(ms_since(t0) >= 30, "this_thread::sleep_for 30 ms");
}

int main()
{
	alarm(20);
	mutex_counter();
	condition_variable_queue();
	timed_and_recursive_mutex();
	shared_mutexes();
	futures_and_once();
	return check_done();
}
