/* Stack overflow reports. A green stack that overflows runs into its guard
 * page; the SIGSEGV handler, on an alternate signal stack (the faulting
 * stack has no room left), recognises a guard page of the pool and names the
 * thread before the process dies of the signal as it would natively. Faults
 * that are not ours go to whatever handler was there before. */
#include "guard.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "log.h"
#include "real.h"
#include "stack.h"
#include "thread.h"

#define ALT_STACK (64 * 1024)

static struct sigaction previous;

static void append_report(char *buf, size_t cap, size_t *len, const struct gr_thread *t,
			  size_t stack_size)
{
	gr_buf_str(buf, cap, len, "greenify: stack overflow in green thread ");
	gr_buf_num(buf, cap, len, t ? t->id : 0);
	gr_buf_str(buf, cap, len, " \"");
	gr_buf_str(buf, cap, len, t ? t->name : "?");
	gr_buf_str(buf, cap, len, "\" (stack ");
	gr_buf_num(buf, cap, len, stack_size >> 10);
	gr_buf_str(buf, cap, len, " KiB; raise GREENIFY_STACK_SIZE)\n");
}

void gr_report_overflow(const struct gr_thread *t)
{
	char buf[256];
	size_t len = 0;

	append_report(buf, sizeof(buf), &len, t, t->stack.size);
	gr_write_stderr(buf, len);
	abort();
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	struct gr_stack st;
	int in_guard = 0;

	if (si->si_code > 0 && gr_stack_find(si->si_addr, &st, &in_guard) && in_guard) {
		const struct gr_thread *t = gr_thread_at(&st);
		char buf[256];
		size_t len = 0;

		if (t->magic != GR_MAGIC)
			t = NULL;
		append_report(buf, sizeof(buf), &len, t, st.size);
		gr_write_stderr(buf, len);
		gr_real.signal(SIGSEGV, SIG_DFL);
		return; /* the access faults again and the default action kills */
	}
	if (previous.sa_flags & SA_SIGINFO) {
		if (previous.sa_sigaction) {
			previous.sa_sigaction(sig, si, uc);
			__asm__ volatile("" ::: "memory"); /* no tail call (signal.c) */
			return;
		}
	} else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
		previous.sa_handler(sig);
		__asm__ volatile("" ::: "memory");
		return;
	}
	/* No handler of the program's: die as the program would. A fault
	 * repeats on return; a sent signal has to be sent again. */
	gr_real.signal(SIGSEGV, SIG_DFL);
	if (si->si_code <= 0)
		gr_real.raise(SIGSEGV);
}

void gr_guard_init(void)
{
	stack_t ss = {0};
	struct sigaction sa;

	ss.ss_sp = mmap(NULL, ALT_STACK, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (ss.ss_sp == MAP_FAILED) {
		gr_log(GR_LOG_WARN, "no alternate signal stack; stack overflows will not be named");
		return;
	}
	ss.ss_size = ALT_STACK;
	if (sigaltstack(&ss, NULL) < 0)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	gr_real.sigaction(SIGSEGV, &sa, &previous);
}
