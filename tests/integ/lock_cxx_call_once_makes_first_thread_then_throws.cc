// Hazard: the runtime starts inside a std::call_once whose function then
// throws.  Main's function (run by glibc's pthread_once: nothing is green
// yet) creates the process's first thread, which calls call_once on the
// same flag and waits; main's function then throws.  glibc resets the
// flag on the way out and wakes its futex waiters, but the waiter is green
// and waits in greenify's queue: it must be woken too, and then runs its
// own function (it deadlocked).
// Not with shared TLS: libstdc++'s call_once keeps the function it runs in
// a thread_local, which that mode shares between the threads.
/* needs: private-tls */
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <unistd.h>

#include "check.h"

using namespace std::chrono_literals;

static void check(bool ok, const char *what)
{
	CHECK(ok, "%s", what);
}

static std::once_flag flag;
static std::thread *waiter;
static std::atomic<int> mains, waiters;

int main()
{
	alarm(20);
	bool caught = false;
	try {
		std::call_once(flag, [] {
			mains++;
			waiter = new std::thread([] { std::call_once(flag, [] { waiters++; }); });
			std::this_thread::sleep_for(50ms); // the thread waits meanwhile
			throw std::runtime_error("main's function fails");
		});
	} catch (const std::runtime_error &) {
		caught = true;
	}
	waiter->join();
	delete waiter;
	check(caught, "main's function threw to main");
	check(mains == 1 && waiters == 1, "the waiting thread then ran its own function");
	std::call_once(flag, [] { mains++; });
	check(mains == 1, "and the flag is done");
	return check_done();
}
