/* Hazard: the calls that take a pthread_t and act on its OS thread, given
 * a thread that has finished but is not joined (the handle is still
 * valid). glibc's scheduling and CPU-clock calls find no kernel tid
 * (ESRCH), its affinity calls pass tid 0 to the kernel (the caller: 0),
 * its name calls open the thread's /proc entry, which is gone (ENOENT,
 * after the ERANGE check), and pthread_cancel answers 0. A live thread's
 * calls all succeed. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include "check.h"

static atomic_int release;

static void *quick(void *arg)
{
	return arg;
}

static void *lingers(void *arg)
{
	while (!atomic_load(&release))
		sleep_ms(5);
	return arg;
}

static void probe(pthread_t t, const char *who, int sched_err, int name_err)
{
	struct sched_param sp = {0};
	cpu_set_t cs;
	clockid_t clk;
	char name[16];
	int pol;

	CHECK_ERR(pthread_getschedparam(t, &pol, &sp), sched_err, "%s getschedparam", who);
	sp.sched_priority = 0;
	CHECK_ERR(pthread_setschedparam(t, SCHED_OTHER, &sp), sched_err, "%s setschedparam", who);
	CHECK_ERR(pthread_setschedprio(t, 0), sched_err, "%s setschedprio", who);
	CHECK_ERR(pthread_getcpuclockid(t, &clk), sched_err, "%s getcpuclockid", who);
	CHECK_ERR(pthread_getaffinity_np(t, sizeof cs, &cs), 0, "%s getaffinity_np", who);
	CHECK_ERR(pthread_setaffinity_np(t, sizeof cs, &cs), 0, "%s setaffinity_np", who);
	CHECK_ERR(pthread_setname_np(t, "0123456789abcdef"), ERANGE, "%s setname_np too long", who);
	CHECK_ERR(pthread_getname_np(t, name, 8), ERANGE, "%s getname_np short buffer", who);
	CHECK_ERR(pthread_setname_np(t, "renamed"), name_err, "%s setname_np", who);
	CHECK_ERR(pthread_getname_np(t, name, sizeof name), name_err, "%s getname_np", who);
}

int main(void)
{
	pthread_t done, live;

	MUST(pthread_create(&done, NULL, quick, NULL));
	MUST(pthread_create(&live, NULL, lingers, NULL));
	sleep_ms(100); /* done has finished (not joined) */
	probe(done, "finished", ESRCH, ENOENT);
	CHECK_ERR(pthread_cancel(done), 0, "finished cancel");
	probe(live, "live", 0, 0);
	atomic_store(&release, 1);
	MUST(pthread_join(live, NULL));
	MUST(pthread_join(done, NULL));
	return check_done();
}
