/* needs: private-tls */
// Hazard: glibc's thrd_exit is pthread_exit (its __pthread_exit): the
// thread leaves by a forced unwind (abi::__forced_unwind), so its cleanup
// handlers and every frame's local destructors run, a catch (...) that
// rethrows and a catch of abi::__forced_unwind see the unwind go by, then
// its thread_local objects are destroyed, then its tss destructors run;
// a thrd_exit that just ended the green thread would skip all of that.
// 6 threads made by thrd_create call three nested functions, each holding
// a guard object; the middle one wraps the call in catch (...) { ...;
// throw; }, the outer one catches abi::__forced_unwind and rethrows, and
// the innermost pushes a cleanup handler and calls thrd_exit(100 + i),
// after a sleep (so threads are switched in and out meanwhile):
//   each logs C (the cleanup handler), 3, R (catch ...), 2, F (catch
//   __forced_unwind), 1, T (its thread_local), D (its tss destructor), in
//   that order, and nothing after thrd_exit;
//   thrd_join gets 100 + i.
// And a thread that calls thrd_exit straight from its start function, with
// a cleanup handler and a guard there: C, then the guard, then T.

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <cxxabi.h>
#include <string>
#include <thread>

#include <pthread.h>
#include <threads.h>

static int failures;

static void check(bool ok, const std::string &what)
{
	std::printf("%s %s\n", what.c_str(), ok ? "yes" : "NO");
	std::fflush(stdout);
	if (!ok) {
		failures++;
		std::fprintf(stderr, "check failed: %s\n", what.c_str());
	}
}

enum { N = 6 };

// What happened in one thread, in order.
struct Trace {
	char log[16];
	std::atomic<int> n{ 0 };
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
static tss_t key;

static void tss_dtor(void *v)
{
	static_cast<Trace *>(v)->add('D');
}

static void cleanup(void *v)
{
	static_cast<Trace *>(v)->add('C');
}

static void innermost(Trace *t)
{
	Guard g{ t, '3' };
	pthread_cleanup_push(cleanup, t);
	std::this_thread::sleep_for(std::chrono::milliseconds(1 + t->index % 3));
	thrd_exit(100 + t->index);
	pthread_cleanup_pop(0);
}

static void middle(Trace *t)
{
	Guard g{ t, '2' };
	try {
		innermost(t);
	} catch (...) {
		t->add('R');
		throw;
	}
}

static void outer(Trace *t)
{
	Guard g{ t, '1' };
	try {
		middle(t);
	} catch (abi::__forced_unwind &) {
		t->add('F');
		throw;
	}
}

static int run(void *arg)
{
	Trace *t = static_cast<Trace *>(arg);

	tls_note.t = t;
	if (tss_set(key, t) != thrd_success)
		return -1;
	outer(t);
	t->add('!'); // thrd_exit returned
	return -2;
}

static int run_flat(void *arg)
{
	Trace *t = static_cast<Trace *>(arg);

	tls_note.t = t;
	Guard g{ t, 'g' };
	pthread_cleanup_push(cleanup, t);
	thrd_exit(55);
	pthread_cleanup_pop(0);
	return -2;
}

int main()
{
	static Trace traces[N], flat;
	thrd_t th[N], f;

	alarm(20);
	check(tss_create(&key, tss_dtor) == thrd_success, "tss_create");
	for (int i = 0; i < N; i++) {
		traces[i].index = i;
		check(thrd_create(&th[i], run, &traces[i]) == thrd_success,
		      "thrd_create " + std::to_string(i));
	}
	for (int i = 0; i < N; i++) {
		int res = 0;
		check(thrd_join(th[i], &res) == thrd_success && res == 100 + i,
		      "thread " + std::to_string(i) + ": thrd_join gets " + std::to_string(100 + i));
		traces[i].log[std::min(traces[i].n.load(), int(sizeof traces[i].log) - 1)] = 0;
		check(std::strcmp(traces[i].log, "C3R2F1TD") == 0,
		      "thread " + std::to_string(i) + ": unwound as C3R2F1TD, got " +
			      traces[i].log);
	}
	check(thrd_create(&f, run_flat, &flat) == thrd_success, "thrd_create flat");
	int res = 0;
	check(thrd_join(f, &res) == thrd_success && res == 55, "flat: thrd_join gets 55");
	flat.log[std::min(flat.n.load(), int(sizeof flat.log) - 1)] = 0;
	check(std::strcmp(flat.log, "CgT") == 0,
	      std::string("flat: thrd_exit from the start function: CgT, got ") + flat.log);
	std::printf(failures ? "%d checks FAILED\n" : "all checks passed\n", failures);
	return failures != 0;
}
