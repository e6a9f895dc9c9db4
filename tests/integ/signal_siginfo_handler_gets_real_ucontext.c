/* Hazard: an SA_SIGINFO handler reads its third argument. Natively it is
 * the interrupted context: non-NULL, uc_sigmask the thread's mask before
 * the handler (a signal the thread blocks is in it, the handler's own is
 * not), the registers of the thread's stack (the stack pointer between the
 * handler's frame and the thread function's), and what the handler leaves
 * in uc_sigmask is the thread's mask once it returns (sigreturn). The
 * siginfo is the sender's. Checked for a signal sent to a thread that
 * sleeps, one raised by the thread itself, a fault (SIGSEGV from a NULL
 * read, left with siglongjmp), and a plain handler, which gets the same
 * three pointers on Linux (x86_64 and aarch64 pass them always). */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <ucontext.h>
#include <unistd.h>

#include "check.h"

static volatile int got_uc, mask_has_usr2, mask_has_self, sp_in_thread, code_ok, value_ok;
static volatile uintptr_t thread_frame;
static volatile int add_hup;
static sigjmp_buf fault_env;
static volatile int fault_uc_ok, fault_in_thread, fault_addr_ok;
static pthread_t thread;

static uintptr_t sp_of(const ucontext_t *uc)
{
#if defined(__x86_64__)
	return (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
	return (uintptr_t)uc->uc_mcontext.sp;
#else
	(void)uc;
	return 0;
#endif
}

static void on_info(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	char here;

	got_uc = uc != NULL;
	if (!uc)
		return;
	mask_has_usr2 = sigismember(&uc->uc_sigmask, SIGUSR2);
	mask_has_self = sigismember(&uc->uc_sigmask, sig);
	uintptr_t sp = sp_of(uc);
	sp_in_thread = sp > (uintptr_t)&here && sp < thread_frame;
	code_ok = si->si_signo == sig && (si->si_code == SI_TKILL || si->si_code == SI_QUEUE);
	value_ok = si->si_code != SI_QUEUE || si->si_value.sival_int == 42;
	if (add_hup)
		sigaddset(&uc->uc_sigmask, SIGHUP);
}

static void on_segv(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;

	(void)sig;
	fault_uc_ok = uc != NULL && !sigismember(&uc->uc_sigmask, SIGSEGV);
	fault_in_thread = pthread_equal(pthread_self(), thread);
	fault_addr_ok = si->si_code == SEGV_MAPERR && si->si_addr == NULL;
	siglongjmp(fault_env, 1);
}

static volatile int plain_args_ok;

/* Installed without SA_SIGINFO, declared with three arguments. */
static void on_plain(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	plain_args_ok = si != NULL && ctx != NULL; /* the siginfo's content is not copied */
}

static atomic_int sleeping;

static int blocked(int sig)
{
	sigset_t m;

	pthread_sigmask(SIG_BLOCK, NULL, &m);
	return sigismember(&m, sig);
}

static void report(const char *how)
{
	CHECK(got_uc, "%s: the ucontext is not NULL", how);
	CHECK(mask_has_usr2 && !mask_has_self, "%s: uc_sigmask is the thread's mask before", how);
	CHECK(sp_in_thread, "%s: its stack pointer is on the thread's stack, above the handler",
	      how);
	CHECK(code_ok && value_ok, "%s: the siginfo is the sender's", how);
	got_uc = mask_has_usr2 = mask_has_self = sp_in_thread = code_ok = value_ok = 0;
}

static void *thread_main(void *arg)
{
	volatile char frame;
	sigset_t usr2;

	(void)arg;
	thread_frame = (uintptr_t)&frame;
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &usr2, NULL);

	atomic_store(&sleeping, 1);
	while (!got_uc)
		usleep(1000); /* pthread_kill from main lands here */
	report("sent to a sleeping thread");

	raise(SIGUSR1);
	report("raised by the thread");

	union sigval v = {.sival_int = 42};
	pthread_sigqueue(pthread_self(), SIGUSR1, v);
	report("queued by the thread");

	add_hup = 1;
	raise(SIGUSR1);
	add_hup = 0;
	CHECK(blocked(SIGHUP), "a handler's change to uc_sigmask is the mask after it");
	CHECK(!blocked(SIGUSR1), "and the handler's own signal is unblocked again");

	if (sigsetjmp(fault_env, 1) == 0) {
		volatile int *null = NULL;
		(void)*null;
	}
	CHECK(fault_uc_ok && fault_addr_ok, "a fault's handler gets its context and address");
	CHECK(fault_in_thread, "a fault's handler runs in the faulting thread");
	CHECK(!blocked(SIGSEGV), "siglongjmp out of it gives the mask back");

	raise(SIGWINCH);
	CHECK(plain_args_ok, "a handler without SA_SIGINFO gets the two pointers too");
	return NULL;
}

int main(void)
{
	struct sigaction sa = {.sa_sigaction = on_info, .sa_flags = SA_SIGINFO};

	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGUSR1, &sa, NULL));
	sa.sa_sigaction = on_segv;
	MUST(sigaction(SIGSEGV, &sa, NULL));
	struct sigaction plain = {.sa_handler = (void (*)(int))(void (*)(void))on_plain};
	sigemptyset(&plain.sa_mask);
	MUST(sigaction(SIGWINCH, &plain, NULL));
	MUST(pthread_create(&thread, NULL, thread_main, NULL));
	while (!atomic_load(&sleeping))
		sleep_ms(1);
	sleep_ms(20);
	MUST(pthread_kill(thread, SIGUSR1));
	MUST(pthread_join(thread, NULL));
	return check_done();
}
