/* GREENIFY_STATS=1: one summary line at exit. os_threads counts the OS
 * threads the program's threads ran on: 1 unless a green thread was ever
 * seen off the runtime thread, which would be a bug. */
#include <stdio.h>
#include <sys/resource.h>

#include "config.h"
#include "kwait.h"
#include "log.h"
#include "monitor.h"
#include "preempt.h"
#include "sched.h"

__attribute__((destructor)) static void print_stats(void)
{
	struct gr_stack_stats s;
	struct rusage ru;
	char line[384];
	int n;

	gr_monitor_exit();
	if (!gr_config.stats)
		return;
	gr_stack_stats(&s);
	getrusage(RUSAGE_SELF, &ru);
	n = snprintf(line, sizeof(line),
		     "greenify: stats threads=%llu peak_alive=%llu switches=%llu "
		     "peak_stack_kib=%zu peak_rss_kib=%ld stack_mappings=%zu "
		     "guards=%u/%u/%u prepared=%u os_threads=%d preempted=%llu unsafe=%llu "
		     "kwaits=%llu/%llu\n",
		     (unsigned long long)gr_rt.created, (unsigned long long)gr_rt.peak_live,
		     (unsigned long long)gr_rt.switches, s.peak >> 10, ru.ru_maxrss, s.mappings,
		     s.madvise_guards, s.mprotect_guards, s.canaries, s.prepared,
		     1 + (gr_rt.foreign_runs > 0), (unsigned long long)gr_preempt_stats.preempted,
		     (unsigned long long)gr_preempt_stats.unsafe,
		     (unsigned long long)gr_kwait_stats.hub,
		     (unsigned long long)__atomic_load_n(&gr_kwait_stats.helper, __ATOMIC_RELAXED));
	if (n > 0)
		gr_write_stderr(line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}
