// Hazard: the runtime starts inside a function-local static's constructor.
// The constructor (entered while the process had one thread, so libstdc++
// took the guard the single-threaded way) creates the first thread, which
// reaches the same static and must wait for the construction to end, then
// see the value; greenify turns __libc_single_threaded false before that
// thread runs, so the guard's release wakes it (a green futex wait).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include <unistd.h>

using namespace std::chrono_literals;

struct Slow;
static Slow &slow();
static std::thread *reader;
static std::atomic<int> constructions, seen;

struct Slow {
	int value;
	Slow() : value(0)
	{
		constructions++;
		reader = new std::thread([] { seen = slow().value; });
		std::this_thread::sleep_for(50ms);
		value = 42;
	}
};

static Slow &slow()
{
	static Slow s;
	return s;
}

int main()
{
	alarm(20);
	int v = slow().value;
	reader->join();
	delete reader;
	std::printf("main sees the constructed value %s\n", v == 42 ? "yes" : "NO");
	std::printf("the thread made in the constructor waited for it %s\n", seen == 42 ? "yes" : "NO");
	std::printf("constructed once %s\n", constructions == 1 ? "yes" : "NO");
	return !(v == 42 && seen == 42 && constructions == 1);
}
