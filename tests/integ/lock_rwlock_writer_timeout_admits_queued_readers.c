/* Hazard: on a PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP lock that
 * readers hold, a waiting writer makes new readers queue behind it; when
 * that writer's timed wrlock gives up (ETIMEDOUT), the queued readers must
 * get in at once, beside the readers that hold the lock, as glibc's timed
 * wrlock wakes them when it withdraws (glibc's nptl/tst-rwlock15). They
 * stayed queued until the last reader's unlock: here, where main keeps its
 * read lock, for good (greenify's deadlock report, or a hang).
 *
 * main read-locks; a writer waits with a 300 ms deadline; a reader sees
 * tryrdlock fail (EBUSY: the writer waits) and blocks in rdlock; once the
 * writer timed out, the reader must have its lock while main still holds
 * its own. The joins have a generous guard so that the old behaviour fails
 * with NO instead of hanging. */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

static pthread_rwlock_t rw = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
static int writer_err = -1, reader_busy, reader_err = -1;

static void *writer(void *arg)
{
	struct timespec ts = deadline_in(CLOCK_REALTIME, MS(300));

	(void)arg;
	writer_err = pthread_rwlock_timedwrlock(&rw, &ts);
	return NULL;
}

static void *reader(void *arg)
{
	int e;

	(void)arg;
	/* Until the writer waits (then tryrdlock says EBUSY), at most 10 s. */
	for (int i = 0; i < 10000; i++) {
		e = pthread_rwlock_tryrdlock(&rw);
		if (e == EBUSY) {
			reader_busy = 1;
			break;
		}
		if (e != 0)
			return NULL;
		MUST(pthread_rwlock_unlock(&rw));
		sleep_ms(1);
	}
	reader_err = pthread_rwlock_rdlock(&rw);
	if (reader_err == 0)
		MUST(pthread_rwlock_unlock(&rw));
	return NULL;
}

static int join_guarded(pthread_t t)
{
	struct timespec ts = deadline_in(CLOCK_REALTIME, MS(20000));

	return pthread_timedjoin_np(t, NULL, &ts);
}

int main(void)
{
	pthread_t w, r;

	MUST(pthread_rwlock_rdlock(&rw));
	MUST(pthread_create(&w, NULL, writer, NULL));
	MUST(pthread_create(&r, NULL, reader, NULL));

	CHECK_ERR(join_guarded(w), 0, "writer joined");
	CHECK_ERR(writer_err, ETIMEDOUT, "timedwrlock behind a reader");
	CHECK_ERR(join_guarded(r), 0, "reader joined while main still reads");
	CHECK(reader_busy, "tryrdlock behind the waiting writer was EBUSY");
	CHECK_ERR(reader_err, 0, "queued rdlock once the writer gave up");

	CHECK_ERR(pthread_rwlock_unlock(&rw), 0, "main's unlock");
	CHECK_ERR(pthread_rwlock_trywrlock(&rw), 0, "trywrlock of the free lock");
	MUST(pthread_rwlock_unlock(&rw));
	return check_done();
}
