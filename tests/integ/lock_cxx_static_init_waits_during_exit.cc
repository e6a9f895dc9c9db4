// Hazard: a function-local static that one thread is still constructing
// when the process exits, reached again by an exit handler.  The handler
// must wait for the construction, as natively (libstdc++'s
// __cxa_guard_acquire waits on the guard once __libc_single_threaded is
// false); taken for a recursive initialisation it throws
// recursive_init_error and the process aborts.  The static's destructor,
// registered during exit, runs after the handler.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include <unistd.h>

using namespace std::chrono_literals;

static std::atomic<int> inside, constructions;
static std::atomic<bool> handler_done;

struct Slow {
	int value;
	Slow() : value(42)
	{
		constructions++;
		inside = 1;
		std::this_thread::sleep_for(100ms);
		std::printf("constructed\n");
	}
	~Slow()
	{
		std::printf("destroyed after the exit handler %s\n", handler_done ? "yes" : "NO");
	}
};

static Slow &slow()
{
	static Slow s;
	return s;
}

static void at_exit()
{
	int v = slow().value;
	std::printf("exit handler: the static's value is 42 %s\n", v == 42 ? "yes" : "NO");
	std::printf("exit handler: constructed once %s\n", constructions == 1 ? "yes" : "NO");
	handler_done = true;
}

int main()
{
	alarm(20);
	std::atexit(at_exit);
	std::thread([] { slow(); }).detach();
	while (!inside)
		std::this_thread::sleep_for(1ms);
	std::printf("main returns while the static is being constructed\n");
	return 0;
}
