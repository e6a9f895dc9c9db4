/* link: -lm */
/* run-also: disable */
/* Hazard: the floating-point control state (rounding mode, exception
 * masks) is per thread natively; green threads share one OS thread, so each
 * switch must carry it: the SSE unit's MXCSR and, on x86_64, the x87 control
 * word, which the switch carries only once told it may change (the fenv
 * hooks tell it). A hook that forgot to tell it is seen only when it is the
 * first fenv call of the process, so each case runs in a fork child of its
 * own made before the parent calls any (the environments the cases install
 * come from a helper child, through shared memory). In each case thread A
 * changes its state with one function and thread B keeps its own, both
 * switching 20 times (sleeps and yields), checking after each switch their
 * rounding as fegetround says, as SSE double and x87 long double arithmetic
 * round (1 + 2^-60, 1 + 2^-120), and their enabled exceptions as fegetexcept
 * (and, on x86_64, MXCSR) says:
 *   fesetround(FE_UPWARD), fesetenv and feupdateenv of an upward
 *     environment: A rounds upward, B to nearest;
 *   feenableexcept(FE_DIVBYZERO): A has it enabled, B does not, and B's
 *     1.0 / 0.0 gives inf (with A's masks it would die of SIGFPE);
 *   feholdexcept and fedisableexcept, both threads made by a main that
 *     enabled FE_DIVBYZERO (a new thread takes its creator's state): A has
 *     nothing enabled (its 1.0 / 0.0 gives inf), B still has it; A's
 *     feupdateenv of the held environment gives it back.
 * Division by zero is made in SSE only: x87 exception flags are shared by
 * green threads, and a pending x87 flag with its mask cleared would trap in
 * the other thread. Each child exits 0 when every check passed. A machine
 * that cannot enable exception traps (most aarch64 cores, qemu) says so
 * instead of running the three mask cases. */
#define _GNU_SOURCE
#include <fenv.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

/* Made by the helper child: an upward environment, one with FE_DIVBYZERO
 * enabled, and whether this machine can enable it at all (most aarch64
 * cores and qemu cannot: feenableexcept answers -1). */
struct envs {
	fenv_t up, dz;
	int traps;
};
static struct envs *envs;

static volatile double one = 1.0, zero = 0.0, tiny = 0x1p-60;
static volatile long double one_l = 1.0L, tiny_l = 0x1p-120L; /* x87 or quad */

/* How SSE arithmetic rounds now: FE_UPWARD if 1 + tiny is above 1, else
 * FE_TONEAREST (the cases use only these two). */
static int sse_rounding(void)
{
	volatile double r = one + tiny;

	return r > one ? FE_UPWARD : FE_TONEAREST;
}

static int x87_rounding(void)
{
	volatile long double r = one_l + tiny_l;

	return r > one_l ? FE_UPWARD : FE_TONEAREST;
}

/* FE_DIVBYZERO when MXCSR has it unmasked (x86_64); elsewhere what
 * fegetexcept says (one control register). */
static int sse_enabled(void)
{
#if defined(__x86_64__)
	return (__builtin_ia32_stmxcsr() & (1u << 9)) ? 0 : FE_DIVBYZERO;
#else
	return fegetexcept() & FE_DIVBYZERO;
#endif
}

struct want {
	const char *who;
	int round, enabled;
	int bad; /* switches after which something differed */
};

static void look(struct want *w)
{
	int ok = fegetround() == w->round && sse_rounding() == w->round &&
		 x87_rounding() == w->round && (fegetexcept() & FE_ALL_EXCEPT) == w->enabled &&
		 sse_enabled() == (w->enabled & FE_DIVBYZERO);

	if (!w->enabled) {
		volatile double q = one / zero; /* dies of SIGFPE if enabled */
		ok &= isinf(q);
	}
	if (!ok) {
		w->bad++;
		fprintf(stderr, "%s: round %#x/%#x/%#x enabled %#x/%#x, want %#x %#x\n", w->who,
			fegetround(), sse_rounding(), x87_rounding(), fegetexcept(), sse_enabled(),
			w->round, w->enabled);
	}
}

static void switches(struct want *w)
{
	for (int i = 0; i < 20; i++) {
		if (i % 2)
			sched_yield();
		else
			sleep_ms(1);
		look(w);
	}
}

enum fn { SETROUND, SETENV, UPDATEENV, ENABLE, HOLD, DISABLE };

