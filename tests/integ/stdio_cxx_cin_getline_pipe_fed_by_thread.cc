// Hazard: C++ iostreams on a pipe whose writer is another thread of the
// process. std::cin, synchronised with stdio (the default), reads through
// libstdc++'s stdio_sync_filebuf, which calls getc, ungetc and fread on
// stdin; an fd-based __gnu_cxx::stdio_filebuf reads the fd with read().
// Here stdin is a pipe fed in pieces, each once a ticker thread has moved
// on: std::getline and operator>> must park only their thread and give
// the native results (whole lines, numbers, then EOF); std::cout prints
// through stdio to the runner's file.
#include <atomic>
#include <cstdio>
#include <cstring>
#include <ext/stdio_filebuf.h>
#include <iostream>
#include <string>
#include <thread>
#include <unistd.h>

static std::atomic<int> ticks{0}, stop{0};
static int fails;

static void check(bool ok, const char *what)
{
	std::cout << what << (ok ? " yes" : " NO") << '\n';
	if (!ok)
		fails++;
}

static void piece(int fd, const char *s)
{
	int t = ticks.load();

	while (ticks.load() < t + 2)
		usleep(1000);
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		abort();
}

int main()
{
	int p[2], q[2];

	if (pipe(p) || pipe(q) || dup2(p[0], 0) != 0)
		return 2;
	close(p[0]);
	std::thread ticker([] {
		while (!stop.load()) {
			ticks++;
			usleep(1000);
		}
	});
	std::thread feeder([&] {
		piece(p[1], "first li");
		piece(p[1], "ne\nsecond line\n12");
		piece(p[1], "3 45");
		piece(p[1], "6\nrest");
		close(p[1]);
		piece(q[1], "through ");
		piece(q[1], "read()\nand more\n");
		close(q[1]);
	});

	std::string s;
	int a = 0, b = 0;
	check(std::getline(std::cin, s) && s == "first line", "getline(cin) joins two pieces");
	check(std::getline(std::cin, s) && s == "second line", "getline(cin) second line");
	check(bool(std::cin >> a >> b) && a == 123 && b == 456, "cin >> reads 123 456");
	check(std::getline(std::cin, s) && s.empty(), "getline(cin) the rest of that line");
	check(std::getline(std::cin, s) && s == "rest" && std::cin.eof(),
	      "getline(cin) the last line, EOF");
	check(!std::getline(std::cin, s), "then nothing");

	__gnu_cxx::stdio_filebuf<char> fb(q[0], std::ios::in);
	std::istream is(&fb);
	check(std::getline(is, s) && s == "through read()", "getline on an fd filebuf");
	check(std::getline(is, s) && s == "and more", "and its second line");
	check(!std::getline(is, s) && is.eof(), "then EOF");

	feeder.join();
	check(ticks.load() >= 12, "the ticker ran meanwhile");
	stop = 1;
	ticker.join();
	std::cout << (fails ? "checks FAILED" : "all checks passed") << std::endl;
	return fails != 0;
}
