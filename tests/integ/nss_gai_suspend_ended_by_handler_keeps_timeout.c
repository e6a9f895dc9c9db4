/* Hazard: gai_suspend waiting for a getaddrinfo_a lookup that does not
 * finish, while another thread signals the waiter. Natively a handler
 * ends the wait with EAI_INTR: one without SA_RESTART always, one with
 * SA_RESTART only when gai_suspend has a timeout (the kernel restarts an
 * untimed futex wait, so the wait goes on until a handler without it
 * runs). A timeout that expires ends it with glibc's answer (EAI_SYSTEM
 * in glibc 2.36, EAI_AGAIN in others: printed as the call gives it), not
 * before its time; a list with nothing in progress is answered at once.
 * A ticker thread runs during every wait.
 *
 * The lookup that never finishes, on nothing but this machine: hosts
 * looked up by DNS only (__nss_configure_lookup), and HOSTALIASES naming
 * a FIFO that nobody opens for writing, which glibc's resolver opens
 * (blocking) before it would send any query. Its helper thread stays
 * there until the process exits. */
#define _GNU_SOURCE
#include <netdb.h>
#include <nss.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static atomic_int ticks, stop, handled, second_sent;
static pthread_t waiter;

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		sleep_ms(1);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

static void on_signal(int sig)
{
	(void)sig;
	atomic_fetch_add(&handled, 1);
}

static void handler(int sig, int restart)
{
	struct sigaction sa = {.sa_handler = on_signal, .sa_flags = restart ? SA_RESTART : 0};

	sigemptyset(&sa.sa_mask);
	MUST(sigaction(sig, &sa, NULL));
}

/* 200 ms from now SIGUSR1 for the waiter; with twice, 200 ms later SIGUSR2. */
static void *kicker(void *arg)
{
	sleep_ms(200);
	MUST(pthread_kill(waiter, SIGUSR1));
	if (*(int *)arg) {
		sleep_ms(200);
		atomic_store(&second_sent, 1);
		MUST(pthread_kill(waiter, SIGUSR2));
	}
	return NULL;
}

static const char *name(int r)
{
	switch (r) {
	case 0: return "0";
	case EAI_AGAIN: return "EAI_AGAIN";
	case EAI_SYSTEM: return "EAI_SYSTEM";
	case EAI_INTR: return "EAI_INTR";
	case EAI_ALLDONE: return "EAI_ALLDONE";
	case EAI_INPROGRESS: return "EAI_INPROGRESS";
	default: return "other";
	}
}

/* gai_suspend on list while a kicker signals; timeout_ms < 0: none. */
static int suspend_kicked(const struct gaicb *const *list, int n, int timeout_ms, int twice)
{
	struct timespec to = {timeout_ms / 1000, (timeout_ms % 1000) * 1000000L};
	pthread_t k;
	int r;

	atomic_store(&handled, 0);
	atomic_store(&second_sent, 0);
	MUST(pthread_create(&k, NULL, kicker, &twice));
	r = gai_suspend(list, n, timeout_ms < 0 ? NULL : &to);
	MUST(pthread_join(k, NULL));
	return r;
}

int main(void)
{
	struct gaicb stuck = {.ar_name = "greenifystuckname"};
	struct addrinfo numeric = {.ai_flags = AI_NUMERICHOST};
	struct gaicb done = {.ar_name = "127.0.0.1", .ar_request = &numeric};
	struct gaicb *one[1] = {&stuck}, *finished[1] = {&done}, *nulls[2] = {NULL, NULL};
	const struct gaicb *const *l1 = (const struct gaicb *const *)one;
	char fifo[64];
	pthread_t tick;
	int64_t t0;
	int r, k0;

	alarm(30);
	waiter = pthread_self();
	snprintf(fifo, sizeof(fifo), "/tmp/greenify-hostaliases-%d", (int)getpid());
	unlink(fifo);
	MUST(mkfifo(fifo, 0600));
	MUST(setenv("HOSTALIASES", fifo, 1));
	MUST(__nss_configure_lookup("hosts", "dns"));
	MUST(pthread_create(&tick, NULL, ticker, NULL));

	MUST(getaddrinfo_a(GAI_NOWAIT, one, 1, NULL));
	MUST(getaddrinfo_a(GAI_WAIT, (struct gaicb *[]){&done}, 1, NULL));
	CHECK(gai_error(&done) == 0, "a numeric lookup finishes");
	CHECK(gai_error(&stuck) == EAI_INPROGRESS, "the lookup behind the FIFO is in progress");

	/* The timeout. */
	k0 = atomic_load(&ticks);
	t0 = mono_ns();
	struct timespec to = {0, 300 * 1000000L};
	r = gai_suspend(l1, 1, &to);
	printf("timeout of 300 ms: %s\n", name(r));
	CHECK(r != 0 && r != EAI_INTR, "the timeout ends the wait with an error");
	CHECK(mono_ns() - t0 >= MS(250), "not before its time");
	CHECK(atomic_load(&ticks) > k0, "another thread ran meanwhile");

	/* Nothing to wait for: glibc's answer at once (printed). */
	printf("only finished requests: %s\n",
	       name(gai_suspend((const struct gaicb *const *)finished, 1, NULL)));
	printf("a list of NULLs: %s\n",
	       name(gai_suspend((const struct gaicb *const *)nulls, 2, NULL)));

	/* Handlers without SA_RESTART, untimed and timed. */
	handler(SIGUSR1, 0);
	handler(SIGUSR2, 0);
	k0 = atomic_load(&ticks);
	r = suspend_kicked(l1, 1, -1, 0);
	CHECK(r == EAI_INTR && atomic_load(&handled) == 1,
	      "a handler ends an untimed gai_suspend: %s", name(r));
	CHECK(atomic_load(&ticks) > k0, "another thread ran meanwhile");
	r = suspend_kicked(l1, 1, 10000, 0);
	CHECK(r == EAI_INTR && atomic_load(&handled) == 1,
	      "a handler ends a gai_suspend with a timeout: %s", name(r));

	/* SA_RESTART: a timed wait ends, an untimed one goes on until a
	 * handler without it runs. */
	handler(SIGUSR1, 1);
	r = suspend_kicked(l1, 1, 10000, 0);
	CHECK(r == EAI_INTR && atomic_load(&handled) == 1,
	      "an SA_RESTART handler ends a gai_suspend with a timeout: %s", name(r));
	r = suspend_kicked(l1, 1, -1, 1);
	CHECK(r == EAI_INTR && atomic_load(&second_sent) == 1 && atomic_load(&handled) == 2,
	      "an untimed gai_suspend goes on after an SA_RESTART handler, ends at the next: %s",
	      name(r));

	CHECK(gai_error(&stuck) == EAI_INPROGRESS, "the lookup is still in progress");
	unlink(fifo);
	atomic_store(&stop, 1);
	MUST(pthread_join(tick, NULL));
	return check_done();
}