static const char *const fn_name[] = { "fesetround",   "fesetenv",	"feupdateenv",
				       "feenableexcept", "feholdexcept", "fedisableexcept" };

struct run {
	enum fn fn;
	int rc;		   /* what the function returned */
	int back_ok;	   /* HOLD: feupdateenv gave the held state back */
	struct want a, b;
};

static void *thread_a(void *arg)
{
	struct run *r = arg;
	fenv_t held;

	switch (r->fn) {
	case SETROUND:
		r->rc = fesetround(FE_UPWARD);
		break;
	case SETENV:
		r->rc = fesetenv(&envs->up);
		break;
	case UPDATEENV:
		r->rc = feupdateenv(&envs->up);
		break;
	case ENABLE:
		r->rc = feenableexcept(FE_DIVBYZERO) == -1;
		break;
	case HOLD:
		r->rc = feholdexcept(&held);
		break;
	case DISABLE:
		r->rc = fedisableexcept(FE_DIVBYZERO) == -1;
		break;
	}
	look(&r->a);
	switches(&r->a);
	if (r->fn == HOLD) {
		/* The held division by zero's flag must not be raised again
		 * with the exception enabled. */
		feclearexcept(FE_ALL_EXCEPT);
		r->back_ok = feupdateenv(&held) == 0;
		r->a.enabled = FE_DIVBYZERO;
		look(&r->a);
		switches(&r->a);
	}
	return NULL;
}

static void *thread_b(void *arg)
{
	struct run *r = arg;

	look(&r->b);
	switches(&r->b);
	return NULL;
}

static int run_case(enum fn fn)
{
	struct run r = { .fn = fn };
	int inherit = fn == HOLD || fn == DISABLE;
	pthread_t a, b;

	r.a = (struct want){ "A", fn <= UPDATEENV ? FE_UPWARD : FE_TONEAREST,
			     fn == ENABLE ? FE_DIVBYZERO : 0, 0 };
	r.b = (struct want){ "B", FE_TONEAREST, inherit ? FE_DIVBYZERO : 0, 0 };
	if (inherit && fesetenv(&envs->dz) != 0)
		return 2;
	MUST(pthread_create(&b, NULL, thread_b, &r));
	MUST(pthread_create(&a, NULL, thread_a, &r));
	MUST(pthread_join(a, NULL));
	MUST(pthread_join(b, NULL));
	CHECK(r.rc == 0, "%s: it succeeded", fn_name[fn]);
	CHECK(r.a.bad == 0, "%s: A kept its own state across every switch", fn_name[fn]);
	CHECK(r.b.bad == 0, "%s: B kept its own state across every switch", fn_name[fn]);
	if (fn == HOLD)
		CHECK(r.back_ok, "feholdexcept: feupdateenv gave A the held state back");
	struct want m = { "main", FE_TONEAREST, inherit ? FE_DIVBYZERO : 0, 0 };
	look(&m);
	CHECK(m.bad == 0, "%s: main's state is its own after the threads", fn_name[fn]);
	return check_done();
}

int main(void)
{
	pid_t pid;
	int st;

	alarm(20);
	envs = mmap(NULL, sizeof(*envs), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (envs == MAP_FAILED)
		return 2;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int bad = fesetround(FE_UPWARD) != 0 || fegetenv(&envs->up) != 0 ||
			  fesetenv(FE_DFL_ENV) != 0;
		envs->traps = feenableexcept(FE_DIVBYZERO) != -1;
		if (envs->traps)
			bad |= fegetenv(&envs->dz) != 0;
		_exit(bad);
	}
	MUST(pid < 0);
	MUST(waitpid(pid, &st, 0) != pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the helper made the environments");

	for (enum fn fn = SETROUND; fn <= DISABLE; fn++) {
		if (fn >= ENABLE && !envs->traps) {
			printf("%s: this machine has no exception traps to enable\n", fn_name[fn]);
			continue;
		}
		fflush(stdout);
		pid = fork();
		if (pid == 0)
			exit(run_case(fn));
		MUST(pid < 0);
		MUST(waitpid(pid, &st, 0) != pid);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: its child passed", fn_name[fn]);
		if (WIFSIGNALED(st))
			fprintf(stderr, "%s: the child died of signal %d\n", fn_name[fn],
				WTERMSIG(st));
	}
	return check_done();
}
